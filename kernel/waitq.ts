// Wait queues: the processes parked on one object (a pipe, a queue, the console), and the one way a call parks
// on any set of them, with an optional timeout. A queue's count can be mirrored into shared memory, so that a
// process changing the object without the kernel (a pipe's ring) knows whether anyone must be woken.

import { ERRNO } from '../abi/errno.js';
import type { Clock } from './clock.js';
import type { EventStream } from './events.js';
import type { Memory } from './mm.js';
import type { Pipe } from './pipe.js';
import { BLOCK } from './fd.js';
import type { Proc, Waker } from './proc.js';

export class WaitQueue {
  private readonly procs = new Set<Proc>();

  /** onCount: told the new number of waiters whenever it changes. */
  constructor(private readonly onCount: ((n: number) => void) | null = null) {}

  get size(): number {
    return this.procs.size;
  }

  add(p: Proc): void {
    if (this.procs.has(p)) return;
    this.procs.add(p);
    this.onCount?.(this.procs.size);
  }

  delete(p: Proc): void {
    if (this.procs.delete(p)) this.onCount?.(this.procs.size);
  }

  /** Every waiter retries its call (each one's retry decides whether it can finish). */
  wakeAll(k: Waker): number {
    const n = this.procs.size;
    if (n === 0) return 0;
    for (const p of [...this.procs]) k.wake(p);
    return n;
  }
}

/** What park needs of the kernel. */
export interface Parker extends Waker {
  readonly clock: Clock;
}

/** What IPC objects need of the kernel: parking, the memory they live in, and the event stream. */
export interface IpcKernel extends Parker {
  readonly memory: Memory;
  readonly stream: EventStream;
  /** Live pipes (they have no names: this is how introspection and leak checks find them). */
  readonly pipes: Set<Pipe>;
}

export interface ParkOptions {
  readonly reason: string;
  /** Milliseconds before the call gives up (-1: never), and what it answers then (default -ETIMEDOUT). */
  readonly timeoutMs?: number;
  readonly onTimeout?: () => number;
  /** What the call answers when a caught signal ends the wait: default -EINTR; a write that moved bytes says so. */
  readonly interrupted?: () => number;
}

/**
 * Runs `attempt` (a result, or BLOCK when the call must wait; it must not park by itself), and if it must wait,
 * parks p on `queues` until a wake makes attempt succeed, the timeout passes, or a signal interrupts it. The
 * attempt runs again after p joined the queues, before it sleeps: whoever changes the object after that first
 * look either sees p waiting (and wakes it) or its change is seen by the second look. No wake-up is lost.
 */
export function park(k: Parker, p: Proc, queues: readonly WaitQueue[], attempt: () => number, opts: ParkOptions): number {
  let r = attempt();
  if (r !== BLOCK) return r;
  for (const q of queues) q.add(p);
  r = attempt();
  let cancelTimer: (() => void) | null = null;
  const leave = (): void => {
    for (const q of queues) q.delete(p);
    cancelTimer?.();
    cancelTimer = null;
  };
  if (r !== BLOCK) {
    leave();
    return r;
  }
  const timeoutMs = opts.timeoutMs ?? -1;
  if (timeoutMs === 0) {
    leave();
    return opts.onTimeout?.() ?? -ERRNO.ETIMEDOUT.no;
  }
  if (timeoutMs > 0) {
    cancelTimer = k.clock.after(timeoutMs, () => {
      cancelTimer = null;
      leave();
      k.complete(p, opts.onTimeout?.() ?? -ERRNO.ETIMEDOUT.no);
    });
  }
  const interrupted = opts.interrupted;
  return k.block(p, {
    reason: opts.reason,
    retry: () => {
      const res = attempt();
      if (res !== BLOCK) leave();
      return res;
    },
    cancel: leave,
    get interrupted() {
      return interrupted === undefined ? undefined : interrupted();
    },
  });
}
