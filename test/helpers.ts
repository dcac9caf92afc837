// Helpers shared by the whole-system test files.

import type { Kernel } from '../dist/kernel/index.js';

/** Resolves once pid is parked in a call whose reason matches (polling ps: no timing assumption). */
export async function untilBlocked(k: Kernel, pid: number, reason: RegExp, pollMs = 2): Promise<void> {
  for (;;) {
    const p = k.ps().find((x) => x.pid === pid);
    if (p === undefined) throw new Error(`pid ${pid} is gone`);
    if (p.state === 'blocked' && p.waitingFor !== null && reason.test(p.waitingFor)) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
