// The syscall executor: decode a frame, validate it against the ABI, run the handler, hand back its result.
// Everything in the frame is untrusted: each value is read once from shared memory into a local before it is
// checked, structured payloads are copied out before decoding (so userland cannot change them mid-check), and
// every failure is an errno. The executor never throws; a handler that throws is a kernel bug, answered with
// EIO and reported as an event.

import { Decoder } from '@msgpack/msgpack';
import { ERRNO } from '../abi/errno.js';
import { kArgc, kNr, kPayloadLen, PAYLOAD_MAX } from '../abi/layout.js';
import { NR_MAX, type SyscallName } from '../abi/index.js';
import { SYSCALLS, type SyscallOf } from '../abi/syscalls.js';
import type { BytesArg, Infer, RecordArg, Schema, SlotArg, SyscallDef } from '../abi/types.js';
import { toError } from './errors.js';
import { BLOCK } from './fd.js';
import type { Proc } from './proc.js';
import { checkSlot, checkValue } from './validate.js';

type HandlerArg<A> = A extends BytesArg ? Uint8Array : A extends RecordArg<infer S extends Schema> ? Infer<S> : number;
type HandlerArgs<Args extends readonly unknown[]> = { -readonly [K in keyof Args]: HandlerArg<Args[K]> };

/**
 * A syscall handler: thin, it checks what only the kernel can know (does this fd exist, is this my child) and
 * calls into a subsystem. Returns a value >= 0, -errno, or BLOCK after arranging a wake-up. A call that answers
 * two integers sets ret1 with Kernel.setRet1; one that answers bytes writes them into the channel payload and
 * returns their count.
 */
export type Handler<N extends SyscallName, K> = (k: K, p: Proc, ...args: HandlerArgs<SyscallOf<N>['args']>) => number;
export type Handlers<K> = { readonly [N in SyscallName]: Handler<N, K> };

interface Compiled {
  readonly def: SyscallDef;
  readonly slots: readonly SlotArg[];
  readonly payload: BytesArg | RecordArg | null;
  readonly handler: (k: unknown, p: Proc, ...args: unknown[]) => number;
}

export interface ExecutorHooks {
  /** A handler threw: a broken kernel invariant, never user error. */
  bug(p: Proc, syscall: string, error: Error): void;
  /** Whether anyone traces calls; read once per call, so it must be cheap. */
  readonly tracing: { readonly active: boolean };
  /** A call passed validation and its handler is about to run (only while tracing). `args` is reused: copy it. */
  enter(p: Proc, def: SyscallDef, args: readonly unknown[], argc: number): void;
}

const ENOSYS = ERRNO.ENOSYS.no;
const EINVAL = ERRNO.EINVAL.no;
const EFAULT = ERRNO.EFAULT.no;
const EIO = ERRNO.EIO.no;

export class Executor<K> {
  private readonly table: (Compiled | undefined)[];
  private readonly scratch = new Uint8Array(PAYLOAD_MAX);
  /** Bounds keep a hostile payload from making the decoder allocate more than the payload could describe. */
  private readonly decoder = new Decoder({
    maxStrLength: PAYLOAD_MAX, maxBinLength: PAYLOAD_MAX, maxArrayLength: PAYLOAD_MAX,
    maxMapLength: PAYLOAD_MAX, maxExtLength: PAYLOAD_MAX,
  });
  private readonly args: unknown[] = new Array<unknown>(8).fill(0);

  constructor(
    private readonly k: K,
    handlers: Handlers<K>,
    private readonly hooks: ExecutorHooks,
  ) {
    this.table = new Array<Compiled | undefined>(NR_MAX + 1).fill(undefined);
    for (const def of SYSCALLS as readonly SyscallDef[]) {
      const slots = def.args.filter((a): a is SlotArg => a.kind !== 'bytes' && a.kind !== 'record');
      const last = def.args[def.args.length - 1];
      const payload = last !== undefined && (last.kind === 'bytes' || last.kind === 'record') ? last : null;
      const handler = handlers[def.name as SyscallName] as Compiled['handler'];
      this.table[def.nr] = { def, slots, payload, handler };
    }
  }

  /** The definition of the call in p's frame, if its number is known (for traces before validation). */
  peek(p: Proc): SyscallDef | undefined {
    return this.table[p.channel.i32[kNr]!]?.def;
  }

  /** Runs the call in p's frame. Returns a value >= 0, -errno, or BLOCK. Never throws. */
  run(p: Proc): number {
    const ch = p.channel;
    const nr = ch.i32[kNr]!;
    const c = nr >= 0 && nr <= NR_MAX ? this.table[nr] : undefined;
    if (c === undefined) {
      p.syscall = `syscall_${nr}`;
      p.answersBytes = false;
      p.replyLen = 0;
      return -ENOSYS;
    }
    p.syscall = c.def.name;
    p.answersBytes = c.def.ret.kind === 'bytes' || c.def.ret.kind === 'message';
    p.replyLen = 0;
    if (ch.i32[kArgc] !== c.slots.length) return -EINVAL;
    const args = this.args;
    for (let i = 0; i < c.slots.length; i++) {
      const v = ch.f64[i]!;
      const e = checkSlot(c.slots[i]!, v);
      if (e !== 0) return -e;
      args[i] = v;
    }
    const len = ch.i32[kPayloadLen]!;
    if (len < 0 || len > PAYLOAD_MAX) return -EFAULT;
    if (c.payload === null) {
      if (len !== 0) return -EINVAL;
    } else if (c.payload.kind === 'bytes') {
      args[c.slots.length] = ch.payload.subarray(0, len);
    } else {
      const v = this.decode(ch.payload, len);
      if (v === undefined) return -EINVAL;
      const e = checkValue(c.payload.schema, v);
      if (e !== 0) return -e;
      args[c.slots.length] = v;
    }
    if (this.hooks.tracing.active) this.hooks.enter(p, c.def, args, c.def.args.length);
    try {
      return c.handler(this.k, p, args[0], args[1], args[2], args[3], args[4], args[5]);
    } catch (e: unknown) {
      this.hooks.bug(p, c.def.name, toError(e));
      return -EIO;
    }
  }

  /** Copies then decodes one msgpack value; undefined if the bytes are not exactly one well-formed value. */
  private decode(src: Uint8Array, len: number): unknown {
    const bytes = this.scratch.subarray(0, len);
    bytes.set(src.subarray(0, len));
    try {
      const v: unknown = this.decoder.decode(bytes);
      return v === undefined ? null : v;
    } catch {
      return undefined;
    }
  }
}

export { BLOCK };
