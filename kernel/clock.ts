// Kernel time. The wall clock is the default; deterministic mode swaps in a virtual clock that advances only by
// a cost model charged at each syscall, with timers that fire in virtual time (at syscall boundaries, or at
// once when every CPU is idle). Schedules then depend on the programs and the seed, never on the machine.

// Node's global `performance` is a lazy getter on globalThis: every read of it costs ~30 ns here, a third of a
// clock read, and the kernel reads the clock on every call. The module's binding is the same object, without it.
import { performance } from 'node:perf_hooks';

/** setTimeout's largest delay; longer waits are chained. */
const TIMER_MAX_MS = 0x7fffffff;

export interface Clock {
  readonly virtual: boolean;
  /** Scheduler time, in nanoseconds. */
  nowNs(): number;
  monotonicMs(): number;
  realtimeMs(): number;
  /** Runs fn once `ms` of this clock's time have passed; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export class WallClock implements Clock {
  readonly virtual = false;

  nowNs(): number {
    return performance.now() * 1e6;
  }
  monotonicMs(): number {
    return performance.now();
  }
  realtimeMs(): number {
    return performance.timeOrigin + performance.now();
  }
  after(ms: number, fn: () => void): () => void {
    const deadline = performance.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const left = deadline - performance.now();
      if (left > 0) timer = setTimeout(arm, Math.min(left, TIMER_MAX_MS));
      else fn();
    };
    arm();
    return () => clearTimeout(timer);
  }
}

/** What one syscall costs in virtual time: the userland stretch before it, and the kernel's work on it. */
export interface CostModel {
  userNs: number;
  syscallNs: number;
}

interface VTimer {
  readonly deadline: number;
  readonly seq: number;
  readonly fn: () => void;
  live: boolean;
}

/** Virtual time starts at 2000-01-01T00:00:00Z, so realtime readings are the same run after run. */
const VIRTUAL_EPOCH_MS = 946_684_800_000;

export class VirtualClock implements Clock {
  readonly virtual = true;
  private now = 0;
  private seq = 0;
  /** Pending timers, kept sorted by (deadline, seq): few sleepers exist at once, and order must be exact. */
  private timers: VTimer[] = [];

  constructor(readonly cost: CostModel) {}

  nowNs(): number {
    return this.now;
  }
  monotonicMs(): number {
    return this.now / 1e6;
  }
  realtimeMs(): number {
    return VIRTUAL_EPOCH_MS + this.now / 1e6;
  }

  after(ms: number, fn: () => void): () => void {
    const t: VTimer = { deadline: this.now + ms * 1e6, seq: ++this.seq, fn, live: true };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.deadline > t.deadline) i--;
    this.timers.splice(i, 0, t);
    return () => {
      t.live = false;
    };
  }

  /** Charges one syscall, then fires every timer that is now due, in deadline order. */
  chargeSyscall(): void {
    this.now += this.cost.userNs + this.cost.syscallNs;
    this.fireDue();
  }

  /** Every CPU is idle: jump to the next live timer and fire it. False if there is none. */
  skipToNext(): boolean {
    this.timers = this.timers.filter((t) => t.live);
    const next = this.timers[0];
    if (next === undefined) return false;
    if (next.deadline > this.now) this.now = next.deadline;
    this.fireDue();
    return true;
  }

  private fireDue(): void {
    while (this.timers.length > 0 && this.timers[0]!.deadline <= this.now) {
      const t = this.timers.shift()!;
      if (t.live) {
        t.live = false;
        t.fn();
      }
    }
  }
}

/** mulberry32: a small seeded generator, enough for reproducible tie-breaks (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
