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
  /** Position in the fair or idle heap, -1 when not in one. */
  heapIndex: number;
  /** Tie-break among equal vruntimes: enqueue order, or a seeded random key in deterministic mode. */
  tie: number;
}

export function newEntity(): SchedEntity {
  return {
    policy: SCHED_OTHER, rtPriority: 0, nice: 0, weight: NICE_0_WEIGHT, vruntime: 0, runtimeNs: 0, waitNs: 0,
    since: 0, sliceStart: 0, switchesVoluntary: 0, switchesInvoluntary: 0, cpu: -1, queue: null, heapIndex: -1, tie: 0,
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

/** Why a task got a CPU: what it was compared against, so a pick can be explained after the fact. */
export interface Pick<T extends Task> {
  readonly task: T;
  readonly cpu: number;
  readonly cls: 'rt' | 'fair' | 'idle';
  readonly vruntime: number;
  readonly minVruntime: number;
  /** The next candidate in the same class (its vruntime, or priority for real-time), if any. */
  readonly runnerUp: number | null;
  readonly runnable: number;
}

/** A binary heap of tasks by (vruntime, tie), with each task's index kept in its entity for O(log n) removal. */
class VruntimeHeap<T extends Task> {
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }

  push(t: T): void {
    t.sched.heapIndex = this.items.length;
    this.items.push(t);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(t: T): void {
    const i = t.sched.heapIndex;
    if (i < 0 || this.items[i] !== t) return;
    const last = this.items.pop()!;
    if (i < this.items.length) {
      this.items[i] = last;
      last.sched.heapIndex = i;
      this.down(i);
      this.up(i);
    }
    t.sched.heapIndex = -1;
  }

  /** The smaller of the root's children: the runner-up after the root. */
  second(): T | undefined {
    const a = this.items[1];
    const b = this.items[2];
    if (a === undefined) return b;
    if (b === undefined) return a;
    return before(a, b) ? a : b;
  }

  private up(i: number): void {
    const h = this.items;
    const t = h[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const q = h[parent]!;
      if (!before(t, q)) break;
      h[i] = q;
      q.sched.heapIndex = i;
      i = parent;
    }
    h[i] = t;
    t.sched.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.items;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && before(h[c + 1]!, h[c]!)) c++;
      const q = h[c]!;
      if (!before(q, t)) break;
      h[i] = q;
      q.sched.heapIndex = i;
      i = c;
    }
    h[i] = t;
    t.sched.heapIndex = i;
  }
}

function before(a: Task, b: Task): boolean {
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
    return [...rt, ...[...this.fair.items].sort(byKey), ...[...this.idle.items].sort(byKey)];
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

  private pickFor(cpu: number): Pick<T> {
    const runnable = this.queued;
    const prio = this.highestRt();
    if (prio > 0) {
      const q = this.rt[prio]!;
      const t = q[0]!;
      this.remove(t);
      return { task: t, cpu, cls: 'rt', vruntime: t.sched.vruntime, minVruntime: this.minVruntime, runnerUp: q[0] === undefined ? null : prio, runnable };
    }
    const heap = this.fair.size > 0 ? this.fair : this.idle;
    const runnerUp = heap.second()?.sched.vruntime ?? null;
    const t = heap.pop()!;
    t.sched.queue = null;
    return { task: t, cpu, cls: heap === this.fair ? 'fair' : 'idle', vruntime: t.sched.vruntime, minVruntime: this.minVruntime, runnerUp, runnable };
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
