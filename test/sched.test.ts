// The scheduler core (kernel/sched.ts) on its own: no workers, no kernel. Tasks are plain `{ pid, sched }`
// records and every CPU grant arrives through the dispatch callback, so each property sees exactly what the
// kernel would see. A small model tracks where every task must be (queued, on a CPU, blocked, gone) and what the
// next pick must be, per sched(7) and CFS; the scheduler is checked against it after every operation.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR } from '../dist/abi/syscalls.js';
import { seededRandom } from '../dist/kernel/clock.js';
import {
  NICE_MAX, NICE_MIN, NICE_TO_WEIGHT, newEntity, Scheduler, weightOf,
  type EnqueueReason, type Pick, type Policy, type SchedEntity, type SchedParams,
} from '../dist/kernel/sched.js';

interface FakeTask {
  readonly pid: number;
  readonly sched: SchedEntity;
}

const MS = 1e6;
const PARAMS: SchedParams = { cpus: 1, targetLatencyMs: 6, minGranularityMs: 0.75, rrSliceMs: 100 };
const POLICIES: readonly Policy[] = [SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_IDLE];

function isRt(policy: number): boolean {
  return policy === SCHED_FIFO || policy === SCHED_RR;
}

/** The class a policy is picked in: real-time first, then fair, then idle. */
function rank(se: SchedEntity): number {
  return isRt(se.policy) ? 0 : se.policy === SCHED_IDLE ? 2 : 1;
}

/** (vruntime, tie) order: what the fair and idle heaps must pop by. */
function keyBefore(a: FakeTask, b: FakeTask): boolean {
  return a.sched.vruntime < b.sched.vruntime || (a.sched.vruntime === b.sched.vruntime && a.sched.tie < b.sched.tie);
}

/** A scheduler whose dispatch callback records every pick. */
class Rig {
  readonly picks: Pick<FakeTask>[] = [];
  readonly sched: Scheduler<FakeTask>;
  private nextPid = 2;
  now = 0;

  constructor(params: Partial<SchedParams> = {}, tieBreak: (() => number) | null = null) {
    this.sched = new Scheduler<FakeTask>({ ...PARAMS, ...params }, (p) => this.picks.push({ ...p }), tieBreak); // the scheduler reuses its pick record
  }

  task(policy: Policy = SCHED_OTHER, nice = 0, rtPriority = isRt(policy) ? 1 : 0): FakeTask {
    const t: FakeTask = { pid: this.nextPid++, sched: newEntity() };
    this.sched.setPolicy(t, policy, rtPriority, nice);
    return t;
  }

  /** A new task, queued. */
  spawn(policy: Policy = SCHED_OTHER, nice = 0, rtPriority = isRt(policy) ? 1 : 0): FakeTask {
    const t = this.task(policy, nice, rtPriority);
    this.sched.enqueue(t, this.now, 'new');
    return t;
  }

  /** Fills free CPUs; returns the pids picked, in order. */
  schedule(): number[] {
    const from = this.picks.length;
    this.sched.schedule(this.now);
    return this.picks.slice(from).map((p) => p.task.pid);
  }

  /** t, on a CPU, runs `ns` and enters the kernel: charged as the kernel charges at a syscall. */
  run(t: FakeTask, ns: number): void {
    this.now += ns;
    this.sched.charge(t, this.now);
  }

  /** t leaves its CPU and goes back on the runqueue, as the kernel does on preemption or sched_yield. */
  requeue(t: FakeTask, reason: EnqueueReason = 'preempt'): void {
    this.sched.vacate(t);
    this.sched.enqueue(t, this.now, reason);
  }

  /** The kernel's setPolicy: a queued task is requeued so its new class and weight take effect at once. */
  setPolicy(t: FakeTask, policy: Policy, rtPriority: number, nice: number): void {
    const queued = t.sched.queue !== null;
    if (queued) this.sched.remove(t);
    this.sched.setPolicy(t, policy, rtPriority, nice);
    if (queued) this.sched.enqueue(t, this.now, 'preempt');
  }
}

describe('nice weights', () => {
  it('maps nice -20, 0 and 19 to Linux weights 88761, 1024 and 15', () => {
    expect(NICE_TO_WEIGHT).toHaveLength(NICE_MAX - NICE_MIN + 1);
    expect(weightOf(-20)).toBe(88761);
    expect(weightOf(0)).toBe(1024);
    expect(weightOf(19)).toBe(15);
    expect(weightOf(5)).toBe(335);
  });

  it('clamps nice values outside -20..19 to the end weights', () => {
    expect(weightOf(-100)).toBe(88761);
    expect(weightOf(100)).toBe(15);
  });

  it('gives each nice step a weight 1.2 to 1.3 times the next (about 10% of CPU share)', () => {
    for (let i = 0; i + 1 < NICE_TO_WEIGHT.length; i++) {
      const ratio = NICE_TO_WEIGHT[i]! / NICE_TO_WEIGHT[i + 1]!;
      expect(ratio).toBeGreaterThanOrEqual(1.2); // 18/15 at the light end, rounded
      expect(ratio).toBeLessThan(1.3);
    }
  });

  it('charges vruntime at 1024/weight of the time run', () => {
    const r = new Rig();
    const heavy = r.spawn(SCHED_OTHER, -5);
    r.schedule();
    r.run(heavy, 10 * MS);
    expect(heavy.sched.runtimeNs).toBe(10 * MS);
    expect(heavy.sched.vruntime).toBeCloseTo((10 * MS * 1024) / weightOf(-5), 6);
  });
});

describe('real-time queues', () => {
  it('a SCHED_FIFO task preempted by a higher priority keeps its place at the head of its level', () => {
    const r = new Rig();
    const a = r.spawn(SCHED_FIFO, 0, 10);
    const b = r.spawn(SCHED_FIFO, 0, 10);
    expect(r.schedule()).toEqual([a.pid]);
    const high = r.spawn(SCHED_FIFO, 0, 20);
    r.run(a, MS);
    expect(r.sched.shouldPreempt(a, r.now)).toBe('priority');
    r.requeue(a, 'preempt');
    expect(r.schedule()).toEqual([high.pid]);
    r.run(high, MS);
    r.sched.vacate(high); // it blocks
    // a resumes before b, which was queued behind it all along.
    expect(r.schedule()).toEqual([a.pid]);
    r.run(a, MS);
    r.sched.vacate(a);
    expect(r.schedule()).toEqual([b.pid]);
  });

  it('a SCHED_FIFO task is never preempted by an equal priority, however long it runs', () => {
    const r = new Rig();
    const a = r.spawn(SCHED_FIFO, 0, 10);
    r.spawn(SCHED_FIFO, 0, 10);
    r.schedule();
    r.run(a, 10_000 * MS);
    expect(r.sched.shouldPreempt(a, r.now)).toBeNull();
  });

  it('a SCHED_FIFO task that yields goes to the tail of its level', () => {
    const r = new Rig();
    const a = r.spawn(SCHED_FIFO, 0, 10);
    const b = r.spawn(SCHED_FIFO, 0, 10);
    r.schedule();
    r.run(a, MS);
    r.requeue(a, 'yield');
    expect(r.schedule()).toEqual([b.pid]);
  });

  it('SCHED_RR tasks of equal priority rotate once each has used its slice', () => {
    const r = new Rig({ rrSliceMs: 10 });
    const tasks = [r.spawn(SCHED_RR, 0, 5), r.spawn(SCHED_RR, 0, 5), r.spawn(SCHED_RR, 0, 5)];
    const order: number[] = [...r.schedule()];
    for (let turn = 0; turn < 8; turn++) {
      const cur = tasks.find((t) => t.pid === order[order.length - 1])!;
      r.run(cur, 4 * MS);
      expect(r.sched.shouldPreempt(cur, r.now), 'before its slice is used').toBeNull();
      r.run(cur, 6 * MS);
      expect(r.sched.shouldPreempt(cur, r.now), 'once its slice is used').toBe('slice');
      r.requeue(cur, 'expired');
      order.push(...r.schedule());
    }
    const pids = tasks.map((t) => t.pid);
    expect(order).toEqual([...pids, ...pids, ...pids].slice(0, 9));
  });

  it('a lone SCHED_RR task keeps its CPU past its slice', () => {
    const r = new Rig({ rrSliceMs: 10 });
    const a = r.spawn(SCHED_RR, 0, 5);
    r.spawn(SCHED_RR, 0, 4);
    r.spawn(SCHED_OTHER);
    r.schedule();
    r.run(a, 50 * MS);
    expect(r.sched.shouldPreempt(a, r.now)).toBeNull();
  });

  it('picks the highest real-time priority first, across the whole 1..99 range', () => {
    const r = new Rig({ cpus: 4 });
    const prios = [1, 31, 32, 33, 63, 64, 99, 50];
    const tasks = prios.map((p) => r.spawn(SCHED_FIFO, 0, p));
    const picked = r.schedule();
    const expected = [...tasks].sort((a, b) => b.sched.rtPriority - a.sched.rtPriority).slice(0, 4).map((t) => t.pid);
    expect(picked).toEqual(expected);
  });
});

describe('shouldPreempt', () => {
  it('preempts a fair task that used its slice while one with less vruntime waits', () => {
    const r = new Rig();
    const a = r.spawn();
    const b = r.spawn();
    r.schedule();
    r.run(a, 1 * MS);
    // slice = targetLatency / runnable = 6 / 2 = 3 ms
    expect(r.sched.shouldPreempt(a, r.now), 'slice not used yet').toBeNull();
    r.run(a, 2.5 * MS);
    expect(b.sched.vruntime).toBeLessThan(a.sched.vruntime);
    expect(r.sched.shouldPreempt(a, r.now), 'slice used').toBe('slice');
  });

  it('does not preempt a fair task whose waiting rival has more vruntime', () => {
    const r = new Rig();
    const a = r.spawn();
    const b = r.task();
    b.sched.vruntime = 1000 * MS; // b ran a lot already (set before it is queued: a queued task's key is fixed)
    r.sched.enqueue(b, r.now, 'new');
    r.schedule();
    expect(r.picks[0]!.task).toBe(a);
    r.run(a, 50 * MS);
    expect(r.sched.shouldPreempt(a, r.now)).toBeNull();
  });

  it('does not preempt a fair task with nothing else runnable', () => {
    const r = new Rig();
    const a = r.spawn();
    r.schedule();
    r.run(a, 1000 * MS);
    expect(r.sched.shouldPreempt(a, r.now)).toBeNull();
  });

  it('never gives slices below the minimum granularity, however many wait', () => {
    const r = new Rig();
    const a = r.spawn();
    for (let i = 0; i < 100; i++) r.spawn();
    r.schedule();
    r.run(a, 0.5 * MS); // 6 ms / 101 would be 0.06 ms; the floor is 0.75 ms
    expect(r.sched.shouldPreempt(a, r.now)).toBeNull();
    r.run(a, 0.3 * MS);
    expect(r.sched.shouldPreempt(a, r.now)).toBe('slice');
  });

  it('a waiting real-time task preempts a fair task at once', () => {
    const r = new Rig();
    const a = r.spawn();
    r.schedule();
    r.spawn(SCHED_FIFO, 0, 1);
    r.run(a, 1); // one nanosecond into its slice
    expect(r.sched.shouldPreempt(a, r.now)).toBe('priority');
  });

  it('a waiting real-time task preempts an idle task, and a waiting fair task preempts it at once', () => {
    const r = new Rig();
    const idle = r.spawn(SCHED_IDLE);
    r.schedule();
    r.run(idle, 1);
    expect(r.sched.shouldPreempt(idle, r.now), 'nothing waits').toBeNull();
    const fair = r.task(SCHED_OTHER, 19); // even the lightest fair task, however far behind
    fair.sched.vruntime = 1e6 * MS;
    r.sched.enqueue(fair, r.now, 'new');
    expect(r.sched.shouldPreempt(idle, r.now)).toBe('priority');
    r.sched.remove(fair);
    r.spawn(SCHED_RR, 0, 1);
    expect(r.sched.shouldPreempt(idle, r.now)).toBe('priority');
  });

  it('a waiting idle or fair task never preempts a real-time task', () => {
    const r = new Rig();
    const rt = r.spawn(SCHED_FIFO, 0, 1);
    r.schedule();
    r.spawn(SCHED_OTHER, -20);
    r.spawn(SCHED_IDLE);
    r.run(rt, 10_000 * MS);
    expect(r.sched.shouldPreempt(rt, r.now)).toBeNull();
  });

  it('a higher real-time priority preempts a lower one; a lower one does not', () => {
    const r = new Rig();
    const mid = r.spawn(SCHED_RR, 0, 50);
    r.schedule();
    r.spawn(SCHED_FIFO, 0, 49);
    r.run(mid, MS);
    expect(r.sched.shouldPreempt(mid, r.now)).toBeNull();
    r.spawn(SCHED_FIFO, 0, 51);
    expect(r.sched.shouldPreempt(mid, r.now)).toBe('priority');
  });
});

describe('entity records', () => {
  it('gives each entity its own fields, starting at nice 0 on no queue and no CPU', () => {
    const a = newEntity();
    const b = newEntity();
    expect(a.id).not.toBe(b.id);
    a.vruntime = 5 * MS;
    a.nice = 3;
    a.switchesVoluntary++;
    expect([b.vruntime, b.nice, b.switchesVoluntary]).toEqual([0, 0, 0]);
    expect([a.vruntime, a.nice, a.switchesVoluntary]).toEqual([5 * MS, 3, 1]);
    expect([b.policy, b.weight, b.queue, b.cpu, b.inHeap]).toEqual([SCHED_OTHER, 1024, null, -1, false]);
  });

  it('refuses a new vruntime while the task is queued by it (the runqueue keys on a copy)', () => {
    const r = new Rig();
    const t = r.spawn();
    expect(() => {
      t.sched.vruntime = 0;
    }).toThrow(/queued/);
    r.schedule();
    t.sched.vruntime = 0; // running: not in a heap
    expect(t.sched.vruntime).toBe(0);
  });

  it('charges, requeues and picks the running task without reading any task object', () => {
    // At 100,000 tasks each read of a task and its entity is a cache miss: the hot path goes by entity id.
    let reads = 0;
    const r = new Rig();
    const counted = (pid: number): FakeTask => {
      const sched = newEntity();
      return { pid, get sched() { reads++; return sched; } };
    };
    const tasks = Array.from({ length: 50 }, (_, i) => counted(100 + i));
    for (const t of tasks) r.sched.enqueue(t, 0, 'new');
    r.schedule();
    let running = r.picks.at(-1)!.task;
    reads = 0;
    for (let i = 0; i < 200; i++) {
      r.run(running, MS + (i % 7) * 1000);
      r.sched.vacate(running);
      r.sched.enqueue(running, r.now, 'expired');
      r.schedule();
      running = r.picks.at(-1)!.task;
    }
    expect(reads).toBe(0);
    expect(new Set(r.picks.map((p) => p.task.pid)).size).toBe(50); // and every task got its turns
  });
});

describe('placement', () => {
  it('a new task starts at min_vruntime, not at 0', () => {
    const r = new Rig();
    const a = r.spawn();
    r.schedule();
    r.run(a, 100 * MS);
    r.requeue(a);
    r.schedule();
    expect(r.sched.minVruntime).toBe(100 * MS);
    const b = r.spawn();
    expect(b.sched.vruntime).toBe(100 * MS);
  });

  it('a long sleeper wakes at min_vruntime - latency/2', () => {
    const r = new Rig();
    const sleeper = r.spawn();
    const hog = r.spawn();
    r.schedule();
    r.run(sleeper, MS);
    r.sched.vacate(sleeper); // blocks
    r.schedule();
    r.run(hog, 500 * MS);
    r.sched.enqueue(sleeper, r.now, 'wake');
    expect(r.sched.minVruntime).toBe(500 * MS);
    expect(sleeper.sched.vruntime).toBe(r.sched.minVruntime - 3 * MS);
  });

  it('a short sleeper keeps its own vruntime when it wakes', () => {
    const r = new Rig();
    const a = r.spawn();
    const b = r.spawn();
    r.schedule();
    r.run(a, 2 * MS);
    r.requeue(a);
    expect(r.schedule()).toEqual([b.pid]);
    r.run(b, MS);
    r.sched.vacate(b); // blocks
    r.schedule();
    r.run(a, 0.5 * MS);
    r.sched.enqueue(b, r.now, 'wake');
    expect(b.sched.vruntime).toBe(MS);
  });
});

describe('class changes (starvation)', () => {
  /** Two new fair hogs share the one CPU for `ms` in 1 ms slices; it is free afterwards. */
  function warmUp(r: Rig, ms: number): void {
    const a = r.spawn();
    const b = r.spawn();
    for (let i = 0; i < ms; i++) {
      const [pid] = r.schedule();
      const t = pid === a.pid ? a : b;
      r.run(t, MS);
      r.requeue(t);
    }
  }

  /** How many consecutive 1 ms slices `t` gets from now on, each ending in a fair requeue. */
  function runOfPicks(r: Rig, t: FakeTask, limit: number): number {
    let n = 0;
    while (n < limit && r.sched.onCpu(0) === t) {
      n++;
      r.run(t, MS);
      r.requeue(t);
      r.schedule();
    }
    return n;
  }

  // sched(7)/CFS: a task that enters the fair class is placed relative to the queue's min_vruntime. A
  // real-time task has accumulated no vruntime; entering the fair class with vruntime 0 while the fair tasks
  // are at 1000 ms would let it run alone for a whole second.
  it('a real-time task that switches to SCHED_OTHER does not run alone until it catches up', () => {
    const r = new Rig();
    const rt = r.task(SCHED_FIFO, 0, 10);
    warmUp(r, 1000);
    r.sched.enqueue(rt, r.now, 'new');
    expect(r.schedule()).toEqual([rt.pid]);
    r.run(rt, MS);
    r.setPolicy(rt, SCHED_OTHER, 0, 0); // sched_setscheduler(0, SCHED_OTHER, 0) while running
    r.requeue(rt);
    r.schedule();
    // With 6 ms of target latency, the fair tasks must get the CPU within a few slices, not after ~1000.
    expect(runOfPicks(r, rt, 2000)).toBeLessThanOrEqual(6);
  });

  // SCHED_IDLE tasks are charged at weight 3 (341 times faster than nice 0) in a heap of their own, so their
  // vruntime is not on the fair queue's scale; moving one into the fair class must place it there.
  it('an idle-class task that switches to SCHED_OTHER gets the CPU within a few slices', () => {
    const r = new Rig();
    const idle = r.spawn(SCHED_IDLE);
    r.schedule();
    r.run(idle, 100 * MS); // alone on the machine for 100 ms: 34 s of vruntime at weight 3
    r.sched.vacate(idle); // it sleeps
    warmUp(r, 10);
    r.sched.enqueue(idle, r.now, 'wake');
    r.setPolicy(idle, SCHED_OTHER, 0, 0); // a privileged sched_setscheduler on the queued task
    let waited = 0;
    for (; waited < 2000 && r.schedule()[0] !== idle.pid; waited++) {
      const t = r.sched.onCpu(0)!;
      r.run(t, MS);
      r.requeue(t);
    }
    expect(waited, 'slices the former idle task waited').toBeLessThanOrEqual(6);
  });
});

describe('no starvation', () => {
  /** K always-runnable tasks on one CPU, each running `sliceNs` per turn; returns the pid picked at each turn. */
  function turns(nices: readonly number[], sliceNs: number, n: number, tieBreak: (() => number) | null): { tasks: FakeTask[]; order: number[] } {
    const r = new Rig({}, tieBreak);
    const tasks = nices.map((nice) => r.spawn(SCHED_OTHER, nice));
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      const [pid] = r.schedule();
      order.push(pid!);
      const t = tasks.find((x) => x.pid === pid)!;
      r.run(t, sliceNs);
      r.requeue(t, 'preempt');
    }
    return { tasks, order };
  }

  /** The largest number of turns between consecutive picks of pid (counting from before the first turn and to the end). */
  function maxGap(order: readonly number[], pid: number): number {
    let last = -1;
    let gap = 0;
    order.forEach((p, i) => {
      if (p !== pid) return;
      gap = Math.max(gap, i - last - 1);
      last = i;
    });
    return Math.max(gap, order.length - last - 1);
  }

  it('K fair tasks of equal nice are each picked within every K consecutive turns', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20 * MS }), fc.integer({ min: -20, max: 19 }), (k, slice, nice) => {
        const { tasks, order } = turns(Array<number>(k).fill(nice), slice, 12 * k, null);
        for (const t of tasks) expect(maxGap(order, t.pid)).toBeLessThanOrEqual(k - 1);
      }),
      { numRuns: 200 },
    );
  });

  it('with seeded tie-breaks, K equal fair tasks are each picked within every 2K-1 consecutive turns', () => {
    // Each round every task runs once; a seeded tie-break may put a task last in one round and first in the next.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20 * MS }), fc.integer(), (k, slice, seed) => {
        const { tasks, order } = turns(Array<number>(k).fill(0), slice, 12 * k, seededRandom(seed));
        for (const t of tasks) expect(maxGap(order, t.pid)).toBeLessThanOrEqual(2 * k - 2);
      }),
      { numRuns: 200 },
    );
  });

  it('fair tasks of different nice are each picked within a bound set by the weights', () => {
    // Between two picks of task i its vruntime grows by d_i = slice*1024/w_i, and every other task j starts at or
    // above i's vruntime, so j can be picked at most floor(d_i/d_j) + 1 = floor(w_j/w_i) + 1 times before i is
    // the least again. (Ceil instead of floor absorbs floating-point rounding of the vruntime sums.)
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -8, max: 12 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 100_000, max: 10 * MS }),
        (nices, slice) => {
          const { tasks, order } = turns(nices, slice, 400, null);
          for (const t of tasks) {
            const wi = t.sched.weight;
            const bound = tasks.filter((u) => u !== t).reduce((sum, u) => sum + Math.ceil(u.sched.weight / wi) + 1, 0);
            expect(maxGap(order, t.pid), `nice ${t.sched.nice} among ${nices.join(',')}`).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ---- the model-checked property over random operation sequences ----

type Where = 'queued' | 'running' | 'blocked';

type Op =
  | { readonly op: 'spawn'; readonly policy: Policy; readonly nice: number; readonly rt: number }
  | { readonly op: 'wake'; readonly i: number }
  | { readonly op: 'run'; readonly i: number; readonly ns: number; readonly then: 'block' | 'preempt' | 'yield' | 'stay' | 'ifPreempt' }
  | { readonly op: 'exit'; readonly i: number }
  | { readonly op: 'setPolicy'; readonly i: number; readonly policy: Policy; readonly nice: number; readonly rt: number }
  | { readonly op: 'schedule' }
  | { readonly op: 'idle'; readonly ns: number };

// Mostly fair tasks; few real-time priorities, so that equal priorities (FIFO order, RR rotation) are common.
const policyArb: fc.Arbitrary<Policy> = fc.oneof(
  { arbitrary: fc.constant(SCHED_OTHER as Policy), weight: 5 },
  { arbitrary: fc.constantFrom(...POLICIES), weight: 3 },
);
const rtArb = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 99 }));
const niceArb = fc.integer({ min: NICE_MIN, max: NICE_MAX });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('spawn' as const), policy: policyArb, nice: niceArb, rt: rtArb }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('wake' as const), i: fc.nat() }), weight: 4 },
  {
    arbitrary: fc.record({
      op: fc.constant('run' as const), i: fc.nat(), ns: fc.integer({ min: 0, max: 20 * MS }),
      then: fc.constantFrom('block' as const, 'preempt' as const, 'yield' as const, 'stay' as const, 'ifPreempt' as const),
    }),
    weight: 10,
  },
  { arbitrary: fc.record({ op: fc.constant('exit' as const), i: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('setPolicy' as const), i: fc.nat(), policy: policyArb, nice: niceArb, rt: rtArb }), weight: 1 },
  { arbitrary: fc.constant({ op: 'schedule' as const }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('idle' as const), ns: fc.integer({ min: 0, max: 50 * MS }) }), weight: 1 },
);

/** Live tasks at most: enough for deep heaps, few enough that exits and wakes keep happening. */
const MAX_LIVE = 32;

/** A cheap assertion for the hot loop (expect is slow per call); the message names the broken invariant. */
function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** Replays ops against a Rig and a model of where each task is, checking the scheduler after every step. */
class Checker {
  readonly r: Rig;
  /** Live tasks only; a task that exits is checked once and dropped. */
  readonly where = new Map<FakeTask, Where>();
  /** The model's real-time queues: sched(7) order per priority level. */
  readonly rtq = new Map<number, FakeTask[]>();
  private lastMin = 0;
  private readonly halfLatency = (PARAMS.targetLatencyMs * MS) / 2;

  constructor(cpus: number, seeded: number | null) {
    this.r = new Rig({ cpus }, seeded === null ? null : seededRandom(seeded));
  }

  private inState(w: Where): FakeTask[] {
    const out: FakeTask[] = [];
    for (const [t, v] of this.where) if (v === w) out.push(t);
    return out;
  }
  private nth(w: Where | null, i: number): FakeTask | undefined {
    const ts = w === null ? [...this.where.keys()] : this.inState(w);
    return ts.length === 0 ? undefined : ts[i % ts.length];
  }

  private enqueue(t: FakeTask, reason: EnqueueReason): void {
    const se = t.sched;
    const before = se.vruntime;
    const min = this.r.sched.minVruntime;
    this.r.sched.enqueue(t, this.r.now, reason);
    this.where.set(t, 'queued');
    if (isRt(se.policy)) {
      const q = this.rtq.get(se.rtPriority) ?? [];
      if (reason === 'preempt') q.unshift(t);
      else q.push(t);
      this.rtq.set(se.rtPriority, q);
      return;
    }
    must(se.vruntime >= before, 'placement never moves vruntime back');
    if (reason === 'new') must(se.vruntime >= min, `a new task starts at >= min_vruntime (${se.vruntime} < ${min})`);
    if (reason === 'wake') must(se.vruntime >= min - this.halfLatency, `a waking task is placed at >= min_vruntime - latency/2 (${se.vruntime}, min ${min})`);
    if (reason === 'preempt' || reason === 'expired' || reason === 'yield') must(se.vruntime === before, 'a requeued task keeps its vruntime');
  }

  private unqueueModel(t: FakeTask): void {
    if (!isRt(t.sched.policy)) return;
    const q = this.rtq.get(t.sched.rtPriority);
    const i = q?.indexOf(t) ?? -1;
    if (i >= 0) q!.splice(i, 1);
  }

  /** What the model says must be picked next among `queued`: the sched(7) class order, then the queue order. */
  private expectedNext(queued: readonly FakeTask[]): FakeTask {
    let best: FakeTask | undefined;
    let bestPrio = 0;
    for (const [prio, q] of this.rtq) if (q.length > 0 && prio > bestPrio) [best, bestPrio] = [q[0], prio];
    if (best !== undefined) return best;
    for (const cls of [1, 2]) {
      for (const t of queued) if (rank(t.sched) === cls && (best === undefined || keyBefore(t, best))) best = t;
      if (best !== undefined) return best;
    }
    throw new Error('nothing queued');
  }

  private schedule(): void {
    const { r } = this;
    const free = r.sched.ncpu - r.sched.running;
    const left = this.inState('queued');
    const expected: number[] = [];
    for (let n = Math.min(free, left.length); n > 0; n--) {
      const t = this.expectedNext(left);
      expected.push(t.pid);
      left.splice(left.indexOf(t), 1);
      this.unqueueModel(t);
    }
    const from = r.picks.length;
    r.schedule();
    const picks = r.picks.slice(from);
    const got = picks.map((p) => p.task.pid);
    if (got.join() !== expected.join()) {
      expect(got, 'picks in class order, then priority / FIFO / (vruntime, tie) order').toEqual(expected);
    }
    for (const p of picks) {
      this.where.set(p.task, 'running');
      must(p.cls === ['rt', 'fair', 'idle'][rank(p.task.sched)], `pick class ${p.cls} matches the policy`);
      must(r.sched.onCpu(p.cpu) === p.task, 'a picked task holds the CPU it was given');
    }
    must(r.sched.running === r.sched.ncpu || r.sched.queued === 0, 'no CPU idles while a task is queued');
  }

  apply(op: Op): void {
    const { r } = this;
    switch (op.op) {
      case 'spawn': {
        if (this.where.size >= MAX_LIVE) break;
        this.enqueue(r.task(op.policy, op.nice, isRt(op.policy) ? op.rt : 0), 'new');
        break;
      }
      case 'wake': {
        const t = this.nth('blocked', op.i);
        if (t !== undefined) this.enqueue(t, 'wake');
        break;
      }
      case 'run': {
        const t = this.nth('running', op.i);
        if (t === undefined) break;
        const runtime = t.sched.runtimeNs;
        r.run(t, op.ns);
        must(t.sched.runtimeNs >= runtime + op.ns, 'a charged task is charged at least the time since it was last charged');
        const why = op.then === 'ifPreempt' ? r.sched.shouldPreempt(t, r.now) : null;
        const then = op.then !== 'ifPreempt' ? op.then : why === 'priority' ? 'preempt' : why === 'slice' ? 'expired' : 'stay';
        if (then === 'stay') break;
        r.sched.vacate(t);
        this.where.set(t, 'blocked');
        if (then !== 'block') this.enqueue(t, then);
        break;
      }
      case 'exit': {
        const t = this.nth(null, op.i);
        if (t === undefined) break;
        // As the kernel's exit does, whatever state the task is in.
        this.unqueueModel(t);
        r.sched.remove(t);
        r.sched.vacate(t);
        this.where.delete(t);
        must(t.sched.queue === null && t.sched.cpu === -1 && !t.sched.inHeap, 'an exited task is nowhere');
        break;
      }
      case 'setPolicy': {
        const t = this.nth(null, op.i);
        if (t === undefined) break;
        const queued = this.where.get(t) === 'queued';
        this.unqueueModel(t);
        if (queued) r.sched.remove(t);
        r.sched.setPolicy(t, op.policy, isRt(op.policy) ? op.rt : 0, op.nice);
        if (queued) this.enqueue(t, 'yield');
        break;
      }
      case 'schedule':
        this.schedule();
        break;
      case 'idle':
        r.now += op.ns;
        break;
      default: {
        const never: never = op;
        throw new Error(`unknown op ${String(never)}`);
      }
    }
    this.check();
  }

  /** Every task is in exactly the place the model says; min_vruntime only grows; at most ncpu run. */
  private check(): void {
    const { sched } = this.r;
    must(sched.minVruntime >= this.lastMin, `min_vruntime never decreases (${sched.minVruntime} < ${this.lastMin})`);
    this.lastMin = sched.minVruntime;
    let queued = 0;
    let running = 0;
    for (const [t, w] of this.where) {
      const se = t.sched;
      if (w === 'queued') {
        queued++;
        must(se.queue === ['rt', 'fair', 'idle'][rank(se)] && se.cpu === -1, `pid ${t.pid} is queued in its class and on no CPU`);
      } else if (w === 'running') {
        running++;
        must(se.queue === null && se.cpu >= 0 && sched.onCpu(se.cpu) === t, `pid ${t.pid} holds its CPU and is not queued`);
      } else {
        must(se.queue === null && se.cpu === -1 && !se.inHeap, `blocked pid ${t.pid} is neither queued nor on a CPU`);
      }
    }
    must(sched.queued === queued, `the runqueue holds ${sched.queued} tasks, the model ${queued}`);
    must(sched.running === running && running <= sched.ncpu, `${sched.running} tasks run (model ${running}) on ${sched.ncpu} CPUs`);
    const rq = sched.runqueue();
    must(rq.length === queued && new Set(rq).size === queued, 'each queued task is in the runqueue exactly once');
    for (const t of rq) must(this.where.get(t) === 'queued', `pid ${t.pid} in the runqueue is runnable`);
    for (let cpu = 0; cpu < sched.ncpu; cpu++) {
      const t = sched.onCpu(cpu);
      must(t === null || this.where.get(t) === 'running', `cpu ${cpu} holds a running task`);
    }
  }
}

describe('random operation sequences', () => {
  it('keep every task in one place, pick in class and (vruntime, tie) order, and never lower min_vruntime', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer(), { nil: null }),
        fc.array(opArb, { minLength: 1, maxLength: 300, size: 'max' }),
        (cpus, seed, ops) => {
          const c = new Checker(cpus, seed);
          for (const op of ops) c.apply(op);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with only fair tasks, the fair heap pops every queued task in (vruntime, tie) order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), niceArb), { minLength: 1, maxLength: 100 }), (specs) => {
        // Many equal vruntimes on purpose: the tie decides.
        const r = new Rig();
        const tasks = specs.map(([v, nice]) => {
          const t = r.task(SCHED_OTHER, nice);
          t.sched.vruntime = v * MS;
          r.sched.enqueue(t, 0, 'preempt');
          return t;
        });
        const expected = [...tasks].sort((a, b) => (keyBefore(a, b) ? -1 : 1)).map((t) => t.pid);
        const got: number[] = [];
        for (let i = 0; i < tasks.length; i++) {
          const [pid] = r.schedule();
          got.push(pid!);
          r.sched.vacate(tasks.find((t) => t.pid === pid)!);
        }
        expect(got).toEqual(expected);
        expect(r.sched.queued).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
