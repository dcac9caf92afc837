// The scheduler: N virtual CPUs and a CFS runqueue. A process runs userland code only while it holds a virtual
// CPU; every other runnable process stays parked in its syscall until `dispatch` answers it.
//
// CFS as in Linux: each process accrues vruntime = runtime * 1024 / weight; the runnable process with the least
// vruntime runs next; a running process that has used its slice (targetLatency / nr_runnable, at least
// minGranularity) while a process with less vruntime waits is preempted at its next syscall. New processes
// start at min_vruntime; a process waking from a sleep is placed no earlier than min_vruntime - latency/2, so
// a long sleeper cannot hoard credit. The runqueue is a binary heap keyed by (vruntime, enqueue order).

import type { Proc } from './proc.js';

const NICE_0_WEIGHT = 1024;

export interface SchedParams {
  cpus: number;
  targetLatencyMs: number;
  minGranularityMs: number;
}

export type EnqueueReason = 'new' | 'wake' | 'preempt' | 'yield';

export class Scheduler {
  private readonly heap: Proc[] = [];
  private readonly cpus: (Proc | null)[];
  private readonly latencyNs: number;
  private readonly granularityNs: number;
  private seq = 0;
  /** Monotonic floor of vruntime among runnable processes. */
  minVruntime = 0;

  constructor(
    params: SchedParams,
    /** Gives p the CPU: the kernel answers its parked call. */
    private readonly dispatch: (p: Proc) => void,
  ) {
    this.cpus = new Array<Proc | null>(params.cpus).fill(null);
    this.latencyNs = params.targetLatencyMs * 1e6;
    this.granularityNs = params.minGranularityMs * 1e6;
  }

  get ncpu(): number {
    return this.cpus.length;
  }
  get queued(): number {
    return this.heap.length;
  }
  get running(): number {
    let n = 0;
    for (const c of this.cpus) if (c !== null) n++;
    return n;
  }
  /** Processes on the runqueue, least vruntime first (a copy, for ps and tests). */
  runqueue(): Proc[] {
    return [...this.heap].sort((a, b) => this.before(a, b) ? -1 : 1);
  }
  onCpu(cpu: number): Proc | null {
    return this.cpus[cpu] ?? null;
  }

  /** p became runnable. The caller has already set p.state to 'ready'. */
  enqueue(p: Proc, now: number, reason: EnqueueReason): void {
    const se = p.sched;
    if (reason === 'new') se.vruntime = Math.max(se.vruntime, this.minVruntime);
    else if (reason === 'wake') se.vruntime = Math.max(se.vruntime, this.minVruntime - this.latencyNs / 2);
    se.since = now;
    se.enqueueSeq = ++this.seq;
    this.push(p);
  }

  /** p, on a CPU, just entered the kernel: charge the time it ran since it was dispatched or last charged. */
  charge(p: Proc, now: number): void {
    const se = p.sched;
    const ran = Math.max(0, now - se.since);
    se.runtimeNs += ran;
    se.vruntime += (ran * NICE_0_WEIGHT) / se.weight;
    se.since = now;
    this.updateMin();
  }

  /** After a call that did not block: should p give its CPU to a waiting process? */
  shouldPreempt(p: Proc, sliceStart: number, now: number): boolean {
    const top = this.heap[0];
    if (top === undefined) return false;
    const nr = this.heap.length + this.running;
    const slice = Math.max(this.latencyNs / nr, this.granularityNs);
    return now - sliceStart >= slice && top.sched.vruntime < p.sched.vruntime;
  }

  /** p leaves its CPU (it blocked, was preempted, or ended). */
  vacate(p: Proc): void {
    const cpu = p.sched.cpu;
    if (cpu >= 0 && this.cpus[cpu] === p) this.cpus[cpu] = null;
    p.sched.cpu = -1;
  }

  /** p is no longer runnable (killed while queued). */
  remove(p: Proc): void {
    const i = p.sched.heapIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.sched.heapIndex = i;
      this.down(i);
      this.up(i);
    }
    p.sched.heapIndex = -1;
  }

  /** Fills free CPUs with the runnable processes of least vruntime. */
  schedule(now: number): void {
    for (let cpu = 0; cpu < this.cpus.length && this.heap.length > 0; cpu++) {
      if (this.cpus[cpu] !== null) continue;
      const p = this.pop();
      p.sched.waitNs += Math.max(0, now - p.sched.since);
      p.sched.since = now;
      p.sched.cpu = cpu;
      this.cpus[cpu] = p;
      this.dispatch(p);
    }
    this.updateMin();
  }

  private updateMin(): void {
    let min = Infinity;
    for (const c of this.cpus) if (c !== null && c.sched.vruntime < min) min = c.sched.vruntime;
    const top = this.heap[0];
    if (top !== undefined && top.sched.vruntime < min) min = top.sched.vruntime;
    if (min !== Infinity && min > this.minVruntime) this.minVruntime = min;
  }

  // ---- heap ----

  private before(a: Proc, b: Proc): boolean {
    const d = a.sched.vruntime - b.sched.vruntime;
    return d < 0 || (d === 0 && a.sched.enqueueSeq < b.sched.enqueueSeq);
  }

  private push(p: Proc): void {
    p.sched.heapIndex = this.heap.length;
    this.heap.push(p);
    this.up(this.heap.length - 1);
  }

  private pop(): Proc {
    const top = this.heap[0]!;
    this.remove(top);
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const p = h[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const q = h[parent]!;
      if (!this.before(p, q)) break;
      h[i] = q;
      q.sched.heapIndex = i;
      i = parent;
    }
    h[i] = p;
    p.sched.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const p = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(h[c + 1]!, h[c]!)) c++;
      const q = h[c]!;
      if (!this.before(q, p)) break;
      h[i] = q;
      q.sched.heapIndex = i;
      i = c;
    }
    h[i] = p;
    p.sched.heapIndex = i;
  }
}
