// The host's half of the baselines' driver protocol, whatever carries it (a worker's port, a child's IPC channel):
// the host sends a DriverRequest, the driver runs and times the batch and answers its time in ms. One batch at a
// time; a driver or peer that dies fails the batch in progress and every later one, rather than leaving it pending.

import type { Batch } from '../suite.js';
import type { DriverRequest } from '../workers/stream.js';

interface Waiter {
  readonly resolve: (ms: number) => void;
  readonly reject: (e: unknown) => void;
}

export class DriverLink {
  private waiter: Waiter | null = null;
  private failure: unknown = null;
  /** Rejects at the first failure, so that a side that dies before it is ready fails the wait for it too. */
  private readonly dead: Promise<never>;
  private kill: (e: unknown) => void = () => {};

  /** `ready` settles when both sides are up; `send` delivers a request to the driver. */
  constructor(
    private readonly ready: Promise<unknown>,
    private readonly send: (req: DriverRequest) => void,
  ) {
    this.dead = new Promise<never>((_resolve, reject) => (this.kill = reject));
    this.dead.catch(() => {}); // observed through batch(); nobody may be waiting when it fails
  }

  /** The driver answered: a number is a batch's time in ms; anything else (its "ready") is not an answer. */
  answered(ms: unknown): void {
    if (typeof ms === 'number') this.take()?.resolve(ms);
  }

  /** A side failed or went away: the batch in progress and every later one fail with the first such error. */
  failed(e: unknown): void {
    this.failure ??= e;
    this.kill(this.failure);
    this.take()?.reject(this.failure);
  }

  /** Batches of `ops` operations; `size` is the bytes per write for throughput drivers. */
  batch(size = 0): Batch {
    return async (ops) => {
      await Promise.race([this.ready, this.dead]);
      if (this.failure !== null) throw this.failure;
      return new Promise<number>((resolve, reject) => {
        this.waiter = { resolve, reject };
        this.send({ ops, size });
      });
    };
  }

  private take(): Waiter | null {
    const w = this.waiter;
    this.waiter = null;
    return w;
  }
}
