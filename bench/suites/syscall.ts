// Suite: the null syscall round trip (getpid), sync and async, beside raw baselines measured in the same run.
//
// Design. A tinybench task is a host-side function, and a round trip is far shorter than anything that could
// start it from the host, so each tinybench iteration runs one batch: the host asks for K round trips and the
// side that makes them times them itself (an Agentix program on the kernel's CLOCK_MONOTONIC, the raw worker with
// performance.now()) and reports the time; the sample is that time / K. Starting a batch and reporting it back
// (a stdin line and a stdout line for a program, two postMessages for the raw worker) is therefore outside every
// sample, and both sides are batched identically, so the ratios compare round trips with round trips. K is
// calibrated per task so that one batch lasts about 15 ms; a sample is a batch mean, and percentiles describe
// batch means, not single calls.
//
// Figures:
//   getpid-sync    sys.getpid() in a process: trap, kernel request path, reply; the thread parks between.
//   getpid-async   await sysAsync.getpid(): the same call through a promise and Atomics.waitAsync.
//   raw-sab-sync   the same SharedArrayBuffer handshake with nothing around it (bench/pingpong.ts): the
//                  kernel's Channel on the main thread, the trap's spin-then-Atomics.wait in a bare worker.
//   raw-sab-async  the same, the worker waiting with spin-then-Atomics.waitAsync and a promise per call.
//   sdk-sync       sys.getpid() from the real SDK (stub, trap) in a bare worker against the raw server: no sandbox
//   sdk-async      and no kernel, so sdk - raw is what the userland layer adds and getpid - sdk what the kernel adds.
//   postmessage    a MessagePort echo between the main thread and the worker.
//   kernel-only    one getpid served by the kernel on its own thread (attachLocal + serve): decode, validate,
//                  dispatch, scheduler accounting and the reply, with no thread crossing and no userland.

import { kArgc, kNr, kPayloadLen, kState, STATE_REPLY, STATE_REQUEST, syscallByName } from '../../abi/index.js';
import { RET0 } from '../../kernel/channel.js';
import { Kernel } from '../../kernel/index.js';
import type { Proc } from '../../kernel/proc.js';
import { PingPong } from '../pingpong.js';
import { BatchProgram } from '../program.js';
import {
  assertNoBugs, measureThenRelease, runBatched, type Batch, type BatchedTask, type RunOptions, type Suite,
} from '../suite.js';

/** A process with no worker whose getpid calls the benchmark serves itself, on the kernel's thread. */
class LocalGetpid {
  private constructor(
    private readonly kernel: Kernel,
    private readonly proc: Proc,
    private readonly nr: number,
  ) {}

  static async start(): Promise<LocalGetpid> {
    // No warm workers: this kernel never runs a program, and idle threads would only add noise.
    const kernel = await Kernel.boot({ warmWorkers: 0 });
    const proc = kernel.attachLocal('bench-local');
    const nr = syscallByName('getpid')?.nr;
    if (typeof proc === 'number' || nr === undefined) throw new Error(`attachLocal failed (${String(proc)})`);
    const local = new LocalGetpid(kernel, proc, nr);
    local.call(); // the first call boots the process (new -> ready -> running); every later one is a plain call
    return local;
  }

  readonly batch: Batch = async (ops) => {
    const start = performance.now();
    for (let i = 0; i < ops; i++) this.call();
    return performance.now() - start;
  };

  private call(): void {
    const ch = this.proc.channel;
    ch.i32[kNr] = this.nr;
    ch.i32[kArgc] = 0;
    ch.i32[kPayloadLen] = 0;
    Atomics.store(ch.i32, kState, STATE_REQUEST);
    this.kernel.serve(this.proc);
    if (Atomics.load(ch.i32, kState) !== STATE_REPLY || ch.f64[RET0] !== this.proc.pid) {
      throw new Error(`local getpid was not answered with the pid (state ${Atomics.load(ch.i32, kState)})`);
    }
  }

  get bugs(): number {
    return this.kernel.bugs;
  }

  close(): Promise<void> {
    return this.kernel.shutdown();
  }
}

export const syscallSuite: Suite = {
  id: 'syscall',
  title: 'Null syscall round trip',
  comparisons: [
    { figure: 'syscall/getpid-sync', baseline: 'syscall/raw-sab-sync', relation: 'within', factor: 3 },
    { figure: 'syscall/getpid-async', baseline: 'syscall/raw-sab-async', relation: 'within' },
    { figure: 'syscall/sdk-sync', baseline: 'syscall/raw-sab-sync', relation: 'within' },
    { figure: 'syscall/getpid-sync', baseline: 'syscall/sdk-sync', relation: 'within' },
    { figure: 'syscall/getpid-sync', baseline: 'syscall/postmessage', relation: 'faster' },
  ],

  async run(opts: RunOptions) {
    const kernel = await Kernel.boot();
    const sync = new BatchProgram(kernel, 'getpid.js');
    const async = new BatchProgram(kernel, 'getpid-async.js');
    const raw = new PingPong();
    const local = await LocalGetpid.start();
    // Each baseline runs just before the figure it is compared with, so slow drift on the machine touches both.
    const tasks: readonly BatchedTask[] = [
      { id: 'syscall/raw-sab-sync', label: 'raw SAB ping-pong, worker spin + Atomics.wait', batch: raw.batch('sab-sync') },
      { id: 'syscall/sdk-sync', label: 'SDK sys.getpid() in a bare worker, raw server', batch: raw.batch('sdk-sync') },
      { id: 'syscall/getpid-sync', label: 'sys.getpid() from a process', batch: sync.batch },
      { id: 'syscall/raw-sab-async', label: 'raw SAB ping-pong, worker spin + Atomics.waitAsync', batch: raw.batch('sab-async') },
      { id: 'syscall/sdk-async', label: 'SDK await sysAsync.getpid() in a bare worker, raw server', batch: raw.batch('sdk-async') },
      { id: 'syscall/getpid-async', label: 'await sysAsync.getpid() from a process', batch: async.batch },
      { id: 'syscall/postmessage', label: 'postMessage ping-pong (MessagePort echo)', batch: raw.batch('postmessage'), probeOps: 100 },
      { id: 'syscall/kernel-only', label: 'getpid served on the kernel thread (attachLocal + serve)', batch: local.batch },
    ];
    return measureThenRelease(
      async () => {
        const summaries = await runBatched('syscall', tasks, opts);
        assertNoBugs('syscall', kernel.bugs + local.bugs);
        return summaries;
      },
      [() => sync.close(), () => async.close(), () => raw.close(), () => local.close(), () => kernel.shutdown()],
    );
  },
};
