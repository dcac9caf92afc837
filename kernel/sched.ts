// The scheduler: N virtual CPUs and three classes, picked in this order:
//   real-time  SCHED_FIFO / SCHED_RR, priority 1..99: the highest priority runs; FIFO until it blocks or yields,
//              RR rotates among equal priorities every rrSliceMs;
//   fair       SCHED_OTHER, CFS as in Linux: vruntime = runtime * 1024 / weight(nice); the least vruntime runs
//              next; a process that has used its slice (targetLatency / nr_runnable, at least minGranularity)
//              while one with less vruntime waits is preempted at its next syscall; new processes start at
//              min_vruntime; a waking sleeper is placed no earlier than min_vruntime - latency/2;
//   idle       SCHED_IDLE: runs only when no real-time or fair process is runnable.
// A process runs userland code only while it holds a virtual CPU; every other runnable process stays parked in
// its syscall until `dispatch` answers it. The fair and idle queues are binary heaps keyed by (vruntime, tie);
// nothing here scans a queue linearly. The core is pure: it knows tasks only by their SchedEntity, so tests and
// benchmarks drive it without workers.

import { SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR } from '../abi/syscalls.js';
import { VruntimeHeap } from './runqueue.js';


export type Policy = typeof SCHED_OTHER | typeof SCHED_FIFO | typeof SCHED_RR | typeof SCHED_IDLE;

export const NICE_MIN = -20;
export const NICE_MAX = 19;
const NICE_0_WEIGHT = 1024;
/** Linux's sched_prio_to_weight, nice -20..19: each step changes the CPU share by about 10%. */
export const NICE_TO_WEIGHT: readonly number[] = [
  88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
  9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
  1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
  110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
];

export function weightOf(nice: number): number {
  return NICE_TO_WEIGHT[Math.min(NICE_MAX, Math.max(NICE_MIN, nice)) - NICE_MIN]!;
}

type QueueName = 'rt' | 'fair' | 'idle' | null;

/** Per-process scheduling state. Times in nanoseconds. */
export interface SchedEntity {
  policy: Policy;
  /** Real-time priority 1..99 (0 for the other classes). */
  rtPriority: number;
  nice: number;
  weight: number;
  vruntime: number;
  runtimeNs: number;
  waitNs: number;
  /** When the process last got a CPU, was last charged, or became runnable (for wait time). */
  since: number;
  /** When the current slice began (dispatch). */
  sliceStart: number;
  switchesVoluntary: number;
  switchesInvoluntary: number;
  cpu: number;
  queue: QueueName;
  /** In the fair or idle heap, and the slot its entry names there (see VruntimeHeap). */
  inHeap: boolean;
  heapSlot: number;
  /** Tie-break among equal vruntimes: enqueue order, or a seeded random key in deterministic mode. */
  tie: number;
}

export function newEntity(): SchedEntity {
  return {
    policy: SCHED_OTHER, rtPriority: 0, nice: 0, weight: NICE_0_WEIGHT, vruntime: 0, runtimeNs: 0, waitNs: 0,
    since: 0, sliceStart: 0, switchesVoluntary: 0, switchesInvoluntary: 0, cpu: -1, queue: null, inHeap: false, heapSlot: -1, tie: 0,
  };
}

export interface Task {
  readonly pid: number;
  readonly sched: SchedEntity;
}

export interface SchedParams {
  cpus: number;
  targetLatencyMs: number;
  minGranularityMs: number;
  rrSliceMs: number;
}

/**
 * Why a task is queued: new; waking from a block; preempted by a better task ('preempt': a real-time task keeps
 * its place at the head of its level, as sched(7) says); out of slice ('expired': SCHED_RR goes to the tail);
 * or it yielded or had its policy changed ('yield': the tail).
 */
export type EnqueueReason = 'new' | 'wake' | 'preempt' | 'expired' | 'yield';

/** Why a running task should give up its CPU: a better class or priority waits, or its slice is used up. */
export type PreemptReason = 'priority' | 'slice';

/**
 * Why a task got a CPU: what it was compared against, so a pick can be explained after the fact. One record is
 * reused for every pick: read it inside the dispatch callback, do not keep it.
 */
export interface Pick<T extends Task> {
  task: T;
  cpu: number;
  cls: 'rt' | 'fair' | 'idle';
  vruntime: number;
  minVruntime: number;
  /** The next candidate in the same class (its vruntime, or priority for real-time), if any; computed only when
   *  the scheduler was told someone wants explanations (it costs cache misses on a large runqueue). */
  runnerUp: number | null;
  runnable: number;
}

/** Runqueue order: less vruntime first, then the tie-break. */
export function before(a: Task, b: Task): boolean {
  const d = a.sched.vruntime - b.sched.vruntime;
  return d < 0 || (d === 0 && a.sched.tie < b.sched.tie);
}

const RT_LEVELS = 100;

export class Scheduler<T extends Task> {
  private readonly fair = new VruntimeHeap<T>();
  private readonly idle = new VruntimeHeap<T>();
  /** One FIFO per real-time priority; `rtBits` marks the non-empty ones so the highest is found in O(1) words. */
  private readonly rt: T[][] = Array.from({ length: RT_LEVELS }, () => []);
  private readonly rtBits = new Uint32Array(Math.ceil(RT_LEVELS / 32));
  private rtCount = 0;
  private readonly cpus: (T | null)[];
  private runningCount = 0;
  private readonly latencyNs: number;
  private readonly granularityNs: number;
  private readonly rrSliceNs: number;
  private seq = 0;
  /** Monotonic floor of vruntime among runnable fair tasks. */
  minVruntime = 0;

  constructor(
    params: SchedParams,
    /** Gives a task the CPU: the kernel answers its parked call. */
    private readonly dispatch: (pick: Pick<T>) => void,
    /** Tie-break keys: enqueue order by default; a seeded generator makes ties a reproducible choice. */
    private readonly tieBreak: (() => number) | null = null,
    /** Whether picks should carry their runner-up (the kernel answers: is anyone subscribed to events?). */
    private readonly explain: () => boolean = () => true,
  ) {
    this.cpus = new Array<T | null>(params.cpus).fill(null);
    this.latencyNs = params.targetLatencyMs * 1e6;
    this.granularityNs = params.minGranularityMs * 1e6;
    this.rrSliceNs = params.rrSliceMs * 1e6;
  }

  get ncpu(): number {
    return this.cpus.length;
  }
  get queued(): number {
    return this.rtCount + this.fair.size + this.idle.size;
  }
  get running(): number {
    return this.runningCount;
  }
  onCpu(cpu: number): T | null {
    return this.cpus[cpu] ?? null;
  }

  /** Runnable tasks in the order they would be picked (a copy, for ps and tests). */
  runqueue(): T[] {
    const rt: T[] = [];
    for (let prio = RT_LEVELS - 1; prio >= 1; prio--) rt.push(...this.rt[prio]!);
    const byKey = (a: T, b: T): number => (before(a, b) ? -1 : 1);
    return [...rt, ...this.fair.tasks().sort(byKey), ...this.idle.tasks().sort(byKey)];
  }

  /** Sets a task's class and weight; the caller requeues it if it is runnable. */
  setPolicy(t: T, policy: Policy, rtPriority: number, nice: number): void {
    const se = t.sched;
    // Entering the fair class from real-time (which accrues no vruntime) or from idle (charged at weight 3, in
    // its own heap): its old vruntime means nothing on the fair scale, so it starts at min_vruntime, as on Linux.
    if (policy === SCHED_OTHER && se.policy !== SCHED_OTHER) se.vruntime = this.minVruntime;
    if (policy === SCHED_IDLE && se.policy !== SCHED_IDLE) se.vruntime = this.idle.peek()?.sched.vruntime ?? 0;
    se.policy = policy;
    se.rtPriority = policy === SCHED_FIFO || policy === SCHED_RR ? rtPriority : 0;
    se.nice = nice;
    // SCHED_IDLE tasks compete among themselves at Linux's idle weight; they never compete with fair tasks.
    se.weight = policy === SCHED_IDLE ? 3 : weightOf(nice);
  }

  /** t became runnable. The caller has already set its state to 'ready'. */
  enqueue(t: T, now: number, reason: EnqueueReason): void {
    const se = t.sched;
    se.since = now;
    se.tie = this.tieBreak === null ? ++this.seq : this.tieBreak();
    if (se.policy === SCHED_FIFO || se.policy === SCHED_RR) {
      const q = this.rt[se.rtPriority]!;
      // Preempted by a higher priority: back to the head of its level (sched(7)); otherwise the tail.
      if (reason === 'preempt') q.unshift(t);
      else q.push(t);
      this.rtBits[se.rtPriority >> 5]! |= 1 << (se.rtPriority & 31);
      this.rtCount++;
      se.queue = 'rt';
      return;
    }
    if (reason === 'new') se.vruntime = Math.max(se.vruntime, this.minVruntime);
    else if (reason === 'wake') se.vruntime = Math.max(se.vruntime, this.minVruntime - this.latencyNs / 2);
    if (se.policy === SCHED_IDLE) {
      this.idle.push(t);
      se.queue = 'idle';
    } else {
      this.fair.push(t);
      se.queue = 'fair';
    }
  }

  /** t, on a CPU, entered the kernel: charge the time it ran since it was dispatched or last charged. */
  charge(t: T, now: number): void {
    const se = t.sched;
    const ran = Math.max(0, now - se.since);
    se.runtimeNs += ran;
    if (se.policy !== SCHED_FIFO && se.policy !== SCHED_RR) se.vruntime += (ran * NICE_0_WEIGHT) / se.weight;
    se.since = now;
    this.updateMin();
  }

  /** After a call that did not block: should t give its CPU to a waiting task, and why? */
  shouldPreempt(t: T, now: number): PreemptReason | null {
    const se = t.sched;
    const ran = now - se.sliceStart;
    const topRt = this.highestRt();
    if (se.policy === SCHED_FIFO || se.policy === SCHED_RR) {
      if (topRt > se.rtPriority) return 'priority';
      return se.policy === SCHED_RR && topRt === se.rtPriority && ran >= this.rrSliceNs ? 'slice' : null;
    }
    if (topRt > 0) return 'priority';
    if (se.policy === SCHED_IDLE) {
      if (this.fair.size > 0) return 'priority';
      return this.idle.size > 0 && ran >= this.granularityNs && before(this.idle.peek()!, t) ? 'slice' : null;
    }
    const top = this.fair.peek();
    if (top === undefined) return null;
    const slice = Math.max(this.latencyNs / (this.fair.size + this.running), this.granularityNs);
    return ran >= slice && top.sched.vruntime < se.vruntime ? 'slice' : null;
  }

  /** The task that would be picked next, if any (for explaining a preemption). */
  peekNext(): T | undefined {
    const prio = this.highestRt();
    if (prio > 0) return this.rt[prio]![0];
    return this.fair.peek() ?? this.idle.peek();
  }

  /** t leaves its CPU (it blocked, was preempted, or ended). */
  vacate(t: T): void {
    const cpu = t.sched.cpu;
    if (cpu >= 0 && this.cpus[cpu] === t) {
      this.cpus[cpu] = null;
      this.runningCount--;
    }
    t.sched.cpu = -1;
  }

  /** t is no longer runnable (it ended while queued). */
  remove(t: T): void {
    const se = t.sched;
    if (se.queue === 'fair') this.fair.remove(t);
    else if (se.queue === 'idle') this.idle.remove(t);
    else if (se.queue === 'rt') {
      const q = this.rt[se.rtPriority]!;
      const i = q.indexOf(t); // real-time queues are short: a priority level holds few tasks
      if (i >= 0) {
        q.splice(i, 1);
        this.rtCount--;
        if (q.length === 0) this.rtBits[se.rtPriority >> 5]! &= ~(1 << (se.rtPriority & 31));
      }
    }
    se.queue = null;
  }

  /** Fills free CPUs with the best runnable tasks. */
  schedule(now: number): void {
    for (let cpu = 0; cpu < this.cpus.length && this.queued > 0; cpu++) {
      if (this.cpus[cpu] !== null) continue;
      const pick = this.pickFor(cpu);
      const t = pick.task;
      t.sched.waitNs += Math.max(0, now - t.sched.since);
      t.sched.since = now;
      t.sched.sliceStart = now;
      t.sched.cpu = cpu;
      this.cpus[cpu] = t;
      this.runningCount++;
      this.dispatch(pick);
    }
    this.updateMin();
  }

  private readonly pick = {
    task: null as unknown as T, cpu: 0, cls: 'fair' as Pick<T>['cls'], vruntime: 0, minVruntime: 0,
    runnerUp: null as number | null, runnable: 0,
  };

  private pickFor(cpu: number): Pick<T> {
    const pick = this.pick;
    pick.cpu = cpu;
    pick.runnable = this.queued;
    pick.minVruntime = this.minVruntime;
    const explain = this.explain();
    const prio = this.highestRt();
    if (prio > 0) {
      const q = this.rt[prio]!;
      const t = q[0]!;
      this.remove(t);
      pick.task = t;
      pick.cls = 'rt';
      pick.vruntime = t.sched.vruntime;
      pick.runnerUp = explain && q[0] !== undefined ? prio : null;
      return pick;
    }
    const heap = this.fair.size > 0 ? this.fair : this.idle;
    pick.runnerUp = explain ? heap.second()?.sched.vruntime ?? null : null;
    const t = heap.pop()!;
    t.sched.queue = null;
    pick.task = t;
    pick.cls = heap === this.fair ? 'fair' : 'idle';
    pick.vruntime = t.sched.vruntime;
    return pick;
  }

  /** The highest non-empty real-time priority, or 0. */
  private highestRt(): number {
    if (this.rtCount === 0) return 0;
    for (let w = this.rtBits.length - 1; w >= 0; w--) {
      const bits = this.rtBits[w]!;
      if (bits !== 0) return w * 32 + 31 - Math.clz32(bits);
    }
    return 0;
  }

  private updateMin(): void {
    let min = Infinity;
    for (const c of this.cpus) {
      if (c !== null && c.sched.queue === null && c.sched.policy === SCHED_OTHER && c.sched.vruntime < min) min = c.sched.vruntime;
    }
    const top = this.fair.peek();
    if (top !== undefined && top.sched.vruntime < min) min = top.sched.vruntime;
    if (min !== Infinity && min > this.minVruntime) this.minVruntime = min;
  }
}
