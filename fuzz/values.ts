// Argument values generated from the ABI's types, never from a syscall's name: an int's bounds, a flags
// argument's bits, a signal's range, a record's Schema. Most values are valid for their type (so calls get past
// validation and into the handlers), some sit on a boundary, some are just outside it, and a few are of the
// wrong type altogether. Descriptors, pids and addresses come mostly from the resources earlier calls returned,
// and strings with a form (abi/types.ts, STR_FORMS) mostly have it, often naming what an earlier call named.

import * as layout from '../abi/layout.js';
import * as limits from '../abi/limits.js';
import { NSIG } from '../abi/signals.js';
import { formError, STR_FORMS, type FlagsArg, type IntArg, type Schema, type SignalArg, type SlotArg, type StrForm, type StrFormName } from '../abi/types.js';
import type { Choices } from './choice.js';

const { PAYLOAD_MAX } = layout;
const { OPEN_MAX, PID_MAX } = limits;

/** What earlier calls of the same input made available to later ones. */
export interface ValueContext {
  /** Descriptors the caller holds or held: those it started with and results marked resource 'fd'. */
  readonly fds: readonly number[];
  /** Addresses the caller mapped or had mapped: every 'mapping' result, and results marked resource 'addr'. */
  readonly addrs: readonly number[];
  /** Pids worth naming: the harness processes (live or ended) and results marked resource 'pid'. */
  readonly pids: readonly number[];
  /** Integers that earlier calls answered or were given (an mmap's address and length for a munmap). */
  readonly ints: readonly number[];
  /** Each successful call's integer answer followed by its integer arguments, newest last: a later call's int
   *  arguments may take one in order (a munmap the address an mmap answered and the length it was given). */
  readonly tuples: readonly (readonly number[])[];
  /** Strings that mean something (a program that exists, a directory) and strings earlier calls were given. */
  readonly strings: readonly string[];
  /** Per string form, values that successful calls were given (an object's name, for the next open or unlink). */
  readonly names: ReadonlyMap<StrFormName, readonly string[]>;
}

/** Every limit the ABI publishes, and its neighbours: where off-by-one bugs live. */
const LIMITS: readonly number[] = [...new Set(
  Object.values({ ...limits, ARG_SLOTS: layout.ARG_SLOTS, PAYLOAD_MAX, CHANNEL_BYTES: layout.CHANNEL_BYTES, NSIG })
    .filter((v): v is number => typeof v === 'number')
    .flatMap((v) => [v - 1, v, v + 1]),
)];

/** Doubles that are not integers a validator expects, or are integers at the edges of what a slot carries. */
export const ODD_NUMBERS: readonly number[] = [
  NaN, Infinity, -Infinity, -0, 0.5, -0.5, 1.5, 1e-300, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE,
  2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 64,
];

export const INTERESTING: readonly number[] = [0, 1, -1, 2, 7, 8, 15, 16, 255, 256, 4095, 4096, 65535, 65536, ...LIMITS, ...ODD_NUMBERS];

/** An integer in [lo, hi], wide ranges included (up to 2^53): a few bytes pick it. */
function inRange(c: Choices, lo: number, hi: number): number {
  const span = hi - lo;
  if (span <= 0) return lo;
  if (span < 2 ** 48) return lo + c.below(span + 1);
  return lo + Math.floor((c.uint(6) / 2 ** 48) * span);
}

/** A small integer, mostly non-negative: descriptors, counts, codes. */
function small(c: Choices): number {
  return c.between(-2, 17);
}

export function intValue(c: Choices, a: Pick<IntArg, 'min' | 'max'>, ctx: ValueContext): number {
  const { min, max } = a;
  const clamp = (v: number): number => Math.min(max, Math.max(min, v));
  switch (c.weighted([30, 25, 25, 12, 8])) {
    case 0:
      return c.pick([min, max, clamp(min + 1), clamp(max - 1), clamp(0), clamp(1), clamp(-1)]);
    case 1: {
      // Recent values first: the address an mmap just answered, and the length it was given, for a munmap.
      const seen = ctx.ints.filter((v) => v >= min && v <= max);
      if (seen.length === 0) return clamp(small(c));
      return c.chance(1, 2) ? c.pick(seen.slice(-4)) : c.pick(seen);
    }
    case 2:
      return inRange(c, min, max);
    case 3:
      return clamp(small(c));
    default:
      return c.pick([min - 1, max + 1, ...ODD_NUMBERS, ...LIMITS]);
  }
}

/** An int that names an address: mostly one of the caller's mappings, at its start or a word or a page in (a
 *  futex word, a munmap), now and then misaligned or just before it; else any int of the range. */
function addrValue(c: Choices, a: IntArg, ctx: ValueContext): number {
  if (ctx.addrs.length === 0 || c.chance(1, 5)) return intValue(c, a, ctx);
  const base = c.chance(1, 2) ? c.pick(ctx.addrs.slice(-2)) : c.pick(ctx.addrs);
  const offset = c.pick([0, 0, 0, 0, 4, 8, 12, 64, 4092, 4096, 1, 2, -4]);
  return Math.min(a.max, Math.max(a.min, base + offset));
}

function fdValue(c: Choices, ctx: ValueContext): number {
  switch (c.weighted([60, 20, 10, 10])) {
    case 0:
      // The newest first: what the last call opened is what the next one most likely means (an mq_send after
      // an mq_open), as with ints.
      if (ctx.fds.length === 0) return small(c);
      return c.chance(1, 2) ? c.pick(ctx.fds.slice(-2)) : c.pick(ctx.fds);
    case 1:
      return c.between(0, 4);
    case 2:
      return c.pick([OPEN_MAX - 1, OPEN_MAX, -1]);
    default:
      return c.pick(INTERESTING);
  }
}

function pidValue(c: Choices, ctx: ValueContext): number {
  switch (c.weighted([65, 10, 15, 10])) {
    case 0:
      return ctx.pids.length > 0 ? c.pick(ctx.pids) : 1;
    case 1:
      return 1; // init
    case 2:
      // Next to a known pid: a pid not given out yet, or one given out just before.
      return (ctx.pids.length > 0 ? c.pick(ctx.pids) : 1) + c.pick([-1, 1, 2]);
    default:
      return c.pick([0, -1, PID_MAX, PID_MAX + 1, ...ODD_NUMBERS]);
  }
}

function signalValue(c: Choices, a: SignalArg): number {
  switch (c.weighted([70, 20, 10])) {
    case 0:
      return a.zero && c.chance(1, 8) ? 0 : c.between(1, NSIG);
    case 1:
      return c.between(0, NSIG); // numbers in the gaps of the signal table included
    default:
      return c.pick([-1, NSIG + 1, 32, 64, ...ODD_NUMBERS]);
  }
}

function flagsValue(c: Choices, a: FlagsArg): number {
  const bits = Object.values(a.bits);
  switch (c.weighted([40, 40, 10, 10])) {
    case 0:
      return 0;
    case 1:
      return bits.reduce((m, b) => (c.chance(1, 2) ? m | b : m), 0);
    case 2:
      return a.mask;
    default: {
      // A bit the argument does not define, alone or with the valid ones.
      const outside = Array.from({ length: 31 }, (_, i) => 1 << i).filter((b) => (b & a.mask) === 0);
      return c.pick([...outside.map((b) => b | (c.chance(1, 2) ? a.mask : 0)), -1, 2 ** 31, ...ODD_NUMBERS]);
    }
  }
}

/** A value for a slot argument, by its type. */
export function slotValue(c: Choices, a: SlotArg, ctx: ValueContext): number {
  switch (a.kind) {
    case 'int':
      return a.resource === 'addr' ? addrValue(c, a, ctx) : intValue(c, a, ctx);
    case 'fd':
      return fdValue(c, ctx);
    case 'pid':
      return pidValue(c, ctx);
    case 'signal':
      return signalValue(c, a);
    case 'flags':
      return flagsValue(c, a);
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** A bytes argument: its data, and the kPayloadLen word when it is to disagree with the data (past
 *  PAYLOAD_MAX, or negative: the frame errors). */
export interface BytesValue {
  readonly data: Uint8Array;
  readonly payloadLen?: number;
}

export function bytesValue(c: Choices): BytesValue {
  switch (c.weighted([30, 30, 10, 10, 8, 7, 5])) {
    case 0:
      return { data: c.take(c.between(0, 8)) };
    case 1:
      return { data: c.take(c.between(9, 256)) };
    case 2:
      return { data: new Uint8Array(0) };
    case 3:
      return { data: pattern(PAYLOAD_MAX) };
    case 4:
      return { data: pattern(c.pick([4095, 4096, 4097, PAYLOAD_MAX - 1])) };
    case 5:
      return { data: pattern(c.between(1, PAYLOAD_MAX)) };
    default:
      return { data: new Uint8Array(0), payloadLen: c.pick([PAYLOAD_MAX + 1, -1, 2 ** 31 - 1, -(2 ** 31)]) };
  }
}

const PATTERN = new Uint8Array(PAYLOAD_MAX);
for (let i = 0; i < PAYLOAD_MAX; i++) PATTERN[i] = (i * 31 + 7) & 0xff;

/** n bytes (at most PAYLOAD_MAX) that are not all alike, so a write that moved the wrong bytes shows. A view of
 *  one shared buffer: callers that change bytes copy first. */
export function pattern(n: number): Uint8Array {
  return PATTERN.subarray(0, Math.max(0, Math.min(n, PAYLOAD_MAX)));
}

// ---- strings with a form --------------------------------------------------------------------------------------

/** Letters of fresh short values: few, so that independent creations meet (EEXIST, a second opener). */
const FORM_LETTERS = 'abc';

export interface FormCase {
  readonly value: string;
  /** What a call answers for it: null (valid), the form's errno, or E2BIG past the schema's bound. */
  readonly error: string | null;
}

/** A form's boundary values for a string of at most `max`: the shortest and longest valid values, one past the
 *  longest, one short of the shortest, no prefix, the empty string, each forbidden character, past `max`. */
export function formBoundaries(form: StrFormName, max: number): FormCase[] {
  const f: StrForm = STR_FORMS[form];
  const body = (n: number): string => 'a'.repeat(Math.max(0, n));
  const values = [
    f.prefix + body(f.minBody), f.prefix + body(f.maxBody), f.prefix + body(f.maxBody + 1), f.prefix + body(f.minBody - 1),
    body(f.minBody + f.prefix.length), '', ...f.forbidden.flatMap((ch) => [f.prefix + ch + body(f.minBody), f.prefix + body(f.minBody) + ch]),
    f.prefix + body(max),
  ];
  return [...new Set(values)].map((value) => ({ value, error: value.length > max ? 'E2BIG' : formError(form, value) }));
}

/** formBoundaries' values per form and bound, made once (one is longer than the bound). */
const BOUNDARIES = new Map<string, readonly string[]>();

/** A value for a string with a form: mostly valid (a name an earlier call used, or a fresh one), the rest on the
 *  form's boundaries. */
export function formedValue(c: Choices, form: StrFormName, max: number, ctx: ValueContext): string {
  const f: StrForm = STR_FORMS[form];
  const known = ctx.names.get(form) ?? [];
  const choice = c.weighted([40, 30, 10, 20]);
  if (choice === 0 && known.length > 0) return c.chance(1, 2) ? c.pick(known.slice(-4)) : c.pick(known);
  if (choice <= 1) {
    const n = c.between(f.minBody, Math.min(f.maxBody, f.minBody + 1));
    let body = '';
    for (let i = 0; i < n; i++) body += FORM_LETTERS[c.below(FORM_LETTERS.length)]!;
    return f.prefix + body;
  }
  if (choice === 2) {
    // Any characters of any valid length (multi-byte ones too), with the forbidden ones replaced.
    const raw = text(c, c.between(f.minBody, f.maxBody));
    return f.prefix + [...raw].map((ch) => (f.forbidden.includes(ch) ? 'x' : ch)).join('');
  }
  const key = `${form} ${max}`;
  let cases = BOUNDARIES.get(key);
  if (cases === undefined) BOUNDARIES.set(key, (cases = formBoundaries(form, max).map((b) => b.value)));
  return c.pick(cases);
}

// ---- records from their Schema --------------------------------------------------------------------------------

/** Keys a validator that treats a decoded map as a plain object could mishandle (prototype keys, the empty key). */
const ODD_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'PATH'];

/**
 * A budget for one record's encoded size: a record bigger than a payload is refused by the SDK before it traps,
 * so generated lists and strings grow only while they fit. Approximate (msgpack headers are counted generously).
 */
class Budget {
  constructor(public left: number) {}
  /** Takes up to `want` units of `each` bytes; returns how many it could. */
  take(want: number, each: number): number {
    const n = Math.max(0, Math.min(want, Math.floor(this.left / Math.max(1, each))));
    this.left -= n * each;
    return n;
  }
}

function text(c: Choices, n: number): string {
  if (n <= 0) return '';
  // Mostly ASCII from the input; a byte above 0x7f becomes a two-byte UTF-8 character, so lengths in characters
  // and in bytes differ, as they do for real paths.
  const src = c.take(Math.min(n, 64));
  let s = '';
  for (let i = 0; i < src.length; i++) s += String.fromCharCode(src[i]! < 0x20 ? 0x61 + (src[i]! % 26) : src[i]!);
  return (s.length >= n ? s : s + 'x'.repeat(n - s.length)).slice(0, n);
}

/** A value of the wrong type for a schema node: what a hostile or buggy userland sends. */
function wrongValue(c: Choices, s: Schema): unknown {
  const options: unknown[] = [null, -1, 0.5, 'x', true, [], {}, 2 ** 53, new Uint8Array([1, 2])];
  const v = c.pick(options);
  // Keep it wrong: an int schema given a number in range is not a wrong type.
  if (s.t === 'int' && typeof v === 'number' && Number.isInteger(v) && v >= s.min && v <= s.max) return 'x';
  return v;
}

/** A length for a string, list or dict: mostly short, sometimes the limit, rarely one past it. */
function lengthFor(c: Choices, max: number): number {
  switch (c.weighted([20, 20, 30, 10, 5, 15])) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return c.between(2, 8);
    case 3:
      return max;
    case 4:
      return max + 1;
    default:
      return c.between(0, max);
  }
}

function schemaValue(c: Choices, s: Schema, ctx: ValueContext, budget: Budget): unknown {
  if (c.chance(1, 40)) return wrongValue(c, s);
  switch (s.t) {
    case 'str': {
      if (s.form !== undefined) {
        const v = formedValue(c, s.form, s.max, ctx);
        budget.take(v.length, 1);
        return v;
      }
      if (ctx.strings.length > 0 && c.chance(1, 12)) {
        const known = c.pick(ctx.strings);
        if (budget.take(known.length, 1) === known.length) return known;
      }
      const n = budget.take(lengthFor(c, s.max), 1);
      return text(c, n);
    }
    case 'int': {
      // Inside a record one bad field fails the whole call: keep fields in range but for a few.
      const v = intValue(c, s, ctx);
      return c.chance(1, 16) || !Number.isFinite(v) ? v : Math.min(s.max, Math.max(s.min, Math.trunc(v)));
    }
    case 'bool':
      return c.chance(1, 2);
    case 'list': {
      const n = budget.take(lengthFor(c, s.max), 2);
      if (n <= 16) return Array.from({ length: n }, () => schemaValue(c, s.of, ctx, budget));
      // A long list repeats one element, generated to fit its share of the budget: the generator's cost stays
      // bounded, the validator still walks every element.
      const share = new Budget(Math.floor(budget.left / n));
      const one = schemaValue(c, s.of, ctx, share);
      budget.left -= n * (Math.floor(budget.left / n) - share.left);
      return new Array<unknown>(n).fill(one);
    }
    case 'dict': {
      const n = budget.take(Math.min(lengthFor(c, s.max), 64), 8);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = c.chance(1, 8) ? c.pick(ODD_KEYS) : text(c, budget.take(lengthFor(c, s.keyMax), 1)) || `k${i}`;
        Object.defineProperty(out, key, { value: schemaValue(c, s.of, ctx, budget), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const [k, fs] of Object.entries(s.fields)) {
        const optional = s.optional.includes(k);
        const include = optional ? c.chance(1, 2) : !c.chance(1, 32);
        if (!include) continue;
        const v = optional && c.chance(1, 16) ? null : schemaValue(c, fs, ctx, budget);
        out[k] = v;
      }
      if (c.chance(1, 32)) {
        Object.defineProperty(out, c.pick(['extra', ...ODD_KEYS]), { value: 1, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default: {
      const never: never = s;
      return never;
    }
  }
}

/** A value for a record argument, generated from its schema and kept within one payload (roughly). */
export function recordValue(c: Choices, s: Schema, ctx: ValueContext): unknown {
  return schemaValue(c, s, ctx, new Budget(PAYLOAD_MAX - 1024));
}
