// The type language of the ABI: what an argument or result is, in enough detail that the kernel's validator,
// the userland stubs, the fuzzers and docs/abi.md can all be derived from one description.

import type { ErrnoName } from './errno.js';
import { NAME_MAX } from './limits.js';

/** An integer that travels in a Float64 argument slot. Values outside [min, max] fail with `invalid`. */
export interface IntArg {
  readonly kind: 'int';
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** What the integer names, when it names something an earlier call answered ('addr': an address in one of
   *  the caller's mappings). Validation is by range only; the handler decides whether the thing exists. */
  readonly resource?: ResourceKind;
}
/** A file descriptor of the calling process. Out of range or not open: EBADF. */
export interface FdArg {
  readonly kind: 'fd';
  readonly name: string;
}
/** A process id (> 0). No such process: ESRCH. */
export interface PidArg {
  readonly kind: 'pid';
  readonly name: string;
}
/** A signal number, 1..NSIG, or 0 where `zero` allows it (kill's existence probe). */
export interface SignalArg {
  readonly kind: 'signal';
  readonly name: string;
  readonly zero: boolean;
}
/** A bit set; a bit outside `bits` fails with EINVAL. `mask` is every bit of `bits`, derived by `flags()`. */
export interface FlagsArg {
  readonly kind: 'flags';
  readonly name: string;
  readonly bits: Readonly<Record<string, number>>;
  readonly mask: number;
}
/** Raw bytes carried in the payload (write's data). */
export interface BytesArg {
  readonly kind: 'bytes';
  readonly name: string;
}
/** One msgpack value carried in the payload, checked against `schema`. */
export interface RecordArg<S extends Schema = Schema> {
  readonly kind: 'record';
  readonly name: string;
  readonly schema: S;
}

export type SlotArg = IntArg | FdArg | PidArg | SignalArg | FlagsArg;
export type PayloadArg = BytesArg | RecordArg;
export type Arg = SlotArg | PayloadArg;

/**
 * A rule on a string beyond its length bound, stated once: the kernel checks it (formError) and the fuzzers
 * generate from it (valid values, values on its boundaries, values that break one clause). A valid value is
 * `prefix`, then `minBody..maxBody` characters none of which is in `forbidden`.
 */
export interface StrForm {
  readonly doc: string;
  readonly prefix: string;
  readonly minBody: number;
  readonly maxBody: number;
  readonly forbidden: readonly string[];
  /** The errno for a value longer than prefix + maxBody, checked first, and for any other broken clause. */
  readonly tooLong: ErrnoName;
  readonly malformed: ErrnoName;
}

export const STR_FORMS = {
  /** Names of shared-memory objects and message queues (POSIX: one leading slash, no other). */
  ipcname: {
    doc: `'/' then 1..${NAME_MAX} characters, none of them '/' or NUL`,
    prefix: '/', minBody: 1, maxBody: NAME_MAX, forbidden: ['/', '\0'], tooLong: 'ENAMETOOLONG', malformed: 'EINVAL',
  },
} as const satisfies Readonly<Record<string, StrForm>>;

export type StrFormName = keyof typeof STR_FORMS;

/** null if v has the form, else the errno a call answers for it (tooLong before any other clause). */
export function formError(name: StrFormName, v: string): ErrnoName | null {
  const f: StrForm = STR_FORMS[name];
  if (v.length > f.prefix.length + f.maxBody) return f.tooLong;
  if (!v.startsWith(f.prefix) || v.length - f.prefix.length < f.minBody) return f.malformed;
  for (let i = f.prefix.length; i < v.length; i++) if (f.forbidden.includes(v[i]!)) return f.malformed;
  return null;
}

/** Schemas for msgpack values. Every bound is explicit so that the validator never walks an unbounded input.
 *  A string's `form`, if any, is checked by the handler, which answers the form's own errnos. */
export type Schema =
  | { readonly t: 'str'; readonly max: number; readonly form?: StrFormName }
  | { readonly t: 'int'; readonly min: number; readonly max: number }
  | { readonly t: 'bool' }
  | { readonly t: 'list'; readonly of: Schema; readonly max: number }
  | { readonly t: 'dict'; readonly of: Schema; readonly max: number; readonly keyMax: number }
  | { readonly t: 'record'; readonly fields: Readonly<Record<string, Schema>>; readonly optional: readonly string[] };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of a value that satisfies schema S. */
export type Infer<S extends Schema> = S extends { t: 'str' }
  ? string
  : S extends { t: 'int' }
    ? number
    : S extends { t: 'bool' }
      ? boolean
      : S extends { t: 'list'; of: infer O extends Schema }
        ? Infer<O>[]
        : S extends { t: 'dict'; of: infer O extends Schema }
          ? Record<string, Infer<O>>
          : S extends { t: 'record'; fields: infer F; optional: readonly (infer Opt)[] }
            ? Simplify<
                Mutable<{ [K in Exclude<keyof F, Opt>]: F[K] extends Schema ? Infer<F[K]> : never }> & {
                  [K in Extract<keyof F, Opt>]?: F[K] extends Schema ? Infer<F[K]> : never;
                }
              >
            : never;

/**
 * What an integer result names, when it names something later calls take: a descriptor of the caller (for fd
 * arguments), a process (for pid arguments), or an address in the caller's address space (for int arguments
 * marked 'addr'; every 'mapping' result answers one). Fuzzers follow it to feed one call's result into the next.
 */
export type ResourceKind = 'fd' | 'pid' | 'addr';

/** What a syscall answers. Integers travel in the two result slots; `bytes`, `record` and a `message`'s bytes in
 *  the payload (retHasPayload). */
export type Ret =
  | { readonly kind: 'void' }
  | { readonly kind: 'noreturn' }
  | { readonly kind: 'int'; readonly name: string; readonly resource?: ResourceKind }
  | { readonly kind: 'pair'; readonly names: readonly [string, string]; readonly resource?: ResourceKind }
  | { readonly kind: 'bytes' }
  | { readonly kind: 'record'; readonly schema: Schema }
  /** A new memory region: its address in the int slot, and its SharedArrayBuffer handed over out of band (the
   *  process's grant port), which userland receives before the call returns. */
  | { readonly kind: 'mapping' }
  /** Bytes in the payload (their count in ret0) and one integer beside them in ret1 (a message's priority). */
  | { readonly kind: 'message'; readonly name: string };

/** True for a result that comes back in the channel's payload (replyLen bytes): the one place that says which
 *  kinds do, for checks of a reply (the fuzzers' oracle). */
export function retHasPayload(ret: Ret): boolean {
  switch (ret.kind) {
    case 'bytes':
    case 'record':
    case 'message':
      return true;
    case 'void':
    case 'noreturn':
    case 'int':
    case 'pair':
    case 'mapping':
      return false;
    default: {
      const never: never = ret;
      return never;
    }
  }
}

export type Family = 'process' | 'signal' | 'time' | 'sched' | 'fd' | 'memory' | 'ipc';

export interface SyscallDef {
  readonly nr: number;
  readonly name: string;
  readonly family: Family;
  readonly args: readonly Arg[];
  readonly ret: Ret;
  /** Errnos this call returns for reasons of its own; the frame errnos (FRAME_ERRNOS) apply to every call. */
  readonly errnos: readonly ErrnoName[];
  /** Whether the call can park the caller until an event (and so can also fail with EINTR). */
  readonly blocking: boolean;
  readonly doc: string;
}

/** Errnos any call can return because its frame was malformed, whatever the call. */
export const FRAME_ERRNOS = ['ENOSYS', 'EINVAL', 'EFAULT', 'E2BIG'] as const satisfies readonly ErrnoName[];

// Constructors keep the table one line per argument and keep literal types for inference.
export const int = <N extends string>(name: N, min: number, max: number, resource?: ResourceKind) =>
  (resource === undefined ? { kind: 'int', name, min, max } : { kind: 'int', name, min, max, resource }) as {
    readonly kind: 'int'; readonly name: N; readonly min: number; readonly max: number; readonly resource?: ResourceKind;
  };
export const fd = <N extends string>(name: N) => ({ kind: 'fd', name }) as const;
export const pid = <N extends string>(name: N) => ({ kind: 'pid', name }) as const;
export const signal = <N extends string>(name: N, zero = false) => ({ kind: 'signal', name, zero }) as const;
export const flags = <N extends string, B extends Record<string, number>>(name: N, bits: B) =>
  ({ kind: 'flags', name, bits, mask: Object.values(bits).reduce((m, b) => m | b, 0) }) as const;
export const bytes = <N extends string>(name: N) => ({ kind: 'bytes', name }) as const;
export const record = <N extends string, S extends Schema>(name: N, schema: S) => ({ kind: 'record', name, schema }) as const;

export const s = {
  str: (max: number) => ({ t: 'str', max }) as const,
  /** A string of at most max code units that must have a form (STR_FORMS). */
  formed: <F extends StrFormName>(max: number, form: F) => ({ t: 'str', max, form }) as const,
  int: (min: number, max: number) => ({ t: 'int', min, max }) as const,
  bool: () => ({ t: 'bool' }) as const,
  list: <O extends Schema>(of: O, max: number) => ({ t: 'list', of, max }) as const,
  dict: <O extends Schema>(of: O, max: number, keyMax: number) => ({ t: 'dict', of, max, keyMax }) as const,
  record: <F extends Record<string, Schema>, Opt extends string = never>(fields: F, optional: readonly Opt[] = []) =>
    ({ t: 'record', fields, optional }) as const,
};

export const ret = {
  void: { kind: 'void' } as const,
  noreturn: { kind: 'noreturn' } as const,
  int: <N extends string>(name: N, resource?: ResourceKind) =>
    (resource === undefined ? { kind: 'int', name } : { kind: 'int', name, resource }) as { readonly kind: 'int'; readonly name: N; readonly resource?: ResourceKind },
  pair: <A extends string, B extends string>(a: A, b: B, resource?: ResourceKind) =>
    (resource === undefined ? { kind: 'pair', names: [a, b] } : { kind: 'pair', names: [a, b], resource }) as {
      readonly kind: 'pair'; readonly names: readonly [A, B]; readonly resource?: ResourceKind;
    },
  bytes: { kind: 'bytes' } as const,
  record: <S extends Schema>(schema: S) => ({ kind: 'record', schema }) as const,
  mapping: { kind: 'mapping' } as const,
  message: <N extends string>(name: N) => ({ kind: 'message', name }) as const,
};
