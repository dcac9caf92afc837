// The frame harness: drives the syscall channels of worker-less processes from the caller's own thread, so that
// tests and fuzzers reach the kernel's real request path (KernelCore.serve -> executor -> handlers -> scheduler)
// with frames of their choosing and no worker in between.
//
// Frames are written exactly as userland/trap.ts writes them (slots, kNr, kArgc, kPayloadLen, kSeq, then the
// Atomics.store of STATE_REQUEST), and typed calls are marshalled exactly as userland/sdk.ts marshals them, so a
// result seen here is the result a program would see. Everything else about a harness process is real: it has a
// pid, a parent, descriptors, signal dispositions, a place in the scheduler, and its resources are released by
// the orchestrator when it ends.
//
// Contract of one call: send() writes the frame, serve() runs it synchronously, and the channel is read back.
// A call either was answered (STATE_REPLY), parked the process (the state word is still STATE_REQUEST: it blocked,
// or, as a new process's first frame, it waits for a free virtual CPU), or ended the process (STATE_DEAD).

import { Writable } from 'node:stream';
import { Encoder } from '@msgpack/msgpack';
import { errnoName } from '../abi/errno.js';
import {
  ARG_SLOTS, CHANNEL_BYTES, kArgc, kArgsByte, kErrno, kKernelWaiting, kNr, kPayloadLen, kReplyLen, kRet0Byte, kSeq,
  kSignals, kState, kUserWaiting, PAYLOAD_MAX, STATE_DEAD, STATE_REPLY, STATE_REQUEST,
} from '../abi/layout.js';
import { NSIG, signalName } from '../abi/signals.js';
import { slotCount, syscallByName, syscallByNr, type ArgValues } from '../abi/index.js';
import type { SyscallName, SyscallOf } from '../abi/syscalls.js';
import { retHasPayload, type SyscallDef } from '../abi/types.js';
import { Kernel, type KernelOptions } from '../kernel/api.js';
import { ConsoleIn, ConsoleOut } from '../kernel/console.js';
import type { OpenFile } from '../kernel/fd.js';
import type { Proc, ProcState } from '../kernel/proc.js';

/** Float64 index of ret0 and ret1 in the slot view (the view starts at kArgsByte, as in trap.ts). */
const RET0 = (kRet0Byte - kArgsByte) / 8;
const RET1 = RET0 + 1;

/** The kernel answered: every reply word, and a copy of the reply payload. */
export interface Answer {
  readonly kind: 'reply';
  readonly state: typeof STATE_REPLY;
  readonly blocked: false;
  /** 0, or the positive errno the call failed with. */
  readonly errno: number;
  /** The errno's name (`E<n>` for a number the table does not define), or null on success. */
  readonly error: string | null;
  readonly ret0: number;
  readonly ret1: number;
  readonly replyLen: number;
  /** Caught signals delivered with the reply, as a bit mask (bit n: signal n). */
  readonly signals: number;
  /** A copy of the first replyLen payload bytes; empty when replyLen is not within 0..PAYLOAD_MAX. */
  readonly payload: Uint8Array;
}

/**
 * What the channel says after serve(). `parked`: the call blocked (or a new process waits for a virtual CPU);
 * the kernel answers it later (see LocalProcess.settle). `dead`: the process is gone. `invalid`: a state other than these
 * word, which the kernel never writes after a request (always a kernel bug).
 */
export type Reply =
  | Answer
  | { readonly kind: 'parked'; readonly state: typeof STATE_REQUEST; readonly blocked: true }
  | { readonly kind: 'dead'; readonly state: typeof STATE_DEAD; readonly blocked: false }
  | { readonly kind: 'invalid'; readonly state: number; readonly blocked: false };

/** A frame as a hostile process may write it: every field is copied into the channel without checks. */
export interface RawFrame {
  /** Stored as an Int32 word (so values outside the Int32 range wrap, as a store into Int32Array does). */
  readonly nr: number;
  /** The kArgc word; defaults to slots.length. */
  readonly argc?: number;
  /** Values for argument slots 0.. (at most ARG_SLOTS); slots past these keep what they held, as with trap.ts. */
  readonly slots?: readonly number[];
  /** Bytes copied to the start of the payload area (at most PAYLOAD_MAX). */
  readonly payload?: Uint8Array;
  /** The kPayloadLen word; defaults to payload.length. Any Int32, negative and oversized ones included. */
  readonly payloadLen?: number;
}

/**
 * A harness process's descriptors. 'null': fd 0 is console input already at end of file (a read answers 0 at
 * once, never parks), fds 1 and 2 are console outputs that discard (a write never parks on backpressure).
 * { input }: the same, but fd 0 first reads `input`. { share }: the same open files, at the same descriptors, as
 * another harness process (as spawn's default descriptor map gives a child its parent's). { files }: files[i] at
 * descriptor i (for a console over a stream the test controls, say). 'none': no descriptors.
 */
export type Stdio =
  | 'null'
  | 'none'
  | { readonly input: Uint8Array }
  | { readonly share: LocalProcess }
  | { readonly files: readonly (OpenFile | undefined)[] };

export interface AttachOptions {
  /** argv[0] and the program name ps() shows. Default 'local'. */
  readonly name?: string;
  /** Parent (default init): a harness parent can waitpid for the process and sees it as a zombie after exit. */
  readonly parent?: LocalProcess;
  /** Default 'null'. */
  readonly stdio?: Stdio;
}

export interface HarnessOptions extends Omit<KernelOptions, 'warmWorkers'> {
  /**
   * Virtual CPUs. Default 16. A harness process between two calls is 'running' and holds a virtual CPU, and a new
   * process's first frame is answered synchronously only while one is free; so boot with more CPUs than processes
   * you keep alive at once, or your frames park waiting for a CPU instead of being answered.
   */
  readonly cpus?: number;
}

const encoder = new Encoder();
const utf8 = new TextEncoder();

/** msgpack-encodes a value as userland's SDK does for record arguments (for hand-made payloads). */
export function encode(v: unknown): Uint8Array {
  return encoder.encode(v);
}

/** The syscall number of a call named in the ABI table. */
export function nrOf(name: SyscallName): number {
  return syscallByName(name)!.nr;
}

/** The errno reported for a number, as Answer.error spells it. */
function errorName(errno: number): string | null {
  return errno === 0 ? null : errnoName(errno) ?? `E${errno}`;
}

/**
 * Everything wrong with a reply to a frame, given the process that sent it (empty: well-formed). The contract
 * checked is the ABI's, whatever the frame held: an answer carries 0 or an errno the table defines, no payload on
 * failure or for a call that answers no bytes, a payload length within the channel, and only known signals; the
 * process is running after an answer, parked (blocked, or waiting for a CPU) when the state word still says
 * REQUEST, and gone when it says DEAD. Call it as soon as the reply is read: it looks at the process's state and
 * the frame's kNr word as they are now.
 */
export function replyProblems(p: LocalProcess, r: Reply): string[] {
  const problems: string[] = [];
  const state = p.state;
  switch (r.kind) {
    case 'reply': {
      if (r.errno !== 0 && errnoName(r.errno) === undefined) problems.push(`errno ${r.errno} is not in ERRNO`);
      if (!Number.isInteger(r.replyLen) || r.replyLen < 0 || r.replyLen > PAYLOAD_MAX) {
        problems.push(`replyLen ${r.replyLen} is outside 0..${PAYLOAD_MAX}`);
      }
      if (r.errno !== 0 && r.replyLen !== 0) problems.push(`failed call (${r.error}) has replyLen ${r.replyLen}`);
      const def = syscallByNr(p.channel.i32[kNr]!);
      const answersPayload = def !== undefined && retHasPayload(def.ret);
      if (r.replyLen !== 0 && !answersPayload) {
        problems.push(`${def?.name ?? 'unknown call'} answers no payload but replyLen is ${r.replyLen}`);
      }
      if (r.errno === 0 && !(Number.isFinite(r.ret0) && r.ret0 >= 0)) problems.push(`successful call has ret0 ${r.ret0}`);
      for (let sig = 0; sig < 32; sig++) {
        if ((r.signals & (1 << sig)) !== 0 && (sig === 0 || sig > NSIG || signalName(sig) === undefined)) {
          problems.push(`signal mask ${r.signals} has bit ${sig}, which is not a signal`);
        }
      }
      if (state !== 'running') problems.push(`answered, but the process is ${state} (an answer means it holds a CPU)`);
      break;
    }
    case 'parked':
      if (state !== 'blocked' && state !== 'ready') problems.push(`parked, but the process is ${state}`);
      break;
    case 'dead':
      if (p.alive) problems.push(`channel is dead, but the process is ${state}`);
      break;
    case 'invalid':
      problems.push(`channel state word is ${r.state} after serve (the kernel writes only REPLY or DEAD)`);
      break;
    default: {
      const never: never = r;
      problems.push(`unknown reply ${String(never)}`);
    }
  }
  return problems;
}

/** A worker-less process whose channel this harness writes, as its userland would. */
export class LocalProcess {
  private seq = 0;
  /** The whole channel as bytes, for rawBytes. */
  private readonly bytes: Uint8Array;

  constructor(
    private readonly kernel: Kernel,
    /** The kernel's process; tests may inspect it (fds, disposition, resources), never drive it directly. */
    readonly proc: Proc,
  ) {
    this.bytes = new Uint8Array(proc.channel.sab, 0, CHANNEL_BYTES);
  }

  get pid(): number {
    return this.proc.pid;
  }
  get state(): ProcState {
    return this.proc.state;
  }
  get alive(): boolean {
    return this.proc.alive;
  }
  /** The last frame has not been answered yet. */
  get parked(): boolean {
    return this.proc.channel.pending;
  }
  /** Alive and not parked: a frame sent now is served now. */
  get usable(): boolean {
    return this.alive && !this.parked;
  }
  get channel(): Proc['channel'] {
    return this.proc.channel;
  }

  /** Open descriptors, the open file each refers to and its close-on-exec flag, lowest first. */
  fds(): [number, OpenFile, boolean][] {
    return this.proc.fds.entries();
  }

  /**
   * Makes a call as userland's SDK would: number arguments go to the slots (anything else as NaN), a bytes argument
   * as raw payload (a string as UTF-8, cut at PAYLOAD_MAX: a short write), a record argument as one msgpack value.
   * A record that does not fit one payload throws a RangeError, as the SDK fails it before trapping.
   */
  call<N extends SyscallName>(name: N, ...args: ArgValues<SyscallOf<N>['args']>): Reply {
    const def: SyscallDef | undefined = syscallByName(name);
    if (def === undefined) throw new RangeError(`no syscall named ${name}`);
    return this.callDef(def, args as readonly unknown[]);
  }

  /**
   * call() for a definition picked at run time (the fuzzers walk the ABI table): the same marshalling, with the
   * values unchecked, so a value of the wrong type goes out as the SDK would send it (NaN in a slot).
   */
  callDef(def: SyscallDef, values: readonly unknown[]): Reply {
    this.mustLive();
    const name = def.name;
    const slots = slotCount(def);
    const f64 = this.channel.f64;
    for (let i = 0; i < slots; i++) {
      const v = values[i];
      f64[i] = typeof v === 'number' ? v : NaN;
    }
    const hasPayload = slots < def.args.length;
    let body: Uint8Array = new Uint8Array(0);
    if (hasPayload) {
      const arg = def.args[slots]!;
      const v = values[slots];
      if (arg.kind === 'bytes') {
        body = typeof v === 'string' ? utf8.encode(v) : v instanceof Uint8Array ? v : new Uint8Array(0);
        if (body.length > PAYLOAD_MAX) body = body.subarray(0, PAYLOAD_MAX);
      } else {
        body = encoder.encode(v);
        if (body.length > PAYLOAD_MAX) throw new RangeError(`${name}: record of ${body.length} bytes exceeds PAYLOAD_MAX`);
      }
      this.channel.payload.set(body);
    }
    return this.send(def.nr, hasPayload ? Math.max(0, values.length - 1) : values.length, body.length);
  }

  /** Sends an arbitrary frame: nothing is checked, so it may be as hostile as a process can make it. */
  frame(f: RawFrame): Reply {
    this.mustLive();
    const slots = f.slots ?? [];
    if (slots.length > ARG_SLOTS) throw new RangeError(`a frame has ${ARG_SLOTS} argument slots, not ${slots.length}`);
    const f64 = this.channel.f64;
    slots.forEach((v, i) => (f64[i] = v));
    const payload = f.payload ?? new Uint8Array(0);
    if (payload.length > PAYLOAD_MAX) throw new RangeError(`the payload area holds ${PAYLOAD_MAX} bytes, not ${payload.length}`);
    this.channel.payload.set(payload);
    return this.send(f.nr, f.argc ?? slots.length, f.payloadLen ?? payload.length);
  }

  /**
   * Copies `buf` over the channel from byte 0 (Int32 words, argument and result slots, payload: everything, the
   * state and wait words included), then stores STATE_REQUEST and serves it: a process scribbling garbage over its
   * own channel. Bytes past buf.length keep what they held; pass CHANNEL_BYTES bytes to overwrite all of it.
   */
  rawBytes(buf: Uint8Array): Reply {
    this.mustLive();
    if (buf.length > CHANNEL_BYTES) throw new RangeError(`the channel is ${CHANNEL_BYTES} bytes, not ${buf.length}`);
    this.bytes.set(buf);
    return this.request();
  }

  /** Reads the channel as it is now (after a parked call was answered, say). Sends nothing. */
  poll(): Reply {
    const ch = this.channel;
    const state = Atomics.load(ch.i32, kState);
    if (state === STATE_REQUEST) return { kind: 'parked', state, blocked: true };
    if (state === STATE_DEAD) return { kind: 'dead', state, blocked: false };
    if (state !== STATE_REPLY) return { kind: 'invalid', state, blocked: false };
    const errno = ch.i32[kErrno]!;
    const replyLen = ch.i32[kReplyLen]!;
    const inRange = replyLen >= 0 && replyLen <= PAYLOAD_MAX;
    return {
      kind: 'reply', state, blocked: false, errno, error: errorName(errno), ret0: ch.f64[RET0]!, ret1: ch.f64[RET1]!,
      replyLen, signals: ch.i32[kSignals]!, payload: inRange ? ch.payload.slice(0, replyLen) : new Uint8Array(0),
    };
  }

  /**
   * Waits until a parked call is answered or the process ends, as trap.ts's sleeping wait does (announce the sleep
   * in kUserWaiting, re-check, then wait on kState); rejects after timeoutMs. Timers and wake-ups run meanwhile.
   */
  async settle(timeoutMs = 5000): Promise<Reply> {
    const i32 = this.channel.i32;
    const deadline = performance.now() + timeoutMs;
    try {
      while (Atomics.load(i32, kState) === STATE_REQUEST) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`pid ${this.pid}: call still parked after ${timeoutMs} ms (${this.proc.wait?.reason ?? this.state})`);
        Atomics.store(i32, kUserWaiting, 1);
        const w = Atomics.waitAsync(i32, kState, STATE_REQUEST, left);
        if (w.async) await w.value;
      }
    } finally {
      Atomics.store(i32, kUserWaiting, 0);
    }
    return this.poll();
  }

  /**
   * Takes the buffers of the regions mapped for this process so far (a program's userland receives each as its
   * mmap returns; a harness that never takes them keeps every one alive as long as the process object).
   */
  takeGrants(): SharedArrayBuffer[] {
    return this.proc.localGrants.splice(0);
  }

  /** Ends the process with SIGKILL from the host, if it is still alive. */
  kill(): void {
    if (this.alive) this.kernel.kill(this.pid, 'SIGKILL');
  }

  /** A process that has ended runs no code: its trap would unwind instead of writing a frame (ExitUnwind). */
  private mustLive(): void {
    if (!this.alive) throw new Error(`pid ${this.pid} has ended (${this.state}); attach a new process, or use FrameHarness.renew`);
  }

  /** trap.ts's send: the frame's words, then the state word last (the store that publishes the frame). */
  private send(nr: number, argc: number, payloadLen: number): Reply {
    const i32 = this.channel.i32;
    i32[kNr] = nr;
    i32[kArgc] = argc;
    i32[kPayloadLen] = payloadLen;
    i32[kSeq] = ++this.seq;
    return this.request();
  }

  private request(): Reply {
    const i32 = this.channel.i32;
    Atomics.store(i32, kState, STATE_REQUEST);
    if (Atomics.load(i32, kKernelWaiting) !== 0) Atomics.notify(i32, kState);
    this.kernel.serve(this.proc);
    return this.poll();
  }
}

/** A booted kernel (no warm workers) and the harness processes attached to it. */
export class FrameHarness {
  private readonly attached = new Set<LocalProcess>();

  private constructor(readonly kernel: Kernel) {}

  static async boot(opts: HarnessOptions = {}): Promise<FrameHarness> {
    const kernel = await Kernel.boot({ shutdownGraceMs: 100, logLevel: 'error', ...opts, cpus: opts.cpus ?? 16, warmWorkers: 0 });
    return new FrameHarness(kernel);
  }

  /** Attaches a new worker-less process. It is 'new' until its first frame, which the scheduler then dispatches. */
  attach(opts: AttachOptions = {}): LocalProcess {
    const name = opts.name ?? 'local';
    const parent = opts.parent?.proc ?? this.kernel.init;
    const files = this.stdio(opts.stdio ?? 'null');
    const r = this.kernel.attachLocal(name, parent, files);
    if (typeof r === 'number') {
      for (const f of files) if (f !== undefined && f.refs === 0) f.release();
      throw new Error(`attachLocal(${name}) failed with errno ${-r} (${errorName(-r)})`);
    }
    for (const p of this.attached) if (!p.alive) this.attached.delete(p);
    const p = new LocalProcess(this.kernel, r);
    this.attached.add(p);
    return p;
  }

  /**
   * `p` if a frame sent to it now would be served now; otherwise kills it (if parked) and attaches a fresh process
   * with the same options. Fuzz loops call this before each frame so that one parked or dead process never
   * swallows the rest of a run.
   */
  renew(p: LocalProcess, opts: AttachOptions = {}): LocalProcess {
    if (p.usable) return p;
    p.kill();
    return this.attach(opts);
  }

  /** SIGKILLs every harness process still alive (so caught or ignored SIGTERMs cannot delay), then shuts down. */
  async shutdown(): Promise<void> {
    for (const p of this.attached) p.kill();
    this.attached.clear();
    await this.kernel.shutdown();
  }

  private stdio(s: Stdio): (OpenFile | undefined)[] {
    if (s === 'none') return [];
    if (s !== 'null' && 'files' in s) return [...s.files];
    if (s !== 'null' && 'share' in s) {
      const files: (OpenFile | undefined)[] = [];
      for (const [fd, f] of s.share.fds()) files[fd] = f;
      return files;
    }
    const input = s === 'null' ? new Uint8Array(0) : s.input;
    return [ConsoleIn.of(input, this.kernel), this.discard('stdout'), this.discard('stderr')];
  }

  private discard(name: string): ConsoleOut {
    // The write callback runs synchronously, so the buffered length drops back to 0 within write(); a high-water
    // mark above one payload then makes every write report "no backpressure", and the writer never parks.
    const sink = new Writable({ highWaterMark: 2 * PAYLOAD_MAX, write: (_chunk, _enc, done) => done() });
    return new ConsoleOut(name, sink, true, this.kernel);
  }
}
