// What the model-based tests (test/fuzz-model.test.ts, test/fuzz-fd-model.test.ts) share: cheap assertions, the
// pick of a list element a command makes when it runs, and the runner that checks nothing is left afterwards.

import fc from 'fast-check';
import { expect } from 'vitest';
import type { FrameHarness, LocalProcess, Reply } from '../dist/fuzz/harness.js';
import { baseline, checkQuiescent } from '../dist/fuzz/invariants.js';

/** Throws unless `ok` (cheaper than expect() in checks that run after every command). */
export function assert(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

export function answered(r: Reply, what: string): Extract<Reply, { kind: 'reply' }> {
  assert(r.kind === 'reply', () => `${what}: expected an answer, got ${r.kind}`);
  return r as Extract<Reply, { kind: 'reply' }>;
}

/** Picks the n-th (modulo) of a list the model computes when the command runs: commands are generated before
 *  the state they act on exists, and shrink independently of it. */
export function nth<T>(list: readonly T[], n: number): T {
  return list[n % list.length]!;
}

/** Runs a command sequence on one kernel, killing every process it attached afterwards and checking that
 *  nothing is left; the invariant checker runs after each command too. */
export function runOn<M extends { readonly procs: readonly { readonly lp: LocalProcess }[] }>(
  h: () => FrameHarness,
  model: () => M,
  cmds: Iterable<fc.Command<M, FrameHarness>>,
): void {
  const k = h().kernel;
  const base = baseline(k);
  const m = model();
  try {
    fc.modelRun(() => ({ model: m, real: h() }), cmds);
  } finally {
    const files = m.procs.flatMap((p) => (p.lp.alive ? p.lp.fds().map(([, f]) => f) : []));
    for (const p of m.procs) p.lp.kill();
    expect(checkQuiescent(k, base, files)).toEqual([]);
  }
  expect(k.bugs).toBe(0);
}
