// Limits that userland can see. Kernel tunables that userland cannot observe live in kernel/param.ts.

import { PAYLOAD_MAX } from './layout.js';

/** Largest pid; pids are reused after wrapping, never while a zombie still holds one. */
export const PID_MAX = 32768;
/** Per-process descriptor table size (RLIMIT_NOFILE's usual soft limit): fds are 0..OPEN_MAX-1. */
export const OPEN_MAX = 1024;
export const PATH_MAX = 4096;
/** argv and env entries, each; their encoded total must also fit one payload (PAYLOAD_MAX), else E2BIG. */
export const ARGV_MAX = 4096;
export const ENV_MAX = 4096;
export const ENV_KEY_MAX = 255;
/** The most a single read or write moves; larger requests are clamped and return a short count. */
export const IO_MAX = PAYLOAD_MAX;
/** Largest value of a signed 32-bit count (ssize_t as we carry it). */
export const SSIZE_MAX = 0x7fffffff;
/** Seconds in a nanosleep: about 68 years, so that any value fits a timer without overflow surprises. */
export const SLEEP_SEC_MAX = 0x7fffffff;
/** Largest mmap length: beyond any simulated memory this kernel can be given (the allocator's range). */
export const MMAP_MAX = 2 ** 35;
/** The top of every process's virtual address space: mappings live below it (past it, mmap fails with ENOMEM). */
export const VADDR_MAX = 2 ** 48;
/** Largest RLIMIT_AS a spawn can set, in bytes. */
export const MEM_LIMIT_MAX = 2 ** 48;
/** Writes of at most PIPE_BUF bytes to a pipe are atomic: never interleaved with other writers' bytes. */
export const PIPE_BUF = 4096;
/** Longest name of a shared-memory object or message queue, after its leading '/'. */
export const NAME_MAX = 255;
/** Message queues: most messages a queue may hold, largest message, and priorities 0..MQ_PRIO_MAX-1. */
export const MQ_MAXMSG_MAX = 65536;
export const MQ_MSGSIZE_MAX = PAYLOAD_MAX;
export const MQ_PRIO_MAX = 32768;
/** Longest timeout a blocking IPC call takes, in milliseconds (about 24 days: what a timer can hold). */
export const TIMEOUT_MS_MAX = 0x7fffffff;
