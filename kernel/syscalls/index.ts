// The handler table. `satisfies Handlers` makes a syscall in abi/ without a handler here a compile error.

import type { Handlers } from '../executor.js';
import type { KernelCore } from '../kernel.js';
import { close, dup, dup2, fcntl, ftruncate, pipe_ring, poll, read, write } from './fd.js';
import { futex_wait, futex_wake, mq_getattr, mq_open, mq_receive, mq_send, mq_unlink, pipe, pipe2, shm_open, shm_unlink } from './ipc.js';
import { exit, getpid, getppid, spawn, waitpid } from './process.js';
import { kill, sigaction } from './signal.js';
import { fdmap, mmap, munmap } from './memory.js';
import { clock_gettime, nanosleep } from './time.js';
import { getpriority, getrusage, nice, sched_getscheduler, sched_setscheduler, sched_yield, setpriority } from './sched.js';

export const HANDLERS = {
  spawn, exit, waitpid, getpid, getppid,
  kill, sigaction,
  clock_gettime, nanosleep,
  sched_yield, nice, getpriority, setpriority, sched_setscheduler, sched_getscheduler, getrusage,
  read, write, close, pipe, pipe2, dup, dup2, fcntl, poll, ftruncate, pipe_ring,
  mmap, munmap, fdmap,
  shm_open, shm_unlink, futex_wait, futex_wake, mq_open, mq_send, mq_receive, mq_getattr, mq_unlink,
} satisfies Handlers<KernelCore>;
