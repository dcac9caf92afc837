// Suite: IPC between Agentix processes (pipes, futexes, message queues), each beside floors and peers measured in
// the same run. Every figure is batched the way the syscall suite's are: the side that makes the operations times
// a batch of K of them itself (a program on the kernel's CLOCK_MONOTONIC, a bare worker or a child process with
// performance.now()) and reports the time; the sample is that time / K, with K calibrated so a batch lasts about
// 15 ms.
//
// Pipe throughput (one operation: one write of 64 B, 4 KiB or 64 KiB, read by the other side). Every transport
// runs the stream protocol of bench/workers/stream.ts: a header with the batch's byte count, the writes, then one
// acknowledgement byte back once the reader has read everything, inside the timed window. The reader reads up to
// 64 KiB at a time, into one buffer (readInto). Pipes and rings hold the kernel's default pipe capacity
// (PARAM.pipeBytes, 64 KiB), where each 64 KiB write fills the ring and waits for the reader; pipe-64k-1m and
// ring-64k-1m repeat the 64 KiB writes with 1 MiB of capacity (Kernel.boot's pipeSize), room for 16 in flight.
//   pipe-*   two processes over a pipe (bench/programs/pipe-stream.js, pipe-sink.js): the SDK's fast path moves
//            the bytes through the ring while no wait is needed; the kernel parks the side that must wait.
//   ring-*   the floor: two bare worker threads running abi/ring.ts's ringWrite/ringRead on a ring of the same
//            size, sleeping in Atomics.wait when it is full or empty (bench/workers/sab-ipc.ts).
//   post-*   two bare worker threads, one postMessage per write with the buffer transferred (bench/workers/post.ts).
//   os-*     two Node child processes over a named FIFO, blocking read(2)/write(2) (bench/workers/os-pipe.ts).
// Pipe latency (one operation: a one-byte round trip over two pipes, two rings, or two FIFOs):
//   pipe-rtt, ring-rtt, os-rtt.
// Futex ping-pong (one operation: a round trip of a turn word between two processes or threads):
//   futex-rtt     futex_wake / futex_wait on a word of a shared-memory segment (bench/programs/futex-ping.js).
//   atomics-rtt   the same turn word with Atomics.notify / Atomics.wait between two bare worker threads.
//   atomics-proc-rtt  the same Atomics code between two Agentix processes (atomics-ping.js): what the sandbox and
//                 its thread cost before any futex call, so the futex's own cost reads as futex-rtt over this.
// Message queues (one operation: one 64-byte message sent and received):
//   mq-pair    a sender process and a receiver process, the stream protocol with messages (mq-send.js, mq-recv.js);
//              read beside pipe-64b and post-64b, which move the same 64-byte units between the same pair of sides.
//   mq-self    one process sending to and receiving from its own queue: two syscalls, never waiting.
//   pipe-self  one process writing 64 bytes into its own pipe and reading them back: the fast path, no syscall.

import { Kernel } from '../../kernel/index.js';
import { PARAM } from '../../kernel/param.js';
import { OsPipePair } from '../baselines/os-pipe.js';
import { WorkerPair } from '../baselines/pair.js';
import { BatchProgram } from '../program.js';
import {
  assertNoBugs, measureThenRelease, runBatched, type Batch, type BatchedTask, type RunOptions, type Suite,
} from '../suite.js';

/** The kernel's default pipe capacity; the suite boots with it explicitly and gives the raw rings the same. */
const RING_BYTES = PARAM.pipeBytes;
/** The larger capacity the 64 KiB writes are measured with too (Kernel.boot's pipeSize). */
const BIG_RING_BYTES = 1024 * 1024;
/** Bytes a calibration probe moves, so that every write size probes for a comparable time. */
const PROBE_BYTES = 1024 * 1024;

const WRITES = [
  { tag: '64b', bytes: 64, program: 'pipe-stream-64.js', label: '64 B' },
  { tag: '4k', bytes: 4096, program: 'pipe-stream-4k.js', label: '4 KiB' },
  { tag: '64k', bytes: 65536, program: 'pipe-stream-64k.js', label: '64 KiB' },
] as const;

/** Anything the suite starts, closed in reverse order of starting when the suite ends. */
interface Closeable {
  close(): Promise<unknown>;
}

/** Every throughput comparison reads as a speed: `faster` k means at least k times the baseline's bytes per second. */
function throughputComparisons(): Suite['comparisons'] {
  return WRITES.flatMap(({ tag }) => [
    { figure: `ipc/pipe-${tag}`, baseline: `ipc/ring-${tag}`, relation: 'faster', ...(tag === '64k' ? { factor: 0.6 } : {}) },
    { figure: `ipc/pipe-${tag}`, baseline: `ipc/post-${tag}`, relation: 'faster', ...(tag === '64k' ? { factor: 2 } : {}) },
    { figure: `ipc/pipe-${tag}`, baseline: `ipc/os-${tag}`, relation: 'faster' },
  ] as const);
}

export const ipcSuite: Suite = {
  id: 'ipc',
  title: 'IPC: pipes, futexes, message queues',
  comparisons: [
    ...throughputComparisons(),
    { figure: 'ipc/pipe-64k-1m', baseline: 'ipc/ring-64k-1m', relation: 'faster', factor: 0.6 },
    { figure: 'ipc/pipe-64k-1m', baseline: 'ipc/post-64k', relation: 'faster', factor: 2 },
    { figure: 'ipc/pipe-rtt', baseline: 'ipc/ring-rtt', relation: 'within' },
    { figure: 'ipc/pipe-rtt', baseline: 'ipc/os-rtt', relation: 'within' },
    { figure: 'ipc/futex-rtt', baseline: 'ipc/atomics-rtt', relation: 'within', factor: 1.3 },
    { figure: 'ipc/futex-rtt', baseline: 'ipc/atomics-proc-rtt', relation: 'within' },
    { figure: 'ipc/atomics-proc-rtt', baseline: 'ipc/atomics-rtt', relation: 'within' },
    { figure: 'ipc/mq-pair', baseline: 'ipc/pipe-64b', relation: 'within' },
    { figure: 'ipc/mq-pair', baseline: 'ipc/post-64b', relation: 'faster' },
    { figure: 'ipc/mq-self', baseline: 'ipc/pipe-self', relation: 'within' },
  ],

  async run(opts: RunOptions) {
    // Filled as things start, newest first, so each is closed before what it depends on (programs before their
    // kernel); measureThenRelease runs every step even if one fails.
    const release: (() => Promise<unknown>)[] = [];
    const start = <T extends Closeable>(c: T): T => {
      release.unshift(() => c.close());
      return c;
    };
    return measureThenRelease(async () => {
      const kernel = await Kernel.boot({ pipeSize: RING_BYTES });
      start({ close: () => kernel.shutdown() });
      const program = (name: string): Batch => start(new BatchProgram(kernel, name)).batch;
      const ringStream = start(WorkerPair.rings('stream-writer', 'stream-sink', RING_BYTES));
      const post = start(WorkerPair.post());
      const osStream = start(new OsPipePair('stream'));

      // Each baseline runs just before the figure it is compared with, so slow drift on the machine touches both.
      const tasks: BatchedTask[] = WRITES.flatMap((w) => {
        const probeOps = Math.max(1, Math.round(PROBE_BYTES / w.bytes));
        return [
          { id: `ipc/ring-${w.tag}`, label: `raw ring between two threads, ${w.label} writes`, batch: ringStream.batch(w.bytes), probeOps },
          { id: `ipc/post-${w.tag}`, label: `postMessage between two threads, ${w.label} transferred`, batch: post.batch(w.bytes), probeOps },
          { id: `ipc/os-${w.tag}`, label: `OS FIFO between two Node processes, ${w.label} writes`, batch: osStream.batch(w.bytes), probeOps },
          { id: `ipc/pipe-${w.tag}`, label: `pipe between two processes, ${w.label} writes`, batch: program(w.program), probeOps },
        ];
      });
      // The same 64 KiB writes through 1 MiB pipes and rings: with room for several writes in flight, the writer
      // runs ahead instead of waiting for the reader after every write.
      const big = await Kernel.boot({ pipeSize: BIG_RING_BYTES });
      start({ close: () => big.shutdown() });
      const bigRing = start(WorkerPair.rings('stream-writer', 'stream-sink', BIG_RING_BYTES));
      const w64k = WRITES[2];
      tasks.push(
        { id: 'ipc/ring-64k-1m', label: 'raw 1 MiB ring between two threads, 64 KiB writes', batch: bigRing.batch(w64k.bytes), probeOps: 16 },
        { id: 'ipc/pipe-64k-1m', label: '1 MiB pipe between two processes, 64 KiB writes', batch: start(new BatchProgram(big, w64k.program)).batch, probeOps: 16 },
      );
      // Its own kernel: a process sleeping in Atomics.wait between batches keeps its CPU for as long as it sleeps
      // (the kernel cannot tell it from computing), which would leave the other programs one CPU short.
      const raw = await Kernel.boot({});
      start({ close: () => raw.shutdown() });
      const ringPing = start(WorkerPair.rings('ping', 'pong', RING_BYTES));
      const osPing = start(new OsPipePair('pingpong'));
      const futexPair = start(WorkerPair.futex());
      tasks.push(
        { id: 'ipc/ring-rtt', label: 'raw ring ping-pong between two threads, 1 byte', batch: ringPing.batch(), probeOps: 200 },
        { id: 'ipc/os-rtt', label: 'OS FIFO ping-pong between two Node processes, 1 byte', batch: osPing.batch(), probeOps: 200 },
        { id: 'ipc/pipe-rtt', label: 'pipe ping-pong between two processes, 1 byte', batch: program('pipe-ping.js'), probeOps: 200 },
        { id: 'ipc/atomics-rtt', label: 'Atomics.wait/notify ping-pong between two threads', batch: futexPair.batch(), probeOps: 200 },
        { id: 'ipc/futex-rtt', label: 'futex_wait/futex_wake ping-pong between two processes', batch: program('futex-ping.js'), probeOps: 200 },
        { id: 'ipc/atomics-proc-rtt', label: 'Atomics.wait/notify ping-pong between two processes', batch: start(new BatchProgram(raw, 'atomics-ping.js')).batch, probeOps: 200 },
        { id: 'ipc/mq-pair', label: 'mq_send + mq_receive of 64 B, two processes', batch: program('mq-send.js'), probeOps: 1000 },
        { id: 'ipc/pipe-self', label: 'write + read of 64 B on its own pipe, one process', batch: program('pipe-self.js'), probeOps: 1000 },
        { id: 'ipc/mq-self', label: 'mq_send + mq_receive of 64 B on its own queue, one process', batch: program('mq-self.js'), probeOps: 1000 },
      );

      const summaries = await runBatched('ipc', tasks, opts);
      assertNoBugs('ipc', kernel.bugs + big.bugs + raw.bugs);
      return summaries;
    }, release);
  },
};
