// The kernel's side of a process's syscall channel (layout: abi/layout.ts; the other side: userland/trap.ts).
// The kernel thread never blocks: it watches each channel with Atomics.waitAsync and, when a physical core is
// free, spins briefly for the next request of a process it has just answered (a wake costs ~70 µs here, a poll
// well under 1 µs).

import {
  ARG_SLOTS, CHANNEL_BYTES, kArgsByte, kErrno, kInt32Words, kKernelWaiting, kLife, kPayloadByte, kReplyLen, kSignals,
  kSleepHi, kSleepLo, kSpin, kState, kUserWaiting, kWaitUs,
  PAYLOAD_MAX, STATE_DEAD, STATE_REPLY, STATE_REQUEST,
} from '../abi/layout.js';

export const RET0 = ARG_SLOTS;
export const RET1 = ARG_SLOTS + 1;

export class Channel {
  readonly sab = new SharedArrayBuffer(CHANNEL_BYTES);
  readonly i32 = new Int32Array(this.sab, 0, kInt32Words);
  /** Argument slots 0..5, then RET0 and RET1. */
  readonly f64 = new Float64Array(this.sab, kArgsByte, ARG_SLOTS + 2);
  readonly payload = new Uint8Array(this.sab, kPayloadByte, PAYLOAD_MAX);
  private armed = false;
  private closed = false;
  private readonly wake = (): void => {
    this.armed = false;
    Atomics.store(this.i32, kKernelWaiting, 0);
    if (this.closed) return;
    if (Atomics.load(this.i32, kState) === STATE_REQUEST) this.onRequest();
    else this.arm();
  };

  constructor(private readonly onRequest: () => void) {}

  get pending(): boolean {
    return Atomics.load(this.i32, kState) === STATE_REQUEST;
  }

  /** Calls onRequest once when the next request arrives (soon after, if one is already there). */
  arm(): void {
    if (this.armed || this.closed) return;
    this.armed = true;
    Atomics.store(this.i32, kKernelWaiting, 1);
    const st = Atomics.load(this.i32, kState);
    if (st === STATE_REQUEST) {
      queueMicrotask(this.wake);
      return;
    }
    const w = Atomics.waitAsync(this.i32, kState, st);
    if (w.async) void w.value.then(this.wake);
    else queueMicrotask(this.wake);
  }

  /** Polls up to `polls` times for a request; true if one arrived. */
  spin(polls: number): boolean {
    const i32 = this.i32;
    for (let k = 0; k < polls; k++) if (Atomics.load(i32, kState) === STATE_REQUEST) return true;
    return false;
  }

  /** Hands the channel back to userland with an answer, waking it only if it said it sleeps (kUserWaiting). */
  reply(errno: number, ret0: number, replyLen: number, signals: number, spin: number, waitUs: number): void {
    const i32 = this.i32;
    i32[kErrno] = errno;
    i32[kReplyLen] = replyLen;
    i32[kSignals] = signals;
    i32[kSpin] = spin;
    i32[kWaitUs] = waitUs;
    this.f64[RET0] = ret0;
    Atomics.store(i32, kState, STATE_REPLY);
    if (Atomics.load(i32, kUserWaiting) !== 0) Atomics.notify(i32, kState);
  }

  /**
   * Ends any sleep in place of the process (abi/layout.ts, kWaitUs) and forbids the next ones until the next
   * reply. Returns the address of the word it published (0: none), which the caller notifies.
   */
  endWaitInPlace(): number {
    const i32 = this.i32;
    Atomics.store(i32, kWaitUs, 0);
    return (Atomics.load(i32, kSleepHi) >>> 0) * 2 ** 32 + (Atomics.load(i32, kSleepLo) >>> 0);
  }

  /** The process is gone: unwind userland, release the loader, and stop watching. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.i32, kState, STATE_DEAD);
    Atomics.notify(this.i32, kState);
    Atomics.store(this.i32, kLife, 1);
    Atomics.notify(this.i32, kLife);
  }
}
