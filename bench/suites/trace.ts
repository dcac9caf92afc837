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
//
// Beside them, the formatter alone: a ring of 512 getpid calls turned into strace lines, as bytes (what a traced
// kernel does, `trace/line`), as strings then encoded (the way lines used to be made, `trace/line-strings`), and as
// bytes while another thread spins on the other core (`trace/line-beside-spin`): on machines whose cores share
// execution units (hyperthreads, or vCPUs mapped onto them) that is what a spinning process does to the kernel.

import { closeSync, openSync, writeSync } from 'node:fs';
import { devNull } from 'node:os';
import { Worker } from 'node:worker_threads';
import { syscallByName } from '../../abi/index.js';
import { FrameHarness, type LocalProcess } from '../../fuzz/harness.js';
import { EventRing, type TapConsumer } from '../../kernel/events.js';
import { Kernel } from '../../kernel/index.js';
import { ByteLines } from '../../kernel/records.js';
import { Strace } from '../../kernel/trace.js';
import { BatchProgram } from '../program.js';
import {
  assertNoBugs, measureThenRelease, runBatched, type Batch, type BatchedTask, type Comparison, type RunOptions, type Suite,
} from '../suite.js';

const MODES = ['off', 'quiet', 'filtered', 'traced'] as const;
type Mode = (typeof MODES)[number];

const WORKLOADS = ['getpid', 'pipe-4k', 'kernel-getpid'] as const;

const GETPID_NR = syscallByName('getpid')!.nr;
const SPIN = new URL('../workers/spin.js', import.meta.url);
const utf8 = new TextEncoder();

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
function comparisons(): Comparison[] {
  const within = (figure: string, baseline: string, factor?: number): Comparison =>
    factor === undefined ? { figure, baseline, relation: 'within' } : { figure, baseline, relation: 'within', factor };
  return [
    ...WORKLOADS.flatMap((w) => [
      within(`trace/${w}-quiet`, `trace/${w}-off`, 1.05),
      within(`trace/${w}-filtered`, `trace/${w}-quiet`),
      within(`trace/${w}-traced`, `trace/${w}-quiet`, w === 'kernel-getpid' ? undefined : 1.5),
    ]),
    { figure: 'trace/line', baseline: 'trace/line-strings', relation: 'faster' },
    within('trace/line-beside-spin', 'trace/line'),
  ];
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

/** Calls in the formatter's ring: enters and exits of getpid by one process, as a traced kernel records them. */
const LINE_CALLS = 512;

function getpidRing(): EventRing {
  const ring = new EventRing(2 * LINE_CALLS);
  const data = new Uint8Array(0);
  for (let i = 0; i < LINE_CALLS; i++) {
    const id = 2 * i + 1;
    ring.enter(id, i, 0, 3, GETPID_NR, [], 0);
    ring.exit(id + 1, i + 0.0004, id, 3, GETPID_NR, 3, 0, 0, 400, id, data, -1);
  }
  return ring;
}

/** A batch of `ops` lines formatted from the ring by a tap's consumer. */
function lineBatch(consume: TapConsumer, ring: EventRing, around?: Spinner): Batch {
  return (ops) => {
    around?.start();
    const start = performance.now();
    for (let left = ops; left > 0; left -= LINE_CALLS) consume(ring, 1, 1 + 2 * Math.min(left, LINE_CALLS));
    const ms = performance.now() - start;
    around?.stop();
    return Promise.resolve(ms);
  };
}

/** A worker thread that spins while asked to (bench/workers/spin.ts). */
class Spinner {
  private readonly words = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker = new Worker(SPIN, { workerData: this.words.buffer });

  /** Returns once the thread spins. */
  start(): void {
    Atomics.store(this.words, 0, 1);
    Atomics.notify(this.words, 0);
    while (Atomics.load(this.words, 1) !== 1);
  }

  stop(): void {
    Atomics.store(this.words, 0, 0);
    while (Atomics.load(this.words, 1) !== 0);
  }

  close(): Promise<number> {
    return this.worker.terminate();
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
      const ring = getpidRing();
      const bytes = new ByteLines((chunk) => count(chunk.length));
      const encoded = new Uint8Array(1 << 16);
      let at = 0;
      const strings = new Strace((line) => {
        if (at + 3 * (line.length + 1) > encoded.length) at = 0;
        at += utf8.encodeInto(`${line}\n`, encoded.subarray(at)).written;
      });
      const spinner = new Spinner();
      release.unshift(() => spinner.close());
      tasks.push(
        { id: 'trace/line', label: 'one getpid strace line from the ring, as bytes', batch: lineBatch(new Strace(bytes).consume, ring), probeOps: LINE_CALLS },
        { id: 'trace/line-strings', label: 'one getpid strace line from the ring, as a string then encoded', batch: lineBatch(strings.consume, ring), probeOps: LINE_CALLS },
        {
          id: 'trace/line-beside-spin', label: 'one getpid strace line as bytes, while another thread spins',
          batch: lineBatch(new Strace(bytes).consume, ring, spinner), probeOps: LINE_CALLS,
        },
      );
      const summaries = await runBatched('trace', tasks, opts);
      assertNoBugs('trace', kernels.reduce((n, k) => n + k.bugs, 0));
      return summaries;
    }, release);
    // Once everything is released: a traced kernel's last lines are written when its tap is removed.
    if (written === 0) throw new Error('trace: the traced kernels wrote no line');
    return summaries;
  },
};
