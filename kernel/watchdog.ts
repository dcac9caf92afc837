// The watchdog and RLIMIT_CPU: for processes that run userland code without making syscalls, the kernel never
// gets control through the channel, so a periodic tick looks at whoever holds a CPU.

import { performance } from 'node:perf_hooks'; // not the global's getter (clock.ts)
import { SIGNALS } from '../abi/signals.js';
import type { KernelCore } from './kernel.js';
import type { Proc } from './proc.js';

/** Reports long syscall-free stretches ('watchdog' events) and enforces RLIMIT_CPU on running processes. */
export function watchdogTick(k: KernelCore): void {
  // The stretch since the last syscall is wall time even in deterministic mode: virtual time does not move
  // while a process computes, and this check is a safety net, not part of the schedule.
  const wall = performance.now() * 1e6;
  for (let cpu = 0; cpu < k.sched.ncpu; cpu++) {
    const p = k.sched.onCpu(cpu);
    if (p === null || !p.booted) continue;
    const stretch = k.clock.virtual ? 0 : wall - p.sched.since;
    if (!p.watchdogReported && wall - p.lastSyscallWallNs >= k.params.watchdogMs * 1e6) {
      p.watchdogReported = true;
      const ms = (wall - p.lastSyscallWallNs) / 1e6;
      k.log.warn({ pid: p.pid, ms: Math.round(ms) }, 'process runs without syscalls');
      k.stream.emit({ kind: 'watchdog', pid: p.pid, ms });
    }
    if (p.sched.runtimeNs + stretch >= p.cpuLimitNs) overCpuLimit(k, p);
  }
}

/** RLIMIT_CPU reached: SIGXCPU first, SIGKILL once the grace period has passed. True if p is gone. */
export function overCpuLimit(k: KernelCore, p: Proc): boolean {
  const wall = performance.now();
  if (p.xcpuAt === 0) {
    p.xcpuAt = wall;
    k.stream.emit({ kind: 'rlimit', pid: p.pid, resource: 'cpu', action: 'SIGXCPU' });
    k.signal(p, SIGNALS.SIGXCPU.no, 0);
  } else if (wall - p.xcpuAt >= k.params.cpuLimitGraceMs) {
    k.stream.emit({ kind: 'rlimit', pid: p.pid, resource: 'cpu', action: 'SIGKILL' });
    k.signal(p, SIGNALS.SIGKILL.no, 0);
  }
  return !p.alive;
}
