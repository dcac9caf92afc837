// The syscall table: each call defined once. Numbers are ABI: never reuse or renumber one.
// Ranges by family: process 1-9, signal 10-19, time 20-29, sched 30-39, fd 40-59, memory 60-79.

import { ARGV_MAX, ENV_KEY_MAX, ENV_MAX, MEM_LIMIT_MAX, MMAP_MAX, OPEN_MAX, VADDR_MAX, PATH_MAX, PID_MAX, SLEEP_SEC_MAX, SSIZE_MAX } from './limits.js';
import { bytes, fd, flags, int, pid, record, ret, s, signal, type SyscallDef } from './types.js';

/** waitpid options. */
export const WNOHANG = 1;

/** Scheduling policies (Linux numbers; SCHED_BATCH and SCHED_DEADLINE are not implemented). */
export const SCHED_OTHER = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_IDLE = 5;
/** getpriority / setpriority: only single processes (no process groups or users). */
export const PRIO_PROCESS = 0;
/** getrusage */
export const RUSAGE_SELF = 0;
export const RUSAGE_CHILDREN = -1;

/** Clocks for clock_gettime. */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;

export const SpawnRequest = s.record(
  {
    path: s.str(PATH_MAX),
    argv: s.list(s.str(PATH_MAX), ARGV_MAX),
    env: s.dict(s.str(PATH_MAX), ENV_MAX, ENV_KEY_MAX),
    /** fds[i] is the parent's descriptor that becomes the child's descriptor i; -1 leaves i closed. Default [0, 1, 2]. */
    fds: s.list(s.int(-1, OPEN_MAX - 1), OPEN_MAX),
    /** Scheduling: default the parent's. A lower nice or a real-time policy needs the parent to be privileged. */
    nice: s.int(-20, 19),
    policy: s.int(0, 5),
    rtPriority: s.int(0, 99),
    /** Let the child raise priorities and enter the real-time class; only a privileged parent can grant it. */
    privileged: s.bool(),
    /** RLIMIT_CPU in milliseconds of CPU time: SIGXCPU when reached, SIGKILL a grace period later. */
    cpuLimitMs: s.int(1, 0x7fffffff),
    /** RLIMIT_AS in bytes: the most simulated memory the child may hold; past it, ENOMEM. Default the caller's. */
    memLimit: s.int(1, MEM_LIMIT_MAX),
    /** Added to the child's OOM badness, -1000 (never chosen) to 1000; lowering it below the caller's needs privilege. */
    oomScoreAdj: s.int(-1000, 1000),
  },
  ['argv', 'env', 'fds', 'nice', 'policy', 'rtPriority', 'privileged', 'cpuLimitMs', 'memLimit', 'oomScoreAdj'],
);

export const Rusage = s.record({
  /** CPU time used, in nanoseconds (user code; the kernel's share is not split out). */
  cpuNs: s.int(0, Number.MAX_SAFE_INTEGER),
  /** Time spent runnable but waiting for a virtual CPU. */
  waitNs: s.int(0, Number.MAX_SAFE_INTEGER),
  /** Context switches: voluntary (blocked or yielded) and involuntary (preempted). */
  nvcsw: s.int(0, Number.MAX_SAFE_INTEGER),
  nivcsw: s.int(0, Number.MAX_SAFE_INTEGER),
});

export const SYSCALLS = [
  {
    nr: 1, name: 'spawn', family: 'process', args: [record('req', SpawnRequest)], ret: ret.int('pid', 'pid'),
    errnos: ['ENOENT', 'EACCES', 'EAGAIN', 'EBADF'], blocking: false,
    doc: 'Creates a child process running the program at req.path with argv, env and the listed descriptors.',
  },
  {
    nr: 2, name: 'exit', family: 'process', args: [int('code', 0, 255)], ret: ret.noreturn,
    errnos: [], blocking: false,
    doc: 'Ends the calling process with an exit code; its resources are released in reverse order of acquisition.',
  },
  {
    nr: 3, name: 'waitpid', family: 'process', args: [int('pid', -1, PID_MAX), flags('options', { WNOHANG })],
    ret: ret.pair('pid', 'status'), errnos: ['ECHILD'], blocking: true,
    doc: 'Reaps an exited child (pid -1 means whichever child exits first); with WNOHANG returns pid 0 when none has exited yet.',
  },
  {
    nr: 4, name: 'getpid', family: 'process', args: [], ret: ret.int('pid', 'pid'), errnos: [], blocking: false,
    doc: 'Returns the calling process id.',
  },
  {
    nr: 5, name: 'getppid', family: 'process', args: [], ret: ret.int('ppid'), errnos: [], blocking: false,
    doc: 'Returns the parent process id (1 once the parent has exited and init adopted the caller).',
  },
  {
    nr: 10, name: 'kill', family: 'signal', args: [pid('pid'), signal('sig', true)], ret: ret.void,
    errnos: ['ESRCH', 'EPERM'], blocking: false,
    doc: 'Sends a signal to a process; signal 0 only checks that the process exists.',
  },
  {
    nr: 11, name: 'sigaction', family: 'signal', args: [signal('sig'), int('action', 0, 2)], ret: ret.int('previous'),
    errnos: [], blocking: false,
    doc: 'Sets a signal disposition (0 default, 1 ignore, 2 catch) and returns the previous one; SIGKILL and SIGSTOP: EINVAL.',
  },
  {
    nr: 20, name: 'clock_gettime', family: 'time', args: [int('clock', 0, 2)], ret: ret.pair('sec', 'nsec'),
    errnos: [], blocking: false,
    doc: 'Reads CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_PROCESS_CPUTIME_ID as seconds and nanoseconds.',
  },
  {
    nr: 21, name: 'nanosleep', family: 'time', args: [int('sec', 0, SLEEP_SEC_MAX), int('nsec', 0, 999_999_999)],
    ret: ret.void, errnos: [], blocking: true,
    doc: 'Parks the caller for at least the given time; a caught signal cuts it short with EINTR.',
  },
  {
    nr: 30, name: 'sched_yield', family: 'sched', args: [], ret: ret.void, errnos: [], blocking: false,
    doc: 'Gives up the virtual CPU; the caller runs again when the scheduler next picks it.',
  },
  {
    nr: 31, name: 'nice', family: 'sched', args: [int('inc', -40, 40)], ret: ret.void,
    errnos: ['EPERM'], blocking: false,
    doc: 'Adds inc to the caller\'s nice value (clamped to -20..19); lowering it needs privilege.',
  },
  {
    nr: 32, name: 'getpriority', family: 'sched', args: [int('which', 0, 0), int('who', 0, PID_MAX)],
    ret: ret.int('prio'), errnos: ['ESRCH'], blocking: false,
    doc: 'Returns 20 - nice (1..40) of process who (0: the caller), as Linux\'s system call does.',
  },
  {
    nr: 33, name: 'setpriority', family: 'sched', args: [int('which', 0, 0), int('who', 0, PID_MAX), int('nice', -20, 19)],
    ret: ret.void, errnos: ['ESRCH', 'EACCES', 'EPERM'], blocking: false,
    doc: 'Sets the nice value of process who (0: the caller); a value below the current one needs privilege.',
  },
  {
    nr: 34, name: 'sched_setscheduler', family: 'sched',
    args: [int('pid', 0, PID_MAX), int('policy', 0, 5), int('priority', 0, 99)], ret: ret.void,
    errnos: ['ESRCH', 'EPERM'], blocking: false,
    doc: 'Sets the policy (SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_IDLE) and real-time priority of pid (0: the caller).',
  },
  {
    nr: 35, name: 'sched_getscheduler', family: 'sched', args: [int('pid', 0, PID_MAX)], ret: ret.int('policy'),
    errnos: ['ESRCH'], blocking: false,
    doc: 'Returns the scheduling policy of pid (0: the caller).',
  },
  {
    nr: 36, name: 'getrusage', family: 'sched', args: [int('who', -1, 0)], ret: ret.record(Rusage),
    errnos: [], blocking: false,
    doc: 'Returns CPU time, wait time and context switches of the caller (RUSAGE_SELF) or its reaped children (RUSAGE_CHILDREN).',
  },
  {
    nr: 40, name: 'read', family: 'fd', args: [fd('fd'), int('count', 0, SSIZE_MAX)], ret: ret.bytes,
    errnos: ['EBADF', 'EAGAIN'], blocking: true,
    doc: 'Reads up to count bytes (at most one payload); blocks until at least one byte or end of file (empty result).',
  },
  {
    nr: 41, name: 'write', family: 'fd', args: [fd('fd'), bytes('data')], ret: ret.int('written'),
    errnos: ['EBADF', 'EAGAIN', 'EPIPE'], blocking: true,
    doc: 'Writes bytes to a descriptor and returns how many were accepted.',
  },
  {
    nr: 42, name: 'close', family: 'fd', args: [fd('fd')], ret: ret.void, errnos: ['EBADF'], blocking: false,
    doc: 'Closes a descriptor; the open file goes when its last descriptor in any process is closed.',
  },
  {
    nr: 60, name: 'mmap', family: 'memory', args: [int('length', 1, MMAP_MAX)], ret: ret.mapping,
    errnos: ['ENOMEM'], blocking: false,
    doc: 'Maps length bytes of fresh, zeroed memory at a new address in the caller\'s address space; the caller reads and writes it directly as a Uint8Array.',
  },
  {
    nr: 61, name: 'munmap', family: 'memory', args: [int('addr', 0, VADDR_MAX), int('length', 1, MMAP_MAX)],
    ret: ret.void, errnos: [], blocking: false,
    doc: 'Unmaps a whole region the caller mapped (addr and length as mmap gave them; anything else: EINVAL).',
  },
] as const satisfies readonly SyscallDef[];

export type Syscalls = typeof SYSCALLS;
export type SyscallName = Syscalls[number]['name'];
export type SyscallOf<N extends SyscallName> = Extract<Syscalls[number], { name: N }>;

/** Encodes how a child ended, as POSIX wstatus: exit code in bits 8..15, or the killing signal in bits 0..6. */
export const wstatusExited = (code: number): number => (code & 0xff) << 8;
export const wstatusSignaled = (sig: number): number => sig & 0x7f;
export const WIFEXITED = (status: number): boolean => (status & 0x7f) === 0;
export const WEXITSTATUS = (status: number): number => (status >> 8) & 0xff;
export const WIFSIGNALED = (status: number): boolean => (status & 0x7f) !== 0;
export const WTERMSIG = (status: number): number => status & 0x7f;
