// The syscall table: each call defined once. Numbers are ABI: never reuse or renumber one.
// Ranges by family: process 1-9, signal 10-19, time 20-29, sched 30-39, fd 40-59, memory 60-79, ipc 80-99.

import {
  ARGV_MAX, ENV_KEY_MAX, ENV_MAX, MEM_LIMIT_MAX, MMAP_MAX, MQ_MAXMSG_MAX, MQ_MSGSIZE_MAX, MQ_PRIO_MAX, OPEN_MAX, PATH_MAX,
  PID_MAX, SLEEP_SEC_MAX, SSIZE_MAX, TIMEOUT_MS_MAX, VADDR_MAX,
} from './limits.js';
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

/** Open flags (Linux values). O_RDONLY is 0: the absence of O_WRONLY and O_RDWR. */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

/** fcntl commands, and the descriptor flag F_GETFD/F_SETFD read and set. */
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;

/** poll events (Linux values). POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not. */
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

/** Names of shared-memory objects and message queues: the ipcname form ('/' then 1..NAME_MAX characters, none
 *  of them '/'), checked by the namespace (ENAMETOOLONG, EINVAL); past PATH_MAX the validator's E2BIG. */
const IpcName = s.formed(PATH_MAX, 'ipcname');

export const PollFd = s.record({
  /** A negative fd is skipped (its revents is 0), as in poll(2). */
  fd: s.int(-1, OPEN_MAX - 1),
  events: s.int(0, 0xffff),
});

export const MqAttr = s.record({
  /** O_NONBLOCK or 0, as the descriptor's open file has it. */
  flags: s.int(0, 0x7fffffff),
  maxmsg: s.int(1, MQ_MAXMSG_MAX),
  msgsize: s.int(1, MQ_MSGSIZE_MAX),
  curmsgs: s.int(0, MQ_MAXMSG_MAX),
});

export const SpawnRequest = s.record(
  {
    path: s.str(PATH_MAX),
    argv: s.list(s.str(PATH_MAX), ARGV_MAX),
    env: s.dict(s.str(PATH_MAX), ENV_MAX, ENV_KEY_MAX),
    /** fds[i] is the parent's descriptor that becomes the child's descriptor i; -1 leaves i closed. Default: every
     *  descriptor of the parent not marked close-on-exec (O_CLOEXEC, FD_CLOEXEC), at the same number, as exec does. */
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
    errnos: ['ENOENT', 'EACCES', 'EAGAIN', 'EBADF', 'EPERM', 'ENOMEM'], blocking: false,
    doc: 'Creates a child process running the program at req.path with argv, env and the listed descriptors (default: all not close-on-exec); ENOMEM if what it would inherit (a pipe, a queue) exceeds its memLimit.',
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
    errnos: ['EBADF', 'EAGAIN', 'EIO'], blocking: true,
    doc: 'Reads up to count bytes (at most one payload); blocks until at least one byte or end of file (empty result).',
  },
  {
    nr: 41, name: 'write', family: 'fd', args: [fd('fd'), bytes('data')], ret: ret.int('written'),
    errnos: ['EBADF', 'EAGAIN', 'EPIPE', 'EIO'], blocking: true,
    doc: 'Writes bytes to a descriptor and returns how many were accepted; to a pipe, at most PIPE_BUF bytes go in whole, never interleaved with another writer\'s.',
  },
  {
    nr: 42, name: 'close', family: 'fd', args: [fd('fd')], ret: ret.void, errnos: ['EBADF'], blocking: false,
    doc: 'Closes a descriptor; the open file goes when its last descriptor in any process is closed.',
  },
  {
    nr: 43, name: 'pipe', family: 'fd', args: [], ret: ret.pair('rfd', 'wfd', 'fd'), errnos: ['EMFILE', 'ENOMEM'],
    blocking: false,
    doc: 'Creates a pipe: a byte ring in shared memory with a read end (rfd) and a write end (wfd).',
  },
  {
    nr: 44, name: 'pipe2', family: 'fd', args: [flags('flags', { O_NONBLOCK, O_CLOEXEC })], ret: ret.pair('rfd', 'wfd', 'fd'),
    errnos: ['EMFILE', 'ENOMEM'], blocking: false,
    doc: 'pipe with flags: O_NONBLOCK on both ends\' open files, O_CLOEXEC on both descriptors (not inherited by spawn).',
  },
  {
    nr: 45, name: 'dup', family: 'fd', args: [fd('fd')], ret: ret.int('newfd', 'fd'), errnos: ['EBADF', 'EMFILE'],
    blocking: false,
    doc: 'Makes the lowest free descriptor refer to the same open file as fd (sharing its offset and status flags).',
  },
  {
    nr: 46, name: 'dup2', family: 'fd', args: [fd('oldfd'), int('newfd', 0, OPEN_MAX - 1)], ret: ret.int('newfd', 'fd'),
    errnos: ['EBADF'], blocking: false,
    doc: 'Makes newfd refer to the same open file as oldfd, closing what newfd referred to; a no-op when they are equal.',
  },
  {
    nr: 47, name: 'fcntl', family: 'fd', args: [fd('fd'), int('cmd', F_GETFD, F_SETFL), int('arg', 0, 0x7fffffff)],
    ret: ret.int('value'), errnos: ['EBADF'], blocking: false,
    doc: 'F_GETFD/F_SETFD read and set FD_CLOEXEC; F_GETFL/F_SETFL read the access mode and status flags and set O_NONBLOCK.',
  },
  {
    nr: 48, name: 'poll', family: 'fd', args: [int('timeout_ms', -1, TIMEOUT_MS_MAX), record('fds', s.list(PollFd, OPEN_MAX))],
    ret: ret.record(s.list(s.int(0, 0xffff), OPEN_MAX)), errnos: [], blocking: true,
    doc: 'Waits until one of the descriptors is ready (POLLIN, POLLOUT) or failed (POLLERR, POLLHUP, POLLNVAL), or the timeout passes (-1: none); returns each one\'s revents.',
  },
  {
    nr: 49, name: 'ftruncate', family: 'fd', args: [fd('fd'), int('length', 0, MMAP_MAX)], ret: ret.void,
    errnos: ['EBADF', 'ENOMEM'], blocking: false,
    doc: 'Sizes a shared-memory object once (its memory is allocated then); giving the size it has is a no-op, any other size EINVAL.',
  },
  {
    nr: 50, name: 'pipe_ring', family: 'fd', args: [fd('fd')], ret: ret.mapping, errnos: ['EBADF', 'ENODEV'],
    blocking: false,
    doc: 'Maps the ring of a pipe end into the caller (flags: the end\'s access mode and status flags). The SDK does this on a pipe\'s first read or write, then moves bytes without the kernel while no wait is needed; ENODEV for any other descriptor.',
  },
  {
    nr: 60, name: 'mmap', family: 'memory', args: [int('length', 1, MMAP_MAX)], ret: ret.mapping,
    errnos: ['ENOMEM'], blocking: false,
    doc: 'Maps length bytes of fresh, zeroed memory at a new address in the caller\'s address space; the caller reads and writes it directly as a Uint8Array.',
  },
  {
    nr: 61, name: 'munmap', family: 'memory', args: [int('addr', 0, VADDR_MAX, 'addr'), int('length', 1, MMAP_MAX)],
    ret: ret.void, errnos: [], blocking: false,
    doc: 'Unmaps a whole region the caller mapped (addr and length as mmap or fdmap gave them; anything else: EINVAL).',
  },
  {
    nr: 62, name: 'fdmap', family: 'memory', args: [fd('fd')], ret: ret.mapping,
    errnos: ['EBADF', 'ENODEV', 'EACCES', 'ENOMEM'], blocking: false,
    doc: 'Maps a shared-memory object into the caller, whole (MAP_SHARED): EACCES if it was opened read-only, EINVAL if it has no size yet, ENODEV for any other kind of descriptor.',
  },
  {
    nr: 80, name: 'shm_open', family: 'ipc',
    args: [flags('oflag', { O_RDWR, O_CREAT, O_EXCL }), int('mode', 0, 0o777), record('name', IpcName)],
    ret: ret.int('fd', 'fd'), errnos: ['EACCES', 'EEXIST', 'ENOENT', 'ENAMETOOLONG', 'EMFILE'], blocking: false,
    doc: 'Opens (O_CREAT: creates, with mode) the shared-memory object called name, close-on-exec as POSIX has it; size it with ftruncate, map it with fdmap.',
  },
  {
    nr: 81, name: 'shm_unlink', family: 'ipc', args: [record('name', IpcName)], ret: ret.void,
    errnos: ['ENOENT', 'ENAMETOOLONG'], blocking: false,
    doc: 'Removes a shared-memory object\'s name; the object goes when its last descriptor and mapping go.',
  },
  {
    nr: 82, name: 'futex_wait', family: 'ipc',
    args: [int('addr', 0, VADDR_MAX, 'addr'), int('expected', -0x80000000, 0x7fffffff), int('timeout_ms', -1, TIMEOUT_MS_MAX)],
    ret: ret.void, errnos: ['EAGAIN', 'ETIMEDOUT', 'EFAULT'], blocking: true,
    doc: 'Parks the caller if the 32-bit word at addr (4-aligned, in one of its mappings) still holds expected, until futex_wake or the timeout (-1: none); else EAGAIN.',
  },
  {
    nr: 83, name: 'futex_wake', family: 'ipc', args: [int('addr', 0, VADDR_MAX, 'addr'), int('count', 1, 0x7fffffff)],
    ret: ret.int('woken'), errnos: ['EFAULT'], blocking: false,
    doc: 'Wakes up to count processes parked on the word at addr, oldest first; returns how many it woke.',
  },
  {
    nr: 84, name: 'mq_open', family: 'ipc',
    args: [
      flags('oflag', { O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK, O_CLOEXEC }), int('mode', 0, 0o777),
      int('maxmsg', 0, MQ_MAXMSG_MAX), int('msgsize', 0, MQ_MSGSIZE_MAX), record('name', IpcName),
    ],
    ret: ret.int('mqd', 'fd'), errnos: ['EACCES', 'EEXIST', 'ENOENT', 'ENAMETOOLONG', 'EMFILE', 'ENOMEM'], blocking: false,
    doc: 'Opens (O_CREAT: creates, holding maxmsg messages of up to msgsize bytes; 0 means 10 and 8192) the message queue called name.',
  },
  {
    nr: 85, name: 'mq_send', family: 'ipc',
    args: [fd('mqd'), int('prio', 0, MQ_PRIO_MAX - 1), int('timeout_ms', -1, TIMEOUT_MS_MAX), bytes('msg')],
    ret: ret.void, errnos: ['EBADF', 'EAGAIN', 'EMSGSIZE', 'ETIMEDOUT'], blocking: true,
    doc: 'Queues a message with a priority; on a full queue waits up to timeout_ms (-1: no limit) for room, or fails with EAGAIN under O_NONBLOCK.',
  },
  {
    nr: 86, name: 'mq_receive', family: 'ipc', args: [fd('mqd'), int('timeout_ms', -1, TIMEOUT_MS_MAX)],
    ret: ret.message('prio'), errnos: ['EBADF', 'EAGAIN', 'ETIMEDOUT'], blocking: true,
    doc: 'Takes the oldest message of the highest priority; on an empty queue waits up to timeout_ms (-1: no limit), or fails with EAGAIN under O_NONBLOCK.',
  },
  {
    nr: 87, name: 'mq_getattr', family: 'ipc', args: [fd('mqd')], ret: ret.record(MqAttr), errnos: ['EBADF'],
    blocking: false,
    doc: 'Returns a queue\'s flags, capacity, largest message size and current number of messages.',
  },
  {
    nr: 88, name: 'mq_unlink', family: 'ipc', args: [record('name', IpcName)], ret: ret.void,
    errnos: ['ENOENT', 'ENAMETOOLONG'], blocking: false,
    doc: 'Removes a message queue\'s name; the queue goes when its last descriptor closes.',
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
