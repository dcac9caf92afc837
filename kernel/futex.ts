// Futexes: wait on a 32-bit word of shared memory until another process wakes it. Userland builds locks and
// condition variables from them: it changes the word with Atomics, and calls the kernel only to sleep (when the
// word says it must) and to wake sleepers (when it says there are some). The SDK first sleeps in place on the word
// for a moment (userland/fastio.ts) and wakes such sleepers itself; futex_wake here wakes those too, after the
// processes parked in the kernel.
//
// A waiter is keyed by the word's place in its region, not by its address, since each process sees a region at
// its own address. The value check and the parking happen in one kernel step; a waker stores the new value before
// it calls futex_wake, and the kernel serves calls one at a time, so a wake can never fall between a waiter's
// check and its sleep.

import { ERRNO } from '../abi/errno.js';
import { BLOCK } from './fd.js';
import type { Region } from './mm.js';
import type { Proc } from './proc.js';
import type { IpcKernel } from './waitq.js';

export class Futexes {
  /** Waiters per region, per byte offset, oldest first. */
  private readonly waiters = new Map<Region, Map<number, Set<Proc>>>();

  constructor(private readonly k: IpcKernel) {}

  wait(p: Proc, addr: number, expected: number, timeoutMs: number): number {
    if (addr % 4 !== 0) return -ERRNO.EINVAL.no;
    const at = this.k.memory.wordAt(p, addr);
    if (at === null) return -ERRNO.EFAULT.no;
    const { region, offset } = at;
    // Counted in before the look at the word: a waker in userland stores the word, then reads the count
    // (kFutexParked), so either this look sees its store or it sees this waiter and calls the kernel.
    const memory = this.k.memory;
    memory.futexParked(region, 1);
    if (Atomics.load(new Int32Array(region.sab, offset, 1), 0) !== expected) {
      memory.futexParked(region, -1);
      return -ERRNO.EAGAIN.no;
    }
    if (timeoutMs === 0) {
      memory.futexParked(region, -1);
      return -ERRNO.ETIMEDOUT.no;
    }
    let byOffset = this.waiters.get(region);
    if (byOffset === undefined) this.waiters.set(region, (byOffset = new Map()));
    let set = byOffset.get(offset);
    if (set === undefined) byOffset.set(offset, (set = new Set()));
    const queue = set;
    queue.add(p);
    let cancelTimer: (() => void) | null = null;
    const leave = (): void => {
      if (!queue.delete(p)) return;
      memory.futexParked(region, -1);
      if (queue.size === 0) {
        byOffset.delete(offset);
        if (byOffset.size === 0) this.waiters.delete(region);
      }
      cancelTimer?.();
      cancelTimer = null;
    };
    if (timeoutMs > 0) {
      cancelTimer = this.k.clock.after(timeoutMs, () => {
        cancelTimer = null;
        leave();
        this.k.complete(p, -ERRNO.ETIMEDOUT.no);
      });
    }
    const r = this.k.block(p, { reason: `futex_wait(${addr})`, retry: null, cancel: leave });
    if (r !== BLOCK) leave();
    return r;
  }

  /** Wakes up to count waiters on the word at addr, oldest first (and, on an object's region, its own waiters). */
  wake(p: Proc, addr: number, count: number): number {
    if (addr % 4 !== 0) return -ERRNO.EINVAL.no;
    const at = this.k.memory.wordAt(p, addr);
    if (at === null) return -ERRNO.EFAULT.no;
    let woken = at.region.wake?.() ?? 0;
    const queue = this.waiters.get(at.region)?.get(at.offset);
    if (queue !== undefined) {
      for (const w of [...queue]) {
        if (woken >= count) break;
        w.wait?.cancel?.();
        this.k.complete(w, 0);
        woken++;
      }
    }
    // Then processes sleeping in place on the word (userland/fastio.ts), which no kernel queue knows of.
    if (woken < count) woken += Atomics.notify(new Int32Array(at.region.sab, at.offset, 1), 0, count - woken);
    return woken;
  }

  /** Processes waiting, for introspection. */
  get size(): number {
    let n = 0;
    for (const m of this.waiters.values()) for (const s of m.values()) n += s.size;
    return n;
  }
}
