// Calls in strace form: `[pid 3] read(4, 4096) = 120 <0.021 ms>`. A pure formatter derived from the ABI table:
// each argument is shown by its type (signals by name, flags as names joined by |, bytes escaped and cut short as
// strace cuts them, records compactly), each result by the call's result kind, and each failure as
// `-1 ENAME (message)`. Fuzz replays print with it; the kernel's --trace can too. Nothing here knows any
// particular syscall, and nothing here throws on a value of the wrong type: traces show hostile frames as sent.

import { ERRNO, errnoName } from '../abi/errno.js';
import { ARG_SLOTS } from '../abi/layout.js';
import { signalName } from '../abi/signals.js';
import type { Arg, SyscallDef } from '../abi/types.js';

/** Bytes of a string or byte argument shown before `...` (strace's default -s 32). */
export const STRING_MAX = 32;
/** Elements of a list or entries of a record shown before `...`. */
export const LIST_MAX = 8;
/** Nesting shown before a value is elided as `{...}` or `[...]`. */
const DEPTH_MAX = 4;

const ESCAPES: Readonly<Record<number, string>> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };

/** Bytes as a quoted C string, as strace prints them: escapes for control bytes, octal for the rest, at most
 *  `max` bytes then `...` after the closing quote. `total`: how many bytes there were, when `b` holds only the
 *  first of them (a trace event keeps TRACE_BYTES): `...` then says there were more than `max`. */
export function formatBytes(b: Uint8Array, max = STRING_MAX, total = b.length): string {
  const n = Math.min(b.length, max, total);
  let out = '"';
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    const esc = ESCAPES[c];
    if (esc !== undefined) out += esc;
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else {
      // Octal as short as it can be, unless the next byte shown is an octal digit that would run into it.
      const next = i + 1 < n ? b[i + 1]! : -1;
      const oct = c.toString(8);
      out += '\\' + (next >= 0x30 && next <= 0x37 ? oct.padStart(3, '0') : oct);
    }
  }
  return out + '"' + (total > max ? '...' : '');
}

const utf8 = new TextEncoder();

/** A number as the ABI carries it: integers plainly, anything else (NaN, -0, fractions) as JavaScript spells it. */
export function formatNumber(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Any decoded msgpack value, compactly: `{path: "x", argv: ["a", ...]}`. */
export function formatValue(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return formatBytes(utf8.encode(v));
  if (v instanceof Uint8Array) return formatBytes(v);
  if (Array.isArray(v)) {
    if (depth >= DEPTH_MAX) return '[...]';
    const shown = (v as unknown[]).slice(0, LIST_MAX).map((x) => formatValue(x, depth + 1));
    return `[${shown.join(', ')}${v.length > LIST_MAX ? ', ...' : ''}]`;
  }
  if (typeof v === 'object') {
    if (depth >= DEPTH_MAX) return '{...}';
    const entries = Object.entries(v as Record<string, unknown>);
    const shown = entries.slice(0, LIST_MAX).map(([k, x]) => `${formatKey(k)}: ${formatValue(x, depth + 1)}`);
    return `{${shown.join(', ')}${entries.length > LIST_MAX ? ', ...' : ''}}`;
  }
  return String(v);
}

/** A record key as it is when it is a plain identifier, quoted and escaped otherwise. */
function formatKey(k: string): string {
  return /^[A-Za-z_$][\w$]{0,31}$/.test(k) ? k : formatBytes(utf8.encode(k));
}

/** Flag bits by name, `|`-joined, with any bits the argument does not define in hex: `WNOHANG|0x4`. */
function formatFlags(bits: Readonly<Record<string, number>>, v: number, entries = Object.entries(bits)): string {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) return formatNumber(v);
  if (v === 0) return '0';
  const names: string[] = [];
  let rest = v;
  for (const [name, bit] of entries) {
    if ((v & bit) === bit && bit !== 0) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/** One argument by its ABI type. A value of the wrong type (a hostile frame's) is shown as it is. */
export function formatArg(a: Arg, v: unknown): string {
  if (v instanceof Uint8Array) return formatBytes(v);
  switch (a.kind) {
    case 'int':
    case 'fd':
    case 'pid':
      return typeof v === 'number' ? formatNumber(v) : formatValue(v);
    case 'signal': {
      if (typeof v !== 'number') return formatValue(v);
      return (Number.isInteger(v) && v > 0 ? signalName(v) : undefined) ?? formatNumber(v);
    }
    case 'flags':
      return typeof v === 'number' ? formatFlags(a.bits, v) : formatValue(v);
    case 'bytes':
      return typeof v === 'string' ? formatBytes(utf8.encode(v)) : formatValue(v);
    case 'record':
      return formatValue(v);
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

/** `-1 EBADF (Bad file descriptor)`; a number the errno table does not define is still shown. */
export function formatErrno(errno: number): string {
  const name = errnoName(errno);
  return name === undefined ? `-1 E${errno} (Unknown error ${errno})` : `-1 ${name} (${ERRNO[name].msg})`;
}

/** A successful result by the call's result kind. `undefined` means the call has not returned (it parked). */
export function formatResult(def: SyscallDef, result: unknown): string {
  if (result === undefined) return '?';
  const r = def.ret;
  switch (r.kind) {
    case 'void':
      return typeof result === 'number' ? formatNumber(result) : formatValue(result);
    case 'noreturn':
      return '?';
    case 'int':
      return typeof result === 'number' ? formatNumber(result) : formatValue(result);
    case 'pair': {
      // Two integers: `{pid: 5, status: 256}`, given either as a [first, second] pair or as a record.
      if (Array.isArray(result)) return formatValue({ [r.names[0]]: result[0] as unknown, [r.names[1]]: result[1] as unknown });
      return formatValue(result);
    }
    case 'bytes':
      return result instanceof Uint8Array ? `${result.length} ${formatBytes(result)}` : formatValue(result);
    case 'record':
      return formatValue(result);
    case 'mapping':
      return typeof result === 'number' && Number.isInteger(result) && result >= 0 ? `0x${result.toString(16)}` : formatValue(result);
    case 'message':
      // The message's bytes (and, given as a record, the integer beside them: `{data: "job", prio: 5}`).
      return result instanceof Uint8Array ? `${result.length} ${formatBytes(result)}` : formatValue(result);
    default: {
      const never: never = r;
      return String(never);
    }
  }
}

/** `0.021 ms`: a duration in nanoseconds as traces and descriptions print it, to the microsecond. Integer
 *  arithmetic: a trace prints one per call, and toFixed costs several times more. */
export function formatMs(ns: number): string {
  const us = Math.round(ns / 1000);
  if (us >= 0 && us < SHORT_MS.length) return SHORT_MS[us]!;
  if (!(us >= 0 && us <= Number.MAX_SAFE_INTEGER)) return `${(ns / 1e6).toFixed(3)} ms`;
  const ms = Math.floor(us / 1000);
  const frac = us - ms * 1000;
  return `${ms}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac} ms`;
}

/** `0.000 ms` to `0.999 ms`, made once: most calls last less than a millisecond. */
const SHORT_MS: readonly string[] = Array.from({ length: 1000 }, (_, us) => `0.${String(us).padStart(3, '0')} ms`);

/**
 * Text made once and kept in both forms a line sink may want: the string, and its bytes (ASCII, as every trace
 * line is). The parts most lines share are pieces made once (a call's start for a pid, small integers, short
 * durations), so that a sink writing bytes copies them instead of encoding the same text again at every call.
 */
export interface Piece {
  readonly text: string;
  readonly bytes: Uint8Array;
  /** The same bytes as little-endian 32-bit words, the last one padded with zeros: a sink copies four bytes at a
   *  time (a JavaScript loop over bytes costs about 3 ns a byte on these VMs, most of a short line's cost). */
  readonly words: Uint32Array;
}

export function makePiece(text: string): Piece {
  const bytes = utf8.encode(text);
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  const words = new Uint32Array(padded.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(4 * i, true);
  return { text, bytes, words };
}

/** `) = `: between a call's arguments and its answer. */
const EQUALS = makePiece(') = ');

/** Integers below this are pieces, made on first use (pids, descriptors, counts): a trace prints several per call. */
const SMALL_INT_LIMIT = 4096;
const INT_PIECES: (Piece | undefined)[] = [];

/** A small non-negative integer as a piece, or null for any other number. */
export function intPiece(v: number): Piece | null {
  if (!(v >= 0 && v < SMALL_INT_LIMIT && (v | 0) === v) || Object.is(v, -0)) return null;
  return (INT_PIECES[v] ??= makePiece(String(v)));
}

/** An integer as formatNumber prints it, from the small integers' pieces when it is one. */
export function formatInt(v: number): string {
  const p = intPiece(v);
  return p !== null ? p.text : formatNumber(v);
}

/** ` <0.000 ms>` to ` <0.999 ms>`, made on first use: most calls last less than a millisecond. */
const DURATION_PIECES: (Piece | undefined)[] = [];

/** A duration under a millisecond (to the microsecond) as a piece, or null. */
export function durationPiece(durationNs: number): Piece | null {
  const us = Math.round(durationNs / 1000);
  if (!(us >= 0 && us < SHORT_MS.length)) return null;
  return (DURATION_PIECES[us] ??= makePiece(` <${SHORT_MS[us]!}>`));
}

/** ` <0.021 ms>`, or nothing when the duration is unknown. */
export function formatDuration(durationNs: number | null): string {
  if (durationNs === null) return '';
  const p = durationPiece(durationNs);
  return p !== null ? p.text : ` <${formatMs(durationNs)}>`;
}

/** One argument's formatter, specialised to its ABI type once per definition (a trace formats every call). */
export type ArgFormatter = (v: unknown) => string;

function compileArg(a: Arg): ArgFormatter {
  switch (a.kind) {
    case 'int':
    case 'fd':
    case 'pid':
      return (v) => (typeof v === 'number' ? formatInt(v) : formatArg(a, v));
    case 'flags': {
      const entries = Object.entries(a.bits);
      return (v) => (typeof v === 'number' ? formatFlags(a.bits, v, entries) : formatArg(a, v));
    }
    case 'signal':
    case 'bytes':
    case 'record':
      return (v) => formatArg(a, v);
    default: {
      const never: never = a;
      return () => String(never);
    }
  }
}

/** A call's line start for one pid, `[pid 3] read(`, and the same followed by `) = `, what a call without
 *  arguments prints before its answer. */
interface Head {
  readonly pid: number;
  readonly open: Piece;
  readonly closed: Piece;
}

/** Heads a call keeps, by pid modulo this: a trace of up to this many processes making the same call never
 *  makes a head twice, and a trace of thousands keeps no more than this many per call. */
const HEAD_WAYS = 16;

interface CompiledCall {
  readonly args: readonly ArgFormatter[];
  readonly heads: (Head | undefined)[];
}

const compiled = new WeakMap<SyscallDef, CompiledCall>();
/** The last definition looked up, and its entry: a trace mostly shows the same few calls over and over, and a
 *  WeakMap lookup costs a tenth of a short line. */
let lastDef: SyscallDef | null = null;
let lastCompiled: CompiledCall | null = null;

function compiledCall(def: SyscallDef): CompiledCall {
  if (def === lastDef) return lastCompiled!;
  let c = compiled.get(def);
  if (c === undefined) {
    c = { args: def.args.map(compileArg), heads: new Array<Head | undefined>(HEAD_WAYS).fill(undefined) };
    compiled.set(def, c);
  }
  lastDef = def;
  lastCompiled = c;
  return c;
}

/** The formatters of a call's arguments, in order (compiled on first use, then cached). */
export function argFormatters(def: SyscallDef): readonly ArgFormatter[] {
  return compiledCall(def).args;
}

function headOf(def: SyscallDef, c: CompiledCall, pid: number): Head {
  const way = pid & (HEAD_WAYS - 1);
  const h = c.heads[way];
  if (h !== undefined && h.pid === pid) return h;
  const open = `[pid ${pid}] ${def.name}(`;
  const made = { pid, open: makePiece(open), closed: makePiece(`${open}) = `) };
  c.heads[way] = made;
  return made;
}

/** Where writeHead reads arguments: argOf(key, i) is argument i of the call `key` names (an event ring's id). */
export interface ArgSource {
  argOf(key: number, i: number): unknown;
}

/** Where writeHead puts its text, a part at a time (records.ts's line sinks are such). */
export interface TextOut {
  put(s: string): void;
  piece(p: Piece): void;
}

/** `[pid 3] read(4, 4096`: a call's line up to its closing parenthesis, which the answer or `<unfinished ...>`
 *  then completes. Arguments past the definition's (a frame with too many slots) print as plain values. */
export function writeHead(out: TextOut, pid: number, def: SyscallDef, argc: number, src: ArgSource, key: number): void {
  const c = compiledCall(def);
  const fmts = c.args;
  out.piece(headOf(def, c, pid).open);
  for (let i = 0; i < argc; i++) {
    const v = src.argOf(key, i);
    const f = fmts[i];
    if (i !== 0) out.put(', ');
    out.put(f !== undefined ? f(v) : typeof v === 'number' ? formatNumber(v) : formatValue(v));
  }
}

/** writeHead, then `) = `: a call's line up to its answer. */
export function writeUpToAnswer(out: TextOut, pid: number, def: SyscallDef, argc: number, src: ArgSource, key: number): void {
  if (argc === 0) return out.piece(headOf(def, compiledCall(def), pid).closed);
  writeHead(out, pid, def, argc, src, key);
  out.piece(EQUALS);
}

/** writeHead's text as a string. */
export function formatHead(pid: number, def: SyscallDef, argc: number, src: ArgSource, key: number): string {
  const acc = {
    text: '',
    put(s: string): void {
      this.text += s;
    },
    piece(p: Piece): void {
      this.text += p.text;
    },
  };
  writeHead(acc, pid, def, argc, src, key);
  return acc.text;
}

/** An ArgSource over an argument list (key unused). */
export function listArgs(args: readonly unknown[]): ArgSource {
  return { argOf: (_key, i) => args[i] };
}

/** The argument list: each value by its argument's type; values past the table's arguments (a frame with too
 *  many slots) are shown as numbers after them. */
function formatArgs(def: SyscallDef, args: readonly unknown[]): string {
  const fmts = argFormatters(def);
  const shown = args.map((v, i) => {
    const f = fmts[i];
    return f === undefined ? (typeof v === 'number' ? formatNumber(v) : formatValue(v)) : f(v);
  });
  return shown.join(', ');
}

/**
 * One call in strace form: `[pid 3] read(4, 4096) = 120 <0.021 ms>`, or for a failure
 * `[pid 3] write(9, "hi\n") = -1 EBADF (Bad file descriptor)`. `errno` is 0 on success, else the positive errno;
 * `result` is what the call answered (a number, the bytes of a read, a record, a [first, second] pair), or
 * undefined for a call that has not returned, which prints as `= ? <unfinished ...>`.
 */
export function formatCall(
  pid: number, def: SyscallDef, args: readonly unknown[], result: number | unknown, errno: number, durationNs: number | null,
): string {
  const head = `[pid ${pid}] ${def.name}(${formatArgs(def, args)})`;
  if (errno !== 0) return `${head} = ${formatErrno(errno)}${formatDuration(durationNs)}`;
  if (result === undefined && def.ret.kind !== 'noreturn') return `${head} = ? <unfinished ...>`;
  return `${head} = ${formatResult(def, result)}${formatDuration(durationNs)}`;
}

/** The answer to a call that parked, printed when it comes: `[pid 3] <... waitpid resumed> = 4`. */
export function formatResumed(
  pid: number, def: SyscallDef, result: number | unknown, errno: number, durationNs: number | null,
): string {
  const head = `[pid ${pid}] <... ${def.name} resumed>`;
  if (errno !== 0) return `${head} = ${formatErrno(errno)}${formatDuration(durationNs)}`;
  return `${head} = ${formatResult(def, result)}${formatDuration(durationNs)}`;
}

/** A definition for a syscall number the table does not have, so that a trace can still show the frame: its
 *  slots (argc of them, as far as the channel has slots) as plain integers, answering an integer. */
export function unknownSyscall(nr: number, argc: number): SyscallDef {
  const slots = Number.isInteger(argc) ? Math.max(0, Math.min(ARG_SLOTS, argc)) : 0;
  const args: Arg[] = Array.from({ length: slots }, (_, i) => ({ kind: 'int', name: `arg${i}`, min: -Infinity, max: Infinity }));
  return { nr, name: `syscall_${nr}`, family: 'process', args, ret: { kind: 'int', name: 'ret' }, errnos: [], blocking: false, doc: '' };
}

