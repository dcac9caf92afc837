// Suite: what observing the kernel costs (issue 6). Kernels in four modes side by side in the same run:
//   off        booted with events: false: nothing can subscribe, the baseline;
//   quiet      events on, nobody subscribed: each emit site tests one field and goes on;
//   filtered   an async reader subscribed to one rare kind (oom): every event goes into the ring, the filter
//              runs on the ring's columns on the reader's side and never passes;
//   traced     full tracing as `agentix run --trace-file` does it: a tap turning every call into an strace line,
//              as bytes in a buffer written to the null device (so that no terminal or disk is what is measured).
// Each is measured on three workloads:
//   getpid-*          sys.getpid() in a loop in a process (bench/programs/getpid.js);
//   pipe-4k-*         4 KiB writes through a pipe to a second process (pipe-stream-4k.js, as the ipc suite's pipe-4k);
//   kernel-getpid-*   getpid frames through the frame harness: the kernel's request path alone, no worker.
//
// Timing. A tap works after the kernel answered, so the formatting of a program's last calls can fall after the
// program stopped its own clock. So that tracing is charged in full, the two program workloads are timed on the
// host, from sending a batch to having its answer line and every tap caught up (stream.drain()); the kernel-side
// workload drains inside its timed loop. The same timing applies to all four kernels.
// Targets: quiet within 5% of off; traced within 1.5x of quiet for the two program workloads (comparisons()).

import { closeSync, openSync, writeSync } from 'node:fs';
import { devNull } from 'node:os';
import { FrameHarness, type LocalProcess } from '../../fuzz/harness.js';
import { Kernel } from '../../kernel/index.js';
import { ByteLines } from '../../kernel/records.js';
import { Strace } from '../../kernel/trace.js';
import { BatchProgram } from '../program.js';
import {
  assertNoBugs, measureThenRelease, runBatched, type Batch, type BatchedTask, type RunOptions, type Suite,
} from '../suite.js';

const MODES = ['off', 'quiet', 'filtered', 'traced'] as const;
type Mode = (typeof MODES)[number];

const WORKLOADS = ['getpid', 'pipe-4k', 'kernel-getpid'] as const;

const LABELS: Readonly<Record<Mode, string>> = {
  off: 'events off (the baseline)',
  quiet: 'events on, nobody subscribed',
  filtered: 'an async reader filtered to one rare kind',
  traced: 'every call written as an strace line by a tap (to the null device)',
};

/**
 * The targets (issue 6) are for what a program sees: its null syscall and its pipe writes. The kernel-side
 * workload has none for full tracing: the harness runs the tracer on its own thread between calls, with no
 * process whose work it could overlap, so its ratio is the tracer's CPU per call set against the kernel's.
 */
function comparisons(): Suite['comparisons'] {
  return WORKLOADS.flatMap((w) => [
    { figure: `trace/${w}-quiet`, baseline: `trace/${w}-off`, relation: 'within', factor: 1.05 },
    { figure: `trace/${w}-filtered`, baseline: `trace/${w}-quiet`, relation: 'within' },
    w === 'kernel-getpid'
      ? { figure: `trace/${w}-traced`, baseline: `trace/${w}-quiet`, relation: 'within' }
      : { figure: `trace/${w}-traced`, baseline: `trace/${w}-quiet`, relation: 'within', factor: 1.5 },
  ] as const);
}

/** What observes a kernel in one mode; returns how to stop observing. `count` is told of every strace chunk
 *  written, with its length. */
function observe(kernel: Kernel, mode: Mode, count: (bytes: number) => void): () => Promise<unknown> {
  switch (mode) {
    case 'off':
    case 'quiet':
      return () => Promise.resolve();
    case 'filtered': {
      const reader = kernel.events({ kind: 'oom' });
      void reader.next(); // it waits for an event that never comes: the filter runs on every wake-up
      return async () => reader.return?.();
    }
    case 'traced': {
      const fd = openSync(devNull, 'w');
      const out = new ByteLines((chunk) => {
        count(chunk.length);
        writeSync(fd, chunk);
      });
      const untap = kernel.stream.tap(new Strace(out).consume);
      return () => {
        untap();
        out.flush();
        closeSync(fd);
        return Promise.resolve();
      };
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** Each host-timed sample runs this many times the calibrated operations, so that the batch's round trip through
 *  the program's stdin and stdout (the same for every mode) is a small share of it. */
const HOST_BATCH_SCALE = 4;

/** A program's batch timed on the host, up to the moment every tap has had the batch's events; the time is per
 *  `ops` operations (HOST_BATCH_SCALE times as many ran). */
function hostTimed(kernel: Kernel, batch: Batch): Batch {
  return async (ops) => {
    const start = performance.now();
    await batch(ops * HOST_BATCH_SCALE);
    kernel.stream.drain();
    return (performance.now() - start) / HOST_BATCH_SCALE;
  };
}

/** getpid frames through the harness, every tap caught up before the clock stops. */
function kernelBatch(h: FrameHarness, p: LocalProcess): Batch {
  return (ops) => {
    const start = performance.now();
    for (let i = 0; i < ops; i++) p.call('getpid');
    h.kernel.stream.drain();
    return Promise.resolve(performance.now() - start);
  };
}

export const traceSuite: Suite = {
  id: 'trace',
  title: 'The cost of tracing',
  comparisons: comparisons(),

  async run(opts: RunOptions) {
    const release: (() => Promise<unknown>)[] = [];
    let written = 0;
    const count = (bytes: number): void => {
      written += bytes;
    };
    const summaries = await measureThenRelease(async () => {
      const kernels: Kernel[] = [];
      const tasks: BatchedTask[] = [];
      const byMode = new Map<Mode, { getpid: Batch; pipe: Batch; frames: Batch }>();
      // One kernel per workload and mode: a pipe program waiting in place holds a virtual CPU, and beside it the
      // getpid program would find no core free, so that every call would sleep and be woken instead of spinning.
      const boot = async (mode: Mode, program: string): Promise<Batch> => {
        const kernel = await Kernel.boot({ warmWorkers: 2, events: mode !== 'off' });
        release.unshift(() => kernel.shutdown());
        kernels.push(kernel);
        const prog = new BatchProgram(kernel, program);
        release.unshift(() => prog.close());
        release.unshift(observe(kernel, mode, count));
        return hostTimed(kernel, prog.batch);
      };
      for (const mode of MODES) {
        const getpid = await boot(mode, 'getpid.js');
        const pipe = await boot(mode, 'pipe-stream-4k.js');
        const h = await FrameHarness.boot({ cpus: 2, events: mode !== 'off' });
        release.unshift(() => h.shutdown());
        kernels.push(h.kernel);
        const p = h.attach();
        p.call('sched_yield'); // its first frame only boots it
        release.unshift(observe(h.kernel, mode, count));
        byMode.set(mode, { getpid, pipe, frames: kernelBatch(h, p) });
      }
      // Modes side by side within each workload, so that slow drift on the machine touches all four alike.
      for (const mode of MODES) {
        const b = byMode.get(mode)!;
        tasks.push({ id: `trace/getpid-${mode}`, label: `sys.getpid() in a process, ${LABELS[mode]}`, batch: b.getpid, probeOps: 1000 });
      }
      for (const mode of MODES) {
        const b = byMode.get(mode)!;
        tasks.push({ id: `trace/pipe-4k-${mode}`, label: `4 KiB pipe writes between two processes, ${LABELS[mode]}`, batch: b.pipe, probeOps: 256 });
      }
      for (const mode of MODES) {
        const b = byMode.get(mode)!;
        tasks.push({ id: `trace/kernel-getpid-${mode}`, label: `getpid frames, kernel side only, ${LABELS[mode]}`, batch: b.frames, probeOps: 1000 });
      }
      const summaries = await runBatched('trace', tasks, opts);
      assertNoBugs('trace', kernels.reduce((n, k) => n + k.bugs, 0));
      return summaries;
    }, release);
    // Once everything is released: a traced kernel's last lines are written when its tap is removed.
    if (written === 0) throw new Error('trace: the traced kernels wrote no line');
    return summaries;
  },
};
