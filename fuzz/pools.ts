// The pools a session keeps of what earlier calls made available to later ones (fuzz/session.ts): each keeps
// its newest entries, once each.

import type { Schema, StrFormName } from '../abi/types.js';

/** Resource and value pools keep their newest entries. */
export const POOL_MAX = 64;

/** Adds v to the pool as its newest entry (moving it there if it was in it: a descriptor number answered again
 *  names a new file), dropping the oldest past POOL_MAX. Generators favour the newest entries. */
export function push<T>(pool: T[], v: T): void {
  const at = pool.indexOf(v);
  if (at === pool.length - 1 && at >= 0) return;
  if (at >= 0) pool.splice(at, 1);
  pool.push(v);
  if (pool.length > POOL_MAX) pool.shift();
}

/** Strings with a form in a value of schema s (a name, a record's fields, a list's first elements), into the
 *  pool of their form. */
export function collectFormed(s: Schema, v: unknown, pools: Map<StrFormName, string[]>, depth: number): void {
  if (s.t === 'str') {
    if (s.form === undefined || typeof v !== 'string') return;
    let pool = pools.get(s.form);
    if (pool === undefined) pools.set(s.form, (pool = []));
    push(pool, v);
  } else if (depth > 0 && s.t === 'list' && Array.isArray(v)) {
    for (const x of (v as unknown[]).slice(0, 4)) collectFormed(s.of, x, pools, depth - 1);
  } else if (depth > 0 && s.t === 'record' && typeof v === 'object' && v !== null) {
    for (const [k, fs] of Object.entries(s.fields)) collectFormed(fs, (v as Record<string, unknown>)[k], pools, depth - 1);
  }
}

/** Short strings in an argument (a record's fields, a list's first elements), into the pool. */
export function collectStrings(v: unknown, pool: string[], depth: number): void {
  if (typeof v === 'string') {
    if (v.length <= 256) push(pool, v);
  } else if (depth > 0 && Array.isArray(v)) {
    for (const x of (v as unknown[]).slice(0, 4)) collectStrings(x, pool, depth - 1);
  } else if (depth > 0 && typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
    for (const x of Object.values(v as Record<string, unknown>).slice(0, 16)) collectStrings(x, pool, depth - 1);
  }
}
