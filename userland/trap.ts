// The raw syscall trap: the only code on the process side that touches the channel (abi/layout.ts).
// It runs inside the sandbox. Protocol: userland fills the frame, stores STATE_REQUEST and notifies; the kernel
// answers with STATE_REPLY (or STATE_DEAD when the process is gone) and notifies. Plain stores before the
// Atomics.store of kState are visible to the side that Atomics.loads the new state (the state word is the
// synchronisation point both ways), so only that word needs Atomics.

import {
  ARG_SLOTS, kArgc, kArgsByte, kErrno, kKernelWaiting, kNr, kPayloadByte, kPayloadLen, kReplyLen, kRet0Byte, kSeq,
  kSignals, kSpin, kState, kUserWaiting, PAYLOAD_MAX, STATE_DEAD, STATE_REQUEST,
} from '../abi/layout.js';
import { errnoName, strerror } from '../abi/errno.js';

// Everything the trap calls is taken from the globals once, at load. Inside a vm context each global lookup goes
// through the context's interceptor (about 185 ns here, against about 10 ns for a module binding), and the trap
// names Atomics several times per call and once per spin poll. waitAsync is also taken before crt0 gates the
// global one (gates.ts): the trap's own waits must never be dropped.
const { load, store, wait, notify, waitAsync } = Atomics;
const PromiseCtor = Promise;

/** A failed syscall, as userland sees it: the errno number, its POSIX name, and which call failed. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  constructor(errno: number, syscall: string) {
    const code = errnoName(errno) ?? `E${errno}`;
    super(`${syscall}: ${code} (${strerror(errno)})`);
    this.name = 'SysError';
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

/** Thrown through the program's stack once the process has exited or been killed; the start routine catches it. */
export class ExitUnwind {
  readonly reason = 'process exited';
}

/** Reads a call's result out of the reply; runs before any signal handler can reuse the channel. */
export type Decode = (t: Trap) => unknown;

/** One syscall as the trap sees it, built once per syscall by the SDK (so a call allocates no closure). */
export interface Stub {
  readonly nr: number;
  readonly name: string;
  /** Fills the frame's slots and payload from the caller's arguments. */
  readonly marshal: (t: Trap, args: readonly unknown[]) => void;
  readonly decode: Decode;
}

interface Queued {
  readonly stub: Stub;
  readonly args: readonly unknown[];
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

export class Trap {
  readonly i32: Int32Array;
  /** Argument slots 0..5, then ret0 and ret1 (indices 6 and 7). */
  readonly f64: Float64Array;
  /** The payload area, for the frame being built or the reply just read (valid until the next call). */
  readonly payload: Uint8Array;
  argc = 0;
  payloadLen = 0;
  replyLen = 0;
  dead = false;
  onSignals: (mask: number) => void = () => {};
  /** Takes the next buffer the kernel granted (a mapping's), or undefined; the loader provides it (loader.ts). */
  takeGrant: () => SharedArrayBuffer | undefined = () => undefined;
  private spin = 0;
  private seq = 0;
  private inflight: Queued | null = null;
  private readonly queue: Queued[] = [];

  constructor(sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab, 0, kArgsByte / 4);
    this.f64 = new Float64Array(sab, kArgsByte, ARG_SLOTS + 2);
    this.payload = new Uint8Array(sab, kPayloadByte, PAYLOAD_MAX);
  }

  /** The kernel has declared the process gone (it may not have observed it through a call yet). */
  get gone(): boolean {
    return this.dead || load(this.i32, kState) === STATE_DEAD;
  }

  get ret0(): number {
    return this.f64[(kRet0Byte - kArgsByte) / 8]!;
  }
  get ret1(): number {
    return this.f64[(kRet0Byte - kArgsByte) / 8 + 1]!;
  }

  /** Issues a call, parks the thread until the reply, and returns the stub's decoded value (or throws SysError). */
  callSync(stub: Stub, args: readonly unknown[]): unknown {
    if (this.dead) throw new ExitUnwind();
    // One call in flight per process: finish an outstanding async call first, its promise settles later.
    if (this.inflight !== null) this.finishInflightSync();
    stub.marshal(this, args);
    this.send(stub.nr);
    const value = this.receive(this.waitSync(this.spin), stub.name, stub.decode);
    if (this.queue.length !== 0) this.pump();
    return value;
  }

  /** The same call without blocking the thread: queued behind any call already in flight. */
  callAsync(stub: Stub, args: readonly unknown[]): Promise<unknown> {
    if (this.dead) return PromiseCtor.reject(new ExitUnwind());
    return new PromiseCtor((resolve, reject) => {
      this.queue.push({ stub, args, resolve, reject });
      this.pump();
    });
  }

  private send(nr: number): void {
    const i32 = this.i32;
    i32[kNr] = nr;
    i32[kArgc] = this.argc;
    i32[kPayloadLen] = this.payloadLen;
    i32[kSeq] = ++this.seq;
    store(i32, kState, STATE_REQUEST);
    if (load(i32, kKernelWaiting) !== 0) notify(i32, kState);
  }

  /** Spins up to `spin` polls (the kernel's hint: 0 when no core is free), then sleeps until the reply. */
  private waitSync(spin: number): number {
    const i32 = this.i32;
    let st = load(i32, kState);
    for (let k = spin; st === STATE_REQUEST && k > 0; k--) st = load(i32, kState);
    while (st === STATE_REQUEST) {
      // Announce the sleep, then look again: the kernel stores the reply before it reads this flag.
      store(i32, kUserWaiting, 1);
      if (load(i32, kState) === STATE_REQUEST) wait(i32, kState, STATE_REQUEST);
      store(i32, kUserWaiting, 0);
      st = load(i32, kState);
    }
    return st;
  }

  /** Reads the reply, runs handlers of signals delivered with it, then returns the value or throws. */
  private receive(st: number, name: string, decode: Decode): unknown {
    if (st === STATE_DEAD) {
      this.dead = true;
      throw new ExitUnwind();
    }
    const errno = this.i32[kErrno]!;
    this.replyLen = this.i32[kReplyLen]!;
    this.spin = this.i32[kSpin]!;
    const signals = this.i32[kSignals]!;
    let value: unknown;
    let failure: SysError | null = null;
    if (errno !== 0) failure = new SysError(errno, name);
    else value = decode(this);
    if (signals !== 0) this.onSignals(signals);
    if (failure !== null) throw failure;
    return value;
  }

  private finishInflightSync(): void {
    const q = this.inflight!;
    const st = this.waitSync(0);
    this.inflight = null;
    store(this.i32, kUserWaiting, 0);
    this.settle(q, st);
  }

  private settle(q: Queued, st: number): void {
    try {
      q.resolve(this.receive(st, q.stub.name, q.stub.decode));
    } catch (e: unknown) {
      q.reject(e);
      if (this.dead) this.failQueued();
    }
  }

  private failQueued(): void {
    for (const q of this.queue.splice(0)) q.reject(new ExitUnwind());
  }

  /** Starts the next queued async call if the channel is free. */
  private pump(): void {
    if (this.inflight !== null || this.queue.length === 0) return;
    if (this.dead) return this.failQueued();
    const q = this.queue.shift()!;
    try {
      q.stub.marshal(this, q.args);
    } catch (e: unknown) {
      q.reject(e);
      return this.pump();
    }
    this.inflight = q;
    this.send(q.stub.nr);
    this.awaitReply(q, this.spin);
  }

  private awaitReply(q: Queued, spin: number): void {
    let st = load(this.i32, kState);
    for (let k = spin; st === STATE_REQUEST && k > 0; k--) st = load(this.i32, kState);
    if (st === STATE_REQUEST) {
      store(this.i32, kUserWaiting, 1);
      st = load(this.i32, kState);
    }
    if (st !== STATE_REQUEST) {
      store(this.i32, kUserWaiting, 0);
      this.inflight = null;
      this.settle(q, st);
      return this.pump();
    }
    const w = waitAsync(this.i32, kState, STATE_REQUEST);
    // A sync call may finish this call first (finishInflightSync); then the wake-up has nothing left to do.
    const again = (): void => {
      if (this.inflight === q) this.awaitReply(q, 0);
    };
    if (w.async) void w.value.then(again);
    else again();
  }
}
