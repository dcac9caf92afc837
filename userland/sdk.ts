// agentix/userland: what a program imports. Stubs are derived from the ABI table; nothing here names a syscall
// by hand except the small wrappers at the end, which call the derived stubs.
//
// This module is evaluated inside each process's sandbox (a fresh vm context), never in the host realm.

import './textcodec.js'; // must stay first: installs TextEncoder/TextDecoder before msgpack loads
import { Decoder, Encoder } from '@msgpack/msgpack';
import {
  ERRNO, PAYLOAD_MAX, SIG_CATCH, SIG_DFL, SIG_IGN, SYSCALLS, slotCount, type AsyncSys, type Ret, type SyncSys,
  type SyscallDef,
} from '../abi/index.js';
import { SysError, Trap, type Decode, type Stub } from './trap.js';
import { FastIo } from './fastio.js';

export * from '../abi/index.js';
export { SysError } from './trap.js';

let current: Trap | null = null;
let fast: FastIo | null = null;

function trap(): Trap {
  if (current === null) throw new Error('agentix/userland works only inside an Agentix process (run it with `agentix run`)');
  return current;
}

/** Called once by the process start routine (crt0) with the process's own channel and its grant reader. */
export function attachChannel(sab: SharedArrayBuffer, takeGrant: () => SharedArrayBuffer | undefined): Trap {
  current = new Trap(sab);
  current.onSignals = runSignalHandlers;
  current.takeGrant = takeGrant;
  fast = new FastIo(current, { pipeRing: stubNamed('pipe_ring'), futexWake: stubNamed('futex_wake'), getpid: stubNamed('getpid') });
  return current;
}

// Globals the per-call path uses, taken once: a global lookup in a vm context costs far more than a module binding.
const { isView } = ArrayBuffer;
const Uint8ArrayCtor = Uint8Array;
const { max } = Math;
const PromiseCtor = Promise;

const encoder = new Encoder();
const decoder = new Decoder();
const utf8 = new TextEncoder();

function toBytes(v: unknown): Uint8Array | null {
  if (typeof v === 'string') return utf8.encode(v);
  if (v instanceof Uint8ArrayCtor) return v;
  if (isView(v)) return new Uint8ArrayCtor(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

/** Fills the frame for one call. Values are passed through as given: the kernel, not this code, validates them. */
function marshal(t: Trap, def: SyscallDef, slots: number, args: readonly unknown[]): void {
  const hasPayload = slots < def.args.length;
  for (let i = 0; i < slots; i++) {
    const v = args[i];
    t.f64[i] = typeof v === 'number' ? v : 0 / 0;
  }
  t.argc = hasPayload ? max(0, args.length - 1) : args.length;
  t.payloadLen = 0;
  if (!hasPayload) return;
  const payloadArg = def.args[slots]!;
  const v = args[slots];
  let body: Uint8Array | null;
  if (payloadArg.kind === 'bytes') {
    body = toBytes(v);
    if (body === null) throw new SysError(ERRNO.EINVAL.no, def.name);
    // A write larger than one payload is a short write, as POSIX allows; writeAll loops.
    if (body.length > PAYLOAD_MAX) body = body.subarray(0, PAYLOAD_MAX);
  } else {
    body = encoder.encode(v);
    if (body.length > PAYLOAD_MAX) throw new SysError(ERRNO.E2BIG.no, def.name);
  }
  t.payload.set(body);
  t.payloadLen = body.length;
}

function decoderFor(r: Ret): Decode {
  switch (r.kind) {
    case 'void':
    case 'noreturn':
      return () => undefined;
    case 'int':
      return (t) => t.ret0;
    case 'pair': {
      const [a, b] = r.names;
      return (t) => ({ [a]: t.ret0, [b]: t.ret1 });
    }
    case 'bytes':
      return (t) => t.payload.slice(0, t.replyLen);
    case 'record':
      return (t) => decoder.decode(t.payload.slice(0, t.replyLen));
    case 'mapping':
      return (t) => {
        // The kernel posted the region's buffer before it replied, so it is waiting on the grant port now.
        const sab = t.takeGrant();
        if (sab === undefined) throw new SysError(ERRNO.EFAULT.no, 'mapping');
        fast?.mapped(t.ret0, sab);
        return { addr: t.ret0, bytes: new Uint8ArrayCtor(sab), flags: t.ret1 };
      };
    case 'message': {
      const name = r.name;
      return (t) => ({ data: t.payload.slice(0, t.replyLen), [name]: t.ret1 });
    }
    default: {
      const never: never = r;
      throw new Error(`unknown result kind ${String(never)}`);
    }
  }
}

const STUBS: readonly Stub[] = (SYSCALLS as readonly SyscallDef[]).map((def) => {
  const slots = slotCount(def);
  return { nr: def.nr, name: def.name, marshal: (t, args) => marshal(t, def, slots, args), decode: decoderFor(def.ret) };
});

function stubNamed(name: string): Stub {
  const stub = STUBS.find((s) => s.name === name);
  if (stub === undefined) throw new Error(`the ABI has no ${name}`);
  return stub;
}

function build<T>(make: (stub: Stub) => unknown, overrides: Readonly<Record<string, unknown>>): T {
  const out: Record<string, unknown> = {};
  for (const stub of STUBS) out[stub.name] = overrides[stub.name] ?? make(stub);
  return Object.freeze(out) as T;
}

// read, write and the futex calls try the fast paths first (fastio.ts): pipes and futex words in shared memory,
// with waits in place only for sync calls (an async call must leave the thread free). munmap tells the futex path
// which mappings are gone. Every other call goes straight to the kernel.
const readStub = stubNamed('read');
const writeStub = stubNamed('write');
const munmapStub = stubNamed('munmap');
const futexWaitStub = stubNamed('futex_wait');
const futexWakeStub = stubNamed('futex_wake');

function fastRead(fd: unknown, count: unknown, mayWait: boolean): Uint8Array | null {
  trap();
  return fast!.read(fd, count, mayWait);
}

function fastWrite(fd: unknown, data: unknown, mayWait: boolean): { bytes: Uint8Array; n: number } | null {
  trap();
  const bytes = toBytes(data);
  if (bytes === null) return null;
  const n = fast!.writeSome(fd, bytes, mayWait);
  return n === null ? null : { bytes, n };
}

function munmap(call: (stub: Stub, args: unknown[]) => unknown, addr: unknown, length: unknown): unknown {
  const r = call(munmapStub, [addr, length]);
  if (r instanceof PromiseCtor) return r.then((v) => (fast!.unmapped(addr as number), v));
  fast!.unmapped(addr as number);
  return r;
}

/** Syscalls that park the calling thread until the kernel answers. Failures throw SysError. */
export const sys: SyncSys = build<SyncSys>((stub) => (...args: unknown[]) => trap().callSync(stub, args), {
  read: (fd: unknown, count: unknown) => fastRead(fd, count, true) ?? trap().callSync(readStub, [fd, count]),
  munmap: (addr: unknown, length: unknown) => munmap((stub, args) => trap().callSync(stub, args), addr, length),
  futex_wait: (addr: unknown, expected: unknown, timeoutMs: unknown) => {
    if (fast!.futexWait(addr, expected, timeoutMs)) return undefined;
    return trap().callSync(futexWaitStub, [addr, expected, timeoutMs]);
  },
  futex_wake: (addr: unknown, count: unknown) => {
    trap();
    const woken = fast!.futexWake(addr, count);
    if (woken !== null) return woken;
    return trap().callSync(futexWakeStub, [addr, count]);
  },
  write: (fd: unknown, data: unknown) => {
    const done = fastWrite(fd, data, true);
    if (done === null) return trap().callSync(writeStub, [fd, data]);
    if (done.n === done.bytes.length) return done.n;
    try {
      return done.n + (trap().callSync(writeStub, [fd, done.bytes.subarray(done.n)]) as number);
    } catch (e: unknown) {
      if (e instanceof SysError) return done.n; // some bytes went in: a write that moved some returns their count
      throw e;
    }
  },
});

/** The same syscalls, answered through promises so the thread stays free; one call is in flight at a time. */
export const sysAsync: AsyncSys = build<AsyncSys>((stub) => (...args: unknown[]) => trap().callAsync(stub, args), {
  read: (fd: unknown, count: unknown) => {
    const bytes = fastRead(fd, count, false);
    return bytes === null ? trap().callAsync(readStub, [fd, count]) : PromiseCtor.resolve(bytes);
  },
  munmap: (addr: unknown, length: unknown) => munmap((stub, args) => trap().callAsync(stub, args), addr, length),
  write: async (fd: unknown, data: unknown) => {
    const done = fastWrite(fd, data, false);
    if (done === null) return trap().callAsync(writeStub, [fd, data]);
    if (done.n === done.bytes.length) return done.n;
    try {
      return done.n + ((await trap().callAsync(writeStub, [fd, done.bytes.subarray(done.n)])) as number);
    } catch (e: unknown) {
      if (e instanceof SysError) return done.n;
      throw e;
    }
  },
});

// ---- signals ----------------------------------------------------------------------------------------------------

export type SignalHandler = (sig: number) => void;
const handlers: (SignalHandler | undefined)[] = [];

/** Sets what happens on a signal: a handler function (run when the kernel delivers it), 'default' or 'ignore'. */
export function signal(sig: number, action: SignalHandler | 'default' | 'ignore'): void {
  const disposition = typeof action === 'function' ? SIG_CATCH : action === 'ignore' ? SIG_IGN : SIG_DFL;
  sys.sigaction(sig, disposition);
  handlers[sig] = typeof action === 'function' ? action : undefined;
}

function runSignalHandlers(mask: number): void {
  for (let sig = 1; sig < 32; sig++) {
    if ((mask & (1 << sig)) !== 0) handlers[sig]?.(sig);
  }
}

// ---- small wrappers ---------------------------------------------------------------------------------------------

/**
 * read(2) into a buffer of yours: fills up to buf.length bytes and returns how many (0: end of file), so a loop
 * that reads a stream allocates nothing per call. On a pipe the bytes go from the ring straight into buf.
 */
export function readInto(fd: number, buf: Uint8Array): number {
  trap();
  const n = fast!.readInto(fd, buf, true);
  if (n >= 0) return n;
  const bytes = trap().callSync(readStub, [fd, buf.length < PAYLOAD_MAX ? buf.length : PAYLOAD_MAX]) as Uint8Array;
  buf.set(bytes);
  return bytes.length;
}

/** Writes all of data, looping over short writes. */
export function writeAll(fd: number, data: Uint8Array | string): void {
  let bytes = typeof data === 'string' ? utf8.encode(data) : data;
  while (bytes.length > 0) bytes = bytes.subarray(sys.write(fd, bytes));
}

export async function writeAllAsync(fd: number, data: Uint8Array | string): Promise<void> {
  let bytes = typeof data === 'string' ? utf8.encode(data) : data;
  while (bytes.length > 0) bytes = bytes.subarray(await sysAsync.write(fd, bytes));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads until end of file. */
export function readAll(fd = 0): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const c = sys.read(fd, PAYLOAD_MAX);
    if (c.length === 0) return concat(chunks, total);
    chunks.push(c);
    total += c.length;
  }
}

export async function readAllAsync(fd = 0): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const c = await sysAsync.read(fd, PAYLOAD_MAX);
    if (c.length === 0) return concat(chunks, total);
    chunks.push(c);
    total += c.length;
  }
}

export function readText(fd = 0): string {
  return new TextDecoder().decode(readAll(fd));
}

/** Formats values the way console.log does, for the types a sandboxed program has. */
export function format(...values: unknown[]): string {
  return values.map(formatOne).join(' ');
}

function formatOne(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.stack ?? `${v.name}: ${v.message}`;
  if (typeof v === 'object' && v !== null) {
    try {
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  return String(v);
}

/** console.log to stdout: one line. */
export function print(...values: unknown[]): void {
  writeAll(1, format(...values) + '\n');
}

/** console.error to stderr: one line. */
export function eprint(...values: unknown[]): void {
  writeAll(2, format(...values) + '\n');
}

export function sleep(ms: number): void {
  const ns = Math.max(0, Math.round(ms * 1e6));
  sys.nanosleep(Math.floor(ns / 1e9), ns % 1e9);
}

export function sleepAsync(ms: number): Promise<void> {
  const ns = Math.max(0, Math.round(ms * 1e6));
  return sysAsync.nanosleep(Math.floor(ns / 1e9), ns % 1e9);
}

/** Ends the process now with an exit code; never returns. */
export function exit(code = 0): never {
  return sys.exit(code);
}

/** A console whose output goes through the kernel: log/info/debug to fd 1, warn/error to fd 2. */
export const console = Object.freeze({
  log: print,
  info: print,
  debug: print,
  warn: eprint,
  error: eprint,
});
