// The handler table. `satisfies Handlers` makes a syscall in abi/ without a handler here a compile error.

import type { Handlers } from '../executor.js';
import type { KernelCore } from '../kernel.js';
import { close, read, write } from './fd.js';
import { exit, getpid, getppid, spawn, waitpid } from './process.js';
import { kill, sigaction } from './signal.js';
import { clock_gettime, nanosleep, sched_yield } from './time.js';

export const HANDLERS = {
  spawn, exit, waitpid, getpid, getppid,
  kill, sigaction,
  clock_gettime, nanosleep, sched_yield,
  read, write, close,
} satisfies Handlers<KernelCore>;
