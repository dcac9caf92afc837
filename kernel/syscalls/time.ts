// Time syscalls: clock_gettime, nanosleep.

import { CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID } from '../../abi/syscalls.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

/** clock_gettime implements clock_gettime(2): seconds as the value, nanoseconds as ret1. */
export const clock_gettime: Handler<'clock_gettime', Kernel> = (k, p, clock) => {
  // Milliseconds as a double keep microseconds exact for wall-clock time; nanoseconds as a double would not.
  const ms =
    clock === CLOCK_MONOTONIC ? k.monotonicMs()
    : clock === CLOCK_PROCESS_CPUTIME_ID ? p.sched.runtimeNs / 1e6
    : k.realtimeMs();
  const sec = Math.floor(ms / 1e3);
  k.setRet1(p, Math.min(999_999_999, Math.floor((ms - sec * 1e3) * 1e6)));
  return sec;
};

/** nanosleep implements nanosleep(2); the timer is a resource, so a process killed mid-sleep leaves none. */
export const nanosleep: Handler<'nanosleep', Kernel> = (k, p, sec, nsec) => k.sleep(p, sec * 1e3 + nsec / 1e6);
