// Suite: many processes at once. 500 pairs of processes (1,000 in all) ping-pong one byte over two pipes each, all
// at the same time, on one kernel: the aggregate round trips per second, the per-round-trip latency (p50, p99) and
// the kernel's resident memory while they run. Each pair is bench/programs/many-ping.js and its child pipe-pong.js;
// the pinger times every round trip itself on the kernel's clock and reports a histogram (2 % buckets), which the
// host merges. Before the crowd runs, one pair runs alone on the same kernel (the rest idle, parked in a read):
// the reference for what the crowd costs each round trip.
//
// Sizing. One process is one worker thread with its own V8 isolate and sandbox (about 9 MiB resident each
// here), so 1,000 processes need about 9 GiB and take from half a minute to three minutes to start on two cores,
// with the machine's other load. The kernel is
// booted with maxProcs above the count and warmWorkers equal to it: piscina then starts every worker at boot,
// several at a time, instead of one cold start per spawn as the pool grows. Start-up is outside every figure;
// the labels give its time and the memory.
//
// Figures (TaskSummary fields filled from the histograms, not by tinybench; a sample is one round trip, except
// for pair and aggregate):
//   one-pair    one pair alone: per round trip.
//   rtt         every pair at once: per round trip, over all pairs' round trips. Pairs that run often weigh more.
//   pair        every pair at once, one sample per pair: its mean round trip (its time over its count), so the
//               spread between pairs (how evenly the kernel shares the machine) shows in p50 / p99 / max.
//   aggregate   every pair at once, as one system: the window over the total round trips (ns per round trip of
//               the whole machine; its ops/s is the aggregate throughput).
// --quick runs 8 pairs for a fraction of a second: a smoke that the suite works end to end. The 1,000-process run
// is for full runs only.

import { Kernel } from '../../kernel/index.js';
import { LineProgram } from '../program.js';
import { assertNoBugs, measureThenRelease, settle, type RunOptions, type Suite, type TaskSummary } from '../suite.js';

const PAIRS = 500;
const QUICK_PAIRS = 8;
/** How long the pairs run, by each pinger's clock. */
const WINDOW_MS = 3000;
const QUICK_WINDOW_MS = 300;
/** Each process's heap limit: a pinger holds a small histogram, and a runaway process should die, not swap. */
const HEAP_MB = 64;
/** How often the host samples its resident memory while the crowd runs. */
const RSS_SAMPLE_MS = 100;
/** The histogram's bucket width, as many-ping.js makes it. */
const BUCKET_BASE = 1.02;
const MIB = 1024 * 1024;

/** What a pinger reports for one run. */
interface RunReport {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** [bucket, count]: bucket i holds round trips of about BUCKET_BASE^i ns. */
  readonly buckets: readonly (readonly [number, number])[];
}

function parseReport(line: string): RunReport {
  const r = JSON.parse(line) as RunReport;
  if (typeof r.count !== 'number' || !Array.isArray(r.buckets)) throw new Error(`a pinger reported '${line}'`);
  return r;
}

/** Several reports as one distribution, its buckets in order (a pinger lists them as they first occurred). */
function merge(reports: readonly RunReport[]): RunReport {
  const buckets = new Map<number, number>();
  for (const r of reports) for (const [b, n] of r.buckets) buckets.set(b, (buckets.get(b) ?? 0) + n);
  return {
    count: reports.reduce((n, r) => n + r.count, 0),
    sum: reports.reduce((n, r) => n + r.sum, 0),
    min: Math.min(...reports.map((r) => r.min)),
    max: Math.max(...reports.map((r) => r.max)),
    buckets: [...buckets].sort((a, b) => a[0] - b[0]),
  };
}

/** The round-trip time below which a share q of the round trips fall, to the histogram's 2 % resolution (buckets in
 *  order, as merge leaves them). */
function quantile(r: RunReport, q: number): number {
  const rank = q * r.count;
  let seen = 0;
  for (const [b, n] of r.buckets) {
    seen += n;
    if (seen >= rank) return BUCKET_BASE ** b;
  }
  return r.max;
}

/** One sample per pair: each pair's mean round trip. */
function perPairSummary(id: string, label: string, reports: readonly RunReport[]): TaskSummary {
  const means = reports.map((r) => r.sum / r.count).sort((a, b) => a - b);
  const at = (q: number): number => means[Math.min(means.length - 1, Math.floor(q * means.length))]!;
  const meanNs = means.reduce((a, b) => a + b, 0) / means.length;
  return {
    id, label, opsPerSample: 1, meanNs, p50Ns: at(0.5), p99Ns: at(0.99), minNs: means[0]!, maxNs: means[means.length - 1]!,
    samples: means.length, opsPerSec: 1e9 / meanNs,
  };
}

function latencySummary(id: string, label: string, r: RunReport): TaskSummary {
  if (r.count === 0) throw new Error(`${id}: no round trip completed in the window`);
  const meanNs = r.sum / r.count;
  return {
    id, label, opsPerSample: 1, meanNs, p50Ns: quantile(r, 0.5), p99Ns: quantile(r, 0.99), minNs: r.min, maxNs: r.max,
    samples: r.count, opsPerSec: 1e9 / meanNs,
  };
}

/** A pinger process: its stdin takes run requests, its stdout gives one line per run (and "ready" first). */
class Pinger {
  private readonly io: LineProgram;

  constructor(kernel: Kernel) {
    this.io = new LineProgram(kernel, 'many-ping.js');
  }

  /** The next line it prints. */
  line(): Promise<string> {
    return this.io.line();
  }

  /** Starts a run of `ms`; resolves with its report. */
  run(ms: number): Promise<RunReport> {
    this.io.send(String(ms));
    return this.io.line().then(parseReport);
  }

  /** Ends its stdin; it closes its pipes, waits for its child, and must exit 0. */
  close(): Promise<void> {
    return this.io.close();
  }
}

/** Runs `work` while sampling this process's RSS; resolves with its result and the highest RSS seen. */
async function withPeakRss<T>(work: Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), RSS_SAMPLE_MS);
  try {
    const value = await work;
    return { value, peak: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

export const manySuite: Suite = {
  id: 'many',
  title: 'Many processes ping-ponging at once',
  comparisons: [
    { figure: 'many/rtt', baseline: 'many/one-pair', relation: 'within' },
    { figure: 'many/pair', baseline: 'many/one-pair', relation: 'within' },
    { figure: 'many/aggregate', baseline: 'many/one-pair', relation: 'faster' },
  ],

  async run(opts: RunOptions) {
    const pairs = opts.quick ? QUICK_PAIRS : PAIRS;
    const windowMs = opts.quick ? QUICK_WINDOW_MS : WINDOW_MS;
    const procs = 2 * pairs;
    const bootAt = performance.now();
    // Room for every process, init, and the zombies of a pair between its exit and its reaping.
    const kernel = await Kernel.boot({ maxProcs: procs + 16, warmWorkers: procs, heapMb: HEAP_MB });
    const pingers: Pinger[] = [];
    return measureThenRelease(
      async () => {
        for (let i = 0; i < pairs; i++) pingers.push(new Pinger(kernel));
        for (const p of pingers) {
          const line = await p.line();
          if (line !== 'ready') throw new Error(`a pinger said '${line}' instead of ready`);
        }
        const startupS = (performance.now() - bootAt) / 1e3;
        await settle(opts);
        const idleRss = process.memoryUsage().rss;

        const alone = await pingers[0]!.run(windowMs);
        const { value: reports, peak } = await withPeakRss(Promise.all(pingers.map((p) => p.run(windowMs))));
        assertNoBugs('many', kernel.bugs);

        const all = merge(reports);
        const crowd = `${procs.toLocaleString('en-US')} processes (${pairs} pairs)`;
        const memory = `kernel RSS ${(peak / MIB / 1024).toFixed(2)} GiB peak, ${(idleRss / MIB / procs).toFixed(1)} MiB per process idle; started in ${startupS.toFixed(0)} s`;
        const aggregateNs = (windowMs * 1e6) / all.count;
        return [
          latencySummary('many/one-pair', `one pair alone, ${procs - 2} processes idle: per round trip`, merge([alone])),
          latencySummary('many/rtt', `${crowd} at once: per round trip (p50/p99 over all pairs)`, all),
          perPairSummary('many/pair', `${crowd} at once: each pair's mean round trip (p50/p99 over pairs)`, reports),
          {
            id: 'many/aggregate', label: `${crowd} at once: ${windowMs} ms / all round trips; ${memory}`, opsPerSample: all.count,
            meanNs: aggregateNs, p50Ns: aggregateNs, p99Ns: aggregateNs, minNs: aggregateNs, maxNs: aggregateNs,
            samples: 1, opsPerSec: 1e9 / aggregateNs,
          },
        ];
      },
      [
        () => Promise.all(pingers.map((p) => p.close())),
        () => kernel.shutdown(),
      ],
    );
  },
};
