// What a benchmark suite is, and the tinybench plumbing every suite shares. A suite is one module under
// bench/suites/ that measures one subsystem and its baselines in the same run; bench/run.ts runs the suites,
// compares figures against baselines and writes the results.

import { Bench, type FnReturnedObject, type Task } from 'tinybench';

export interface RunOptions {
  /** A CI smoke: every task runs briefly; figures are noisy and no target is asserted. */
  readonly quick: boolean;
}

/** One measured figure. Latencies are per operation, in nanoseconds. */
export interface TaskSummary {
  /** Stable id, `<suite>/<task>`: comparisons and result files refer to figures by it. */
  readonly id: string;
  readonly label: string;
  /** Operations per tinybench sample: 1, or the batch size when a sample is the mean of a timed batch. */
  readonly opsPerSample: number;
  readonly meanNs: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly samples: number;
  /** tinybench's mean throughput: the mean over samples of 1e9 / (per-operation latency in ns). */
  readonly opsPerSec: number;
}

/**
 * A figure read against a baseline measured in the same run. `within`: the figure may be at most `factor` times
 * the baseline (slower is expected). `faster`: the figure must be at least `factor` times faster. Without a
 * factor the comparison is informational. Comparisons use medians (p50): each sample of a batched task is
 * already a batch mean, and the median keeps one batch hit by a GC pause or a descheduled thread from moving
 * the ratio.
 */
export interface Comparison {
  readonly figure: string;
  readonly baseline: string;
  readonly relation: 'within' | 'faster';
  readonly factor?: number;
}

export interface Suite {
  readonly id: string;
  readonly title: string;
  readonly comparisons: readonly Comparison[];
  /** Measures every task; kernels, programs and workers it started are gone when the promise settles. */
  run(opts: RunOptions): Promise<TaskSummary[]>;
}

/** Times `ops` operations and resolves with how long they took in ms, measured where the operations run. */
export type Batch = (ops: number) => Promise<number>;

/**
 * A tinybench instance sized for the run. Full runs give each task 2 s after a 300 ms warmup, which keeps the
 * one round of every suite near a minute on two cores; quick runs only prove every task works end to end.
 */
export function newBench(name: string, opts: RunOptions): Bench {
  return new Bench(
    opts.quick
      ? { name, time: 60, iterations: 3, warmupTime: 20, warmupIterations: 1, throws: true }
      : { name, time: 2000, iterations: 24, warmupTime: 300, warmupIterations: 4, throws: true },
  );
}

/** How long one batch should take: long enough that the clock's resolution and the extra round trip inside a
 *  program's timing window are noise (and that starting and reporting batches costs the budget little), short
 *  enough for a hundred or more samples per task. */
export function batchTargetMs(opts: RunOptions): number {
  return opts.quick ? 2 : 15;
}

/**
 * At most this many operations per batch. A round trip that normally takes 150 ns takes ~60 µs when the two
 * threads cannot both be on a core (each side then sleeps and is woken), so a batch sized on a fast probe could
 * run for seconds and starve the task of samples when the machine gets busy; 10k keeps the worst batch near 0.6 s.
 */
const MAX_BATCH_OPS = 10_000;

/**
 * Picks the batch size that makes one batch last about `targetMs`, from a probe batch (after a first one that
 * gets the code warm). Fast operations get thousands per batch, slow ones (spawn) a handful.
 */
export async function calibrate(batch: Batch, probeOps: number, targetMs: number): Promise<number> {
  await batch(probeOps);
  const ms = await batch(probeOps);
  const perOp = Math.max(ms / probeOps, 1e-6);
  return Math.max(1, Math.min(MAX_BATCH_OPS, Math.round(targetMs / perOp)));
}

/**
 * A tinybench task function for a batched measurement: each iteration runs one batch of `ops` operations and
 * records the batch's own timing divided by `ops` as the sample, so the cost of starting the batch and of
 * reporting back is outside every sample. The iteration's wall-clock cost still counts against the time budget.
 */
export function batched(batch: Batch, ops: number): () => Promise<FnReturnedObject> {
  return async () => {
    const start = performance.now();
    const ms = await batch(ops);
    return { overriddenDuration: ms / ops, overriddenIterationCost: performance.now() - start };
  };
}

const NS_PER_MS = 1e6;

/** A finished task's statistics, per operation. Throws if the task did not complete. */
export function summarize(task: Task, id: string, label: string, opsPerSample: number): TaskSummary {
  const r = task.result;
  if (r.state !== 'completed') {
    const why = r.state === 'errored' ? r.error.message : r.state;
    throw new Error(`benchmark task ${id} did not complete: ${why}`);
  }
  const l = r.latency;
  return {
    id, label, opsPerSample,
    meanNs: l.mean * NS_PER_MS,
    p50Ns: l.p50 * NS_PER_MS,
    p99Ns: l.p99 * NS_PER_MS,
    minNs: l.min * NS_PER_MS,
    maxNs: l.max * NS_PER_MS,
    samples: l.samplesCount,
    opsPerSec: r.throughput.mean,
  };
}

/**
 * Runs `measure`, then every `release` step in order, each even if an earlier one failed; throws the first
 * failure (the measurement's before any release's), so a broken run still stops its kernels and workers.
 */
export async function measureThenRelease<T>(
  measure: () => Promise<T>, release: readonly (() => Promise<unknown>)[],
): Promise<T> {
  let outcome: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };
  try {
    outcome = { ok: true, value: await measure() };
  } catch (e: unknown) {
    outcome = { ok: false, error: e };
  }
  for (const step of release) {
    try {
      await step();
    } catch (e: unknown) {
      if (outcome.ok) outcome = { ok: false, error: e };
    }
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/**
 * Waits for start-up work the suite does not measure to finish: a freshly booted kernel starts its warm workers
 * and each prepares a sandbox, which on two cores would otherwise overlap the first task.
 */
export function settle(opts: RunOptions): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, opts.quick ? 50 : 500));
}

/** Throws if a kernel caught handler exceptions: a benchmark of a kernel with a bug measures the wrong thing. */
export function assertNoBugs(suite: string, bugs: number): void {
  if (bugs !== 0) throw new Error(`the kernel caught ${bugs} handler exception(s) during the ${suite} suite`);
}

/** Describes a task before it is added: its id and label, and how many operations one sample covers. */
export interface TaskSpec {
  readonly id: string;
  readonly label: string;
  readonly opsPerSample: number;
}

/** Runs the bench and summarizes its tasks in the order of `specs` (tinybench names tasks by id). */
export async function runAndSummarize(bench: Bench, specs: readonly TaskSpec[]): Promise<TaskSummary[]> {
  await bench.run();
  return specs.map((s) => {
    const task = bench.getTask(s.id);
    if (task === undefined) throw new Error(`benchmark task ${s.id} was never added`);
    return summarize(task, s.id, s.label, s.opsPerSample);
  });
}

/** A task whose samples are batches of operations timed by the side that makes them. */
export interface BatchedTask {
  readonly id: string;
  readonly label: string;
  readonly batch: Batch;
  /** Operations in the calibration probes (default 1000). */
  readonly probeOps?: number;
}

/** The batched suites' round: lets the machine settle, sizes each task's batches to the round's target, runs the
 *  tasks in one Bench and summarizes them in the order given. */
export async function runBatched(name: string, tasks: readonly BatchedTask[], opts: RunOptions): Promise<TaskSummary[]> {
  await settle(opts);
  const bench = newBench(name, opts);
  const specs: TaskSpec[] = [];
  for (const t of tasks) {
    const ops = await calibrate(t.batch, t.probeOps ?? 1000, batchTargetMs(opts));
    bench.add(t.id, batched(t.batch, ops), { async: true });
    specs.push({ id: t.id, label: t.label, opsPerSample: ops });
  }
  return runAndSummarize(bench, specs);
}
