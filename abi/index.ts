// The ABI's public face: the table, lookups derived from it, and the TypeScript types of calls derived from it.

import type { BytesArg, Infer, RecordArg, Ret, Schema, SyscallDef } from './types.js';
import { SYSCALLS, type SyscallName, type SyscallOf } from './syscalls.js';

export * from './errno.js';
export * from './signals.js';
export * from './layout.js';
export * from './limits.js';
export * from './types.js';
export * from './syscalls.js';
export * from './ring.js';

/** Highest syscall number; the dispatch table is dense up to here and ENOSYS fills every gap. */
export const NR_MAX = Math.max(...SYSCALLS.map((d) => d.nr));

const byNumber: (SyscallDef | undefined)[] = new Array<SyscallDef | undefined>(NR_MAX + 1).fill(undefined);
for (const d of SYSCALLS) byNumber[d.nr] = d;

/** The definition for a syscall number, or undefined (ENOSYS) for anything else, including non-integers. */
export function syscallByNr(nr: number): SyscallDef | undefined {
  return byNumber[nr];
}

export function syscallByName(name: string): SyscallDef | undefined {
  return SYSCALLS.find((d) => d.name === name);
}

/** How many Float64 slots a call's arguments fill: every argument but the payload one. */
export function slotCount(def: SyscallDef): number {
  let n = 0;
  for (const a of def.args) if (a.kind !== 'bytes' && a.kind !== 'record') n++;
  return n;
}

/** What a caller passes for an argument. Bytes may be given as a string (sent as UTF-8). */
export type ArgValue<A> = A extends BytesArg ? Uint8Array | string : A extends RecordArg<infer S> ? Infer<S> : number;
export type ArgValues<Args extends readonly unknown[]> = { -readonly [K in keyof Args]: ArgValue<Args[K]> };

/** What a call returns to its caller. */
export type RetValue<R extends Ret> = R extends { kind: 'void' }
  ? void
  : R extends { kind: 'noreturn' }
    ? never
    : R extends { kind: 'int' }
      ? number
      : R extends { kind: 'pair'; names: readonly [infer A extends string, infer B extends string] }
        ? { [K in A | B]: number }
        : R extends { kind: 'bytes' }
          ? Uint8Array
          : R extends { kind: 'record'; schema: infer S extends Schema }
            ? Infer<S>
            : R extends { kind: 'mapping' }
              ? { addr: number; bytes: Uint8Array; flags: number }
              : R extends { kind: 'message'; name: infer P extends string }
                ? { data: Uint8Array } & { [K in P]: number }
                : never;

export type SyncCall<N extends SyscallName> = (...args: ArgValues<SyscallOf<N>['args']>) => RetValue<SyscallOf<N>['ret']>;
export type AsyncCall<N extends SyscallName> = (
  ...args: ArgValues<SyscallOf<N>['args']>
) => Promise<RetValue<SyscallOf<N>['ret']>>;

/** The userland stub objects, one function per syscall, derived from the table. */
export type SyncSys = { readonly [N in SyscallName]: SyncCall<N> };
export type AsyncSys = { readonly [N in SyscallName]: AsyncCall<N> };
