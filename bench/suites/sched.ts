// Suite: the scheduler's runqueue. One operation is what the kernel does when a process's slice ends: the task on
// the CPU is charged, requeued, and the task with the least vruntime is picked. Measured with 10, 1,000 and
// 100,000 runnable tasks, beside two baselines doing the same enqueue + pick in the same run:
//   sorted-array  an array kept sorted by vruntime (binary search + splice to insert, pop to pick): O(n) insert;
//   bare-heap     a binary min-heap over a Float64Array of keys and an Int32Array of ids, nothing else: the floor
//                 for a heap-based runqueue.
// The Scheduler does more than the floor per operation (min_vruntime, CPU slots, tie-breaks, the entity's heap
// index for O(log n) removal), so the target is a ratio: within 2x of the bare heap at 1,000 tasks, and no more than
// 3x growth from 1,000 to 100,000 (a heap grows with log n; the sorted array does not).

import type { FnReturnedObject } from 'tinybench';
import { newEntity, Scheduler, type Task } from '../../kernel/sched.js';
import { measureThenRelease, newBench, runAndSummarize, type RunOptions, type Suite, type TaskSpec } from '../suite.js';

const SIZES = [10, 1_000, 100_000] as const;
/** Operations per tinybench sample: enough that a sample lasts long past the timer's resolution. */
const OPS = 2_000;
/** Runtime charged per slice, ns, with some spread so that the order keeps changing. */
const slice = (i: number): number => 1e6 + ((i * 7919) % 1000) * 1e3;

interface Runqueue {
  /** Charges the running task one slice, requeues it and picks the next one. */
  step(i: number): void;
}

function schedulerQueue(n: number): Runqueue {
  let running: (Task & { pid: number }) | null = null;
  const s = new Scheduler<Task>({ cpus: 1, targetLatencyMs: 6, minGranularityMs: 0.75, rrSliceMs: 100 }, (pick) => {
    running = pick.task as Task & { pid: number };
  }, null, () => false); // no event subscriber: the kernel's case unless someone traces
  let now = 0;
  for (let pid = 0; pid < n; pid++) {
    const t = { pid, sched: newEntity() };
    t.sched.vruntime = slice(pid) * (pid % 97);
    s.enqueue(t, now, 'wake');
  }
  s.schedule(now);
  return {
    step(i) {
      const t = running!;
      now += slice(i);
      s.charge(t, now);
      s.vacate(t);
      s.enqueue(t, now, 'expired');
      s.schedule(now);
    },
  };
}

function sortedArrayQueue(n: number): Runqueue {
  // Sorted by vruntime, largest first, so that the least is popped from the end.
  const keys: number[] = [];
  for (let pid = 0; pid < n; pid++) keys.push(slice(pid) * (pid % 97));
  keys.sort((a, b) => b - a);
  let running = keys.pop()!;
  return {
    step(i) {
      const k = running + slice(i);
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid]! > k) lo = mid + 1;
        else hi = mid;
      }
      keys.splice(lo, 0, k);
      running = keys.pop()!;
    },
  };
}

function bareHeapQueue(n: number): Runqueue {
  const key = new Float64Array(n);
  const id = new Int32Array(n);
  let size = 0;
  const push = (k: number, v: number): void => {
    let i = size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (key[p]! <= k) break;
      key[i] = key[p]!;
      id[i] = id[p]!;
      i = p;
    }
    key[i] = k;
    id[i] = v;
  };
  const pop = (): number => {
    const top = id[0]!;
    const k = key[--size]!;
    const v = id[size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && key[c + 1]! < key[c]!) c++;
      if (key[c]! >= k) break;
      key[i] = key[c]!;
      id[i] = id[c]!;
      i = c;
    }
    key[i] = k;
    id[i] = v;
    return top;
  };
  const vr = new Float64Array(n);
  for (let pid = 0; pid < n; pid++) {
    vr[pid] = slice(pid) * (pid % 97);
    push(vr[pid]!, pid);
  }
  let running = pop();
  return {
    step(i) {
      vr[running] = vr[running]! + slice(i);
      push(vr[running]!, running);
      running = pop();
    },
  };
}

/** A tinybench task running OPS steps per sample, reporting the time per step. */
function steps(q: Runqueue): () => FnReturnedObject {
  let i = 0;
  return () => {
    const start = performance.now();
    for (let k = 0; k < OPS; k++) q.step(i++);
    const ms = performance.now() - start;
    return { overriddenDuration: ms / OPS, overriddenIterationCost: ms };
  };
}

const KINDS = [
  { kind: 'cfs', label: 'Scheduler: charge, requeue, pick', make: schedulerQueue },
  { kind: 'sorted-array', label: 'sorted array: binary search + splice, pop', make: sortedArrayQueue },
  { kind: 'bare-heap', label: 'bare typed-array binary heap: push, pop', make: bareHeapQueue },
] as const;

const id = (kind: string, n: number): string => `sched/${kind}-${n}`;

export const schedSuite: Suite = {
  id: 'sched',
  title: 'Scheduler runqueue',
  comparisons: [
    { figure: id('cfs', 1_000), baseline: id('bare-heap', 1_000), relation: 'within', factor: 2 },
    { figure: id('cfs', 100_000), baseline: id('cfs', 1_000), relation: 'within', factor: 3 },
    { figure: id('cfs', 10), baseline: id('bare-heap', 10), relation: 'within' },
    { figure: id('cfs', 100_000), baseline: id('bare-heap', 100_000), relation: 'within' },
    { figure: id('cfs', 100_000), baseline: id('sorted-array', 100_000), relation: 'faster' },
  ],

  async run(opts: RunOptions) {
    return measureThenRelease(async () => {
      const bench = newBench('sched', opts);
      const specs: TaskSpec[] = [];
      for (const n of SIZES) {
        for (const k of KINDS) {
          bench.add(id(k.kind, n), steps(k.make(n)));
          specs.push({ id: id(k.kind, n), label: `${k.label}, ${n.toLocaleString('en-US')} runnable`, opsPerSample: OPS });
        }
      }
      return runAndSummarize(bench, specs);
    }, []);
  },
};
