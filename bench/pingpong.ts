// The host side of the raw round-trip baselines (the worker side, and the batching, are in workers/pingpong.ts).
//
// The SharedArrayBuffer server is the kernel's own Channel (kernel/channel.ts), driven the way KernelCore's
// request path drives it for a process when a core is free: answer, spin up to kernelSpinPolls for the next
// request, and when none comes arm Atomics.waitAsync. Using the class itself rather than a copy keeps the
// baseline's waiting strategy identical to the kernel's if either changes; what the baseline leaves out is
// everything between "a request arrived" and "reply": decoding, validation, dispatch, scheduling, accounting.

import { MessageChannel, Worker } from 'node:worker_threads';
import { syscallByName } from '../abi/index.js';
import { Channel } from '../kernel/channel.js';
import { PARAM } from '../kernel/param.js';
import type { Batch } from './suite.js';
import type { BatchRequest, PingPongData, Transport } from './workers/pingpong.js';

const WORKER = new URL('./workers/pingpong.js', import.meta.url);
/** What the raw server answers; any constant does, as getpid's answer is one. */
const ANSWER = 2;

export class PingPong {
  private readonly channel = new Channel(() => this.serve());
  private readonly echo = new MessageChannel();
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private settle: ((ms: number) => void) | null = null;

  constructor() {
    const nr = syscallByName('getpid')?.nr;
    if (nr === undefined) throw new Error('the ABI has no getpid');
    this.echo.port1.on('message', (v: unknown) => this.echo.port1.postMessage(v));
    const data: PingPongData = { sab: this.channel.sab, port: this.echo.port2, nr };
    this.worker = new Worker(WORKER, { workerData: data, transferList: [this.echo.port2] });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.once('message', () => resolve());
    });
    this.worker.on('message', (ms: unknown) => {
      if (typeof ms === 'number') this.settle?.(ms);
    });
    this.channel.arm();
  }

  /** A batch over one transport: `ops` round trips started and timed by the worker. */
  batch(transport: Transport): Batch {
    return async (ops) => {
      await this.ready;
      return new Promise<number>((resolve) => {
        this.settle = resolve;
        const req: BatchRequest = { transport, ops };
        this.worker.postMessage(req);
      });
    };
  }

  async close(): Promise<void> {
    this.channel.close();
    this.echo.port1.close();
    await this.worker.terminate();
  }

  /** KernelCore.onRequest's loop with nothing in it but the reply, for one process with a core free. */
  private serve(): void {
    for (;;) {
      this.channel.reply(0, ANSWER, 0, 0, PARAM.userSpinPolls, 0);
      if (!this.channel.spin(PARAM.kernelSpinPolls)) return this.channel.arm();
    }
  }
}
