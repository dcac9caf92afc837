// The handler table. `satisfies Handlers` makes a syscall in abi/ without a handler here a compile error.

import type { Handlers } from '../executor.js';
import type { KernelCore } from '../kernel.js';
import { close, read, write } from './fd.js';
import { exit, getpid, getppid, spawn, waitpid } from './process.js';
import { kill, sigaction } from './signal.js';
import { mmap, munmap } from './memory.js';
import { clock_gettime, nanosleep } from './time.js';
import { getpriority, getrusage, nice, sched_getscheduler, sched_setscheduler, sched_yield, setpriority } from './sched.js';

export const HANDLERS = {
  spawn, exit, waitpid, getpid, getppid,
  kill, sigaction,
  clock_gettime, nanosleep,
  sched_yield, nice, getpriority, setpriority, sched_setscheduler, sched_getscheduler, getrusage,
  read, write, close,
  mmap, munmap,
} satisfies Handlers<KernelCore>;
