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

// Module-local copies of the policy numbers for the hot paths: V8 reads an imported binding through a cell, with
// a check, at every use; a local const is folded into the code.
const OTHER: number = SCHED_OTHER;
const FIFO: number = SCHED_FIFO;
const RR: number = SCHED_RR;
const IDLE: number = SCHED_IDLE;

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
/** A queue's code in an entity record; the index into QUEUE_NAMES. */
const Q_NONE = 0;
const Q_RT = 1;
const Q_FAIR = 2;
const Q_IDLE = 3;
const QUEUE_NAMES: readonly QueueName[] = [null, 'rt', 'fair', 'idle'];

// The entity table: every entity's scheduling state is a record of RECORD doubles in one Float64Array, at
// id * RECORD (its entity id, a dense index). V8 keeps each double-valued object field in a heap box of its own,
// so an entity object cost a pointer chase per field, and at 100,000 runnable tasks each chase was a cache miss;
// a record is 128 contiguous bytes, and the fields a charge, an enqueue and a pick use come first. With ids, the
// runqueue and the CPU slots name tasks by number, and a pick updates the picked task's record without reading
// the task object at all. The scheduler's hot paths index the record directly; `SchedEntity` gives everyone else
// named fields over it. The table is shared by every Scheduler in the thread (an id is unique among live
// entities); an id is reused once its entity has been garbage-collected, which cannot happen while a runqueue or
// a CPU slot holds its task.
const RECORD = 16;
const VRUNTIME = 0;
const SINCE = 1;
const RUNTIME = 2;
const WAIT = 3;
const SLICE_START = 4;
const WEIGHT = 5;
const POLICY = 6;
const QUEUE = 7;
const CPU = 8;
const TIE = 9;
const RT_PRIORITY = 10;
const NICE = 11;
const SWITCHES_VOLUNTARY = 12;
const SWITCHES_INVOLUNTARY = 13;

let table = new Float64Array(RECORD * 256);
let idsUsed = 0;
const freeIds: number[] = [];
const reclaim = new FinalizationRegistry<number>((id) => {
  freeIds.push(id);
});

/** Per-process scheduling state: named fields over the entity's record in the entity table. Times in ns. */
export class SchedEntity {
  /** The record's index in the entity table. */
  readonly id: number;

  constructor() {
    let id = freeIds.pop();
    if (id === undefined) {
      id = idsUsed++;
      if (id * RECORD === table.length) {
        const next = new Float64Array(table.length * 2);
        next.set(table);
        table = next;
      }
    }
    this.id = id;
    const r = id * RECORD;
    table.fill(0, r, r + RECORD);
    table[r + POLICY] = SCHED_OTHER;
    table[r + WEIGHT] = NICE_0_WEIGHT;
    table[r + QUEUE] = Q_NONE;
    table[r + CPU] = -1;
    reclaim.register(this, id);
  }

  get policy(): Policy { return table[this.id * RECORD + POLICY]! as Policy; }
  set policy(v: Policy) { table[this.id * RECORD + POLICY] = v; }
  /** Real-time priority 1..99 (0 for the other classes). */
  get rtPriority(): number { return table[this.id * RECORD + RT_PRIORITY]!; }
  set rtPriority(v: number) { table[this.id * RECORD + RT_PRIORITY] = v; }
  get nice(): number { return table[this.id * RECORD + NICE]!; }
  set nice(v: number) { table[this.id * RECORD + NICE] = v; }
  get weight(): number { return table[this.id * RECORD + WEIGHT]!; }
  set weight(v: number) { table[this.id * RECORD + WEIGHT] = v; }
  /** Settable only while not in the fair or idle heap, which orders by a copy taken when it was queued. */
  get vruntime(): number { return table[this.id * RECORD + VRUNTIME]!; }
  set vruntime(v: number) { this.setKey(VRUNTIME, v); }
  get runtimeNs(): number { return table[this.id * RECORD + RUNTIME]!; }
  set runtimeNs(v: number) { table[this.id * RECORD + RUNTIME] = v; }
  get waitNs(): number { return table[this.id * RECORD + WAIT]!; }
  set waitNs(v: number) { table[this.id * RECORD + WAIT] = v; }
  /** When the process last got a CPU, was last charged, or became runnable (for wait time). */
  get since(): number { return table[this.id * RECORD + SINCE]!; }
  set since(v: number) { table[this.id * RECORD + SINCE] = v; }
  /** When the current slice began (dispatch). */
  get sliceStart(): number { return table[this.id * RECORD + SLICE_START]!; }
  set sliceStart(v: number) { table[this.id * RECORD + SLICE_START] = v; }
  get switchesVoluntary(): number { return table[this.id * RECORD + SWITCHES_VOLUNTARY]!; }
  set switchesVoluntary(v: number) { table[this.id * RECORD + SWITCHES_VOLUNTARY] = v; }
  get switchesInvoluntary(): number { return table[this.id * RECORD + SWITCHES_INVOLUNTARY]!; }
  set switchesInvoluntary(v: number) { table[this.id * RECORD + SWITCHES_INVOLUNTARY] = v; }
  /** Tie-break among equal vruntimes: enqueue order, or a seeded random key in deterministic mode. Settable only
   *  while not in a heap, as vruntime. */
  get tie(): number { return table[this.id * RECORD + TIE]!; }
  set tie(v: number) { this.setKey(TIE, v); }
  // Where the process is belongs to the scheduler: readable here, set only by it.
  /** The virtual CPU it holds, or -1. */
  get cpu(): number { return table[this.id * RECORD + CPU]!; }
  get queue(): QueueName { return QUEUE_NAMES[table[this.id * RECORD + QUEUE]!] ?? null; }
  /** In the fair or idle heap. */
  get inHeap(): boolean {
    const q = table[this.id * RECORD + QUEUE]!;
    return q === Q_FAIR || q === Q_IDLE;
  }

  private setKey(field: typeof VRUNTIME | typeof TIE, v: number): void {
    if (this.inHeap) throw new Error(`sched: the ${field === TIE ? 'tie' : 'vruntime'} of queued entity ${this.id} cannot change`);
    table[this.id * RECORD + field] = v;
  }
}

export function newEntity(): SchedEntity {
  return new SchedEntity();
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

/** Whether entity `id`'s record says it was queued with this vruntime and tie (the heaps' check, see runqueue.ts). */
function queuedWith(id: number, key: number, tie: number): boolean {
  const r = id * RECORD;
  return table[r + VRUNTIME] === key && table[r + TIE] === tie;
}

export class Scheduler<T extends Task> {
  private readonly fair = new VruntimeHeap<T>(queuedWith);
  private readonly idle = new VruntimeHeap<T>(queuedWith);
  /** One FIFO per real-time priority; `rtBits` marks the non-empty ones so the highest is found in O(1) words. */
  private readonly rt: T[][] = Array.from({ length: RT_LEVELS }, () => []);
  private readonly rtBits = new Uint32Array(Math.ceil(RT_LEVELS / 32));
  private rtCount = 0;
  private readonly cpus: (T | null)[];
  /** The entity id of the task on each CPU, or -1 (see `idOf`). */
  private readonly cpuIds: Int32Array;
  /** The task the last `vacate` took off a CPU, and its entity id (see `idOf`). */
  private vacated: T | null = null;
  private vacatedId = -1;
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
    this.cpuIds = new Int32Array(params.cpus).fill(-1);
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
    if (policy === OTHER && se.policy !== OTHER) se.vruntime = this.minVruntime;
    if (policy === IDLE && se.policy !== IDLE) se.vruntime = this.idle.size > 0 ? this.idle.minKey() : 0;
    se.policy = policy;
    se.rtPriority = policy === FIFO || policy === RR ? rtPriority : 0;
    se.nice = nice;
    // SCHED_IDLE tasks compete among themselves at Linux's idle weight; they never compete with fair tasks.
    se.weight = policy === IDLE ? 3 : weightOf(nice);
  }

  /** t became runnable. The caller has already set its state to 'ready'. */
  enqueue(t: T, now: number, reason: EnqueueReason): void {
    const id = this.idOf(t);
    this.vacated = null;
    const r = id * RECORD;
    const f = table;
    f[r + SINCE] = now;
    const tie = this.tieBreak === null ? ++this.seq : this.tieBreak();
    f[r + TIE] = tie;
    const policy = f[r + POLICY]!;
    if (policy === FIFO || policy === RR) {
      const prio = f[r + RT_PRIORITY]!;
      const q = this.rt[prio]!;
      // Preempted by a higher priority: back to the head of its level (sched(7)); otherwise the tail.
      if (reason === 'preempt') q.unshift(t);
      else q.push(t);
      this.rtBits[prio >> 5]! |= 1 << (prio & 31);
      this.rtCount++;
      f[r + QUEUE] = Q_RT;
      return;
    }
    let v = f[r + VRUNTIME]!;
    if (reason === 'new') v = Math.max(v, this.minVruntime);
    else if (reason === 'wake') v = Math.max(v, this.minVruntime - this.latencyNs / 2);
    f[r + VRUNTIME] = v;
    const idle = policy === IDLE;
    (idle ? this.idle : this.fair).push(t, id, v, tie);
    f[r + QUEUE] = idle ? Q_IDLE : Q_FAIR;
  }

  /** t, on a CPU, entered the kernel: charge the time it ran since it was dispatched or last charged. */
  charge(t: T, now: number): void {
    const r = this.idOf(t) * RECORD;
    const f = table;
    const ran = Math.max(0, now - f[r + SINCE]!);
    f[r + RUNTIME] = f[r + RUNTIME]! + ran;
    const policy = f[r + POLICY]!;
    if (policy !== FIFO && policy !== RR) f[r + VRUNTIME] = f[r + VRUNTIME]! + (ran * NICE_0_WEIGHT) / f[r + WEIGHT]!;
    f[r + SINCE] = now;
    this.updateMin();
  }

  /** After a call that did not block: should t give its CPU to a waiting task, and why? */
  shouldPreempt(t: T, now: number): PreemptReason | null {
    const se = t.sched;
    const ran = now - se.sliceStart;
    const topRt = this.highestRt();
    if (se.policy === FIFO || se.policy === RR) {
      if (topRt > se.rtPriority) return 'priority';
      return se.policy === RR && topRt === se.rtPriority && ran >= this.rrSliceNs ? 'slice' : null;
    }
    if (topRt > 0) return 'priority';
    if (se.policy === IDLE) {
      if (this.fair.size > 0) return 'priority';
      return this.idle.size > 0 && ran >= this.granularityNs && before(this.idle.peek()!, t) ? 'slice' : null;
    }
    if (this.fair.size === 0) return null;
    const slice = Math.max(this.latencyNs / (this.fair.size + this.running), this.granularityNs);
    return ran >= slice && this.fair.minKey() < se.vruntime ? 'slice' : null;
  }

  /** The task that would be picked next, if any (for explaining a preemption). */
  peekNext(): T | undefined {
    const prio = this.highestRt();
    if (prio > 0) return this.rt[prio]![0];
    return this.fair.peek() ?? this.idle.peek();
  }

  /** t leaves its CPU (it blocked, was preempted, or ended). */
  vacate(t: T): void {
    const cpu = this.cpuOf(t);
    if (cpu < 0) {
      table[t.sched.id * RECORD + CPU] = -1;
      return;
    }
    const id = this.cpuIds[cpu]!;
    this.cpus[cpu] = null;
    this.cpuIds[cpu] = -1;
    this.runningCount--;
    table[id * RECORD + CPU] = -1;
    this.vacated = t;
    this.vacatedId = id;
  }

  /** t is no longer runnable (it ended while queued). */
  remove(t: T): void {
    const id = this.idOf(t);
    if (t === this.vacated) this.vacated = null;
    const r = id * RECORD;
    const queue = table[r + QUEUE]!;
    if (queue === Q_FAIR) this.fair.remove(id);
    else if (queue === Q_IDLE) this.idle.remove(id);
    else if (queue === Q_RT) {
      const prio = table[r + RT_PRIORITY]!;
      const q = this.rt[prio]!;
      const i = q.indexOf(t); // real-time queues are short: a priority level holds few tasks
      if (i >= 0) {
        q.splice(i, 1);
        this.rtCount--;
        if (q.length === 0) this.rtBits[prio >> 5]! &= ~(1 << (prio & 31));
      }
    }
    table[r + QUEUE] = Q_NONE;
  }

  /** Fills free CPUs with the best runnable tasks. */
  schedule(now: number): void {
    const { cpus } = this;
    for (let cpu = 0; cpu < cpus.length; cpu++) {
      if (cpus[cpu] !== null) continue;
      if (this.queued === 0) break;
      const pick = this.pickFor(cpu);
      const id = this.pickedId;
      const r = id * RECORD;
      const f = table; // read after every dispatch: a dispatch may create entities, which can grow the table
      f[r + WAIT] = f[r + WAIT]! + Math.max(0, now - f[r + SINCE]!);
      f[r + SINCE] = now;
      f[r + SLICE_START] = now;
      f[r + CPU] = cpu;
      cpus[cpu] = pick.task;
      this.cpuIds[cpu] = id;
      this.runningCount++;
      this.dispatch(pick);
    }
    this.updateMin();
  }

  private readonly pick = {
    task: null as unknown as T, cpu: 0, cls: 'fair' as Pick<T>['cls'], vruntime: 0, minVruntime: 0,
    runnerUp: null as number | null, runnable: 0,
  };
  /** The entity id of the task the last pickFor took. */
  private pickedId = -1;

  /** Takes the best runnable task off its queue, for cpu. Reads no task object, only the picked one's record. */
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
      this.pickedId = t.sched.id;
      pick.task = t;
      pick.cls = 'rt';
      pick.vruntime = t.sched.vruntime;
      pick.runnerUp = explain && q[0] !== undefined ? prio : null;
      return pick;
    }
    const fair = this.fair.size > 0;
    const heap = fair ? this.fair : this.idle;
    pick.runnerUp = explain ? heap.secondKey() : null;
    pick.task = heap.pop()!;
    this.pickedId = heap.poppedId;
    table[heap.poppedId * RECORD + QUEUE] = Q_NONE;
    pick.cls = fair ? 'fair' : 'idle';
    pick.vruntime = heap.poppedKey;
    return pick;
  }

  /**
   * t's entity id. The kernel charges, vacates and requeues a task it holds on a CPU, or has just taken off one:
   * those ids are in `cpuIds` and `vacatedId`, found by comparing task references the scheduler already holds.
   * Only other tasks cost a read of t.sched, which at 100,000 tasks is two cache misses (the task, its entity).
   */
  private idOf(t: T): number {
    if (t === this.vacated) return this.vacatedId;
    const cpu = this.cpuOf(t);
    return cpu >= 0 ? this.cpuIds[cpu]! : t.sched.id;
  }

  /** The CPU t holds, or -1. */
  private cpuOf(t: T): number {
    const { cpus } = this;
    for (let cpu = 0; cpu < cpus.length; cpu++) if (cpus[cpu] === t) return cpu;
    return -1;
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
    // From the heap's least key and the running tasks' records: no task object is read.
    let min = this.fair.minKey();
    const f = table;
    for (let cpu = 0; cpu < this.cpuIds.length; cpu++) {
      const id = this.cpuIds[cpu]!;
      if (id < 0) continue;
      const r = id * RECORD;
      if (f[r + QUEUE] === Q_NONE && f[r + POLICY] === OTHER && f[r + VRUNTIME]! < min) min = f[r + VRUNTIME]!;
    }
    if (min !== Infinity && min > this.minVruntime) this.minVruntime = min;
  }
}
