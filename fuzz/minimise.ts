// Crash minimisation: the smallest input that still fails the same way (same signature: the first line of the
// failure with numbers blanked). Both fuzzers read their input front to back, so the passes are: cut the tail,
// delete chunks of halving size (ddmin), then zero single bytes (a zero is the first option of every choice,
// so zeroed bytes read as the simplest frame or step). Each attempt runs on a fresh kernel, so a minimised
// input fails on its own, not because of what an earlier input left behind.

import { failureOf, type TargetName } from './targets.js';

export interface Minimised {
  readonly bytes: Uint8Array;
  /** The failure of the minimised input. */
  readonly message: string;
  readonly signature: string;
  readonly attempts: number;
}

/**
 * Minimises `input`, which must fail: returns null if it does not (a flaky crash, or one already fixed). Stops
 * improving after `budgetMs`, returning the smallest failing input found so far.
 */
export async function minimise(target: TargetName, input: Uint8Array, budgetMs = 60_000): Promise<Minimised | null> {
  const first = await failureOf(target, input);
  if (first === null) return null;
  const deadline = performance.now() + budgetMs;
  let best = input;
  let message = first.message;
  let attempts = 0;
  const sameFailure = async (candidate: Uint8Array): Promise<boolean> => {
    attempts++;
    const f = await failureOf(target, candidate);
    if (f === null || f.signature !== first.signature) return false;
    best = candidate;
    message = f.message;
    return true;
  };
  const timeLeft = (): boolean => performance.now() < deadline;

  // 1. The shortest prefix that fails (binary search; not every shorter prefix fails, so then step down).
  let lo = 0;
  let hi = best.length;
  while (lo < hi && timeLeft()) {
    const mid = (lo + hi) >> 1;
    if (await sameFailure(best.subarray(0, mid).slice())) hi = mid;
    else lo = mid + 1;
  }
  // 2. Delete chunks, halving their size down to one byte.
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && timeLeft(); chunk >>= 1) {
    for (let at = 0; at + chunk <= best.length && timeLeft(); ) {
      const candidate = new Uint8Array(best.length - chunk);
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + chunk), at);
      if (!(await sameFailure(candidate))) at += chunk;
    }
  }
  // 3. Zero single bytes.
  for (let i = 0; i < best.length && timeLeft(); i++) {
    if (best[i] === 0) continue;
    const candidate = best.slice();
    candidate[i] = 0;
    await sameFailure(candidate);
  }
  return { bytes: best, message, signature: first.signature, attempts };
}
