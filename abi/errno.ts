// The errno table: the only way an error crosses the syscall ABI.
// Numbers are Linux's (asm-generic/errno-base.h, errno.h) so that anyone who knows POSIX reads them at a glance.

export const ERRNO = {
  EPERM: { no: 1, msg: 'Operation not permitted' },
  ENOENT: { no: 2, msg: 'No such file or directory' },
  ESRCH: { no: 3, msg: 'No such process' },
  EINTR: { no: 4, msg: 'Interrupted system call' },
  EIO: { no: 5, msg: 'Input/output error' },
  E2BIG: { no: 7, msg: 'Argument list too long' },
  ENOEXEC: { no: 8, msg: 'Exec format error' },
  EBADF: { no: 9, msg: 'Bad file descriptor' },
  ECHILD: { no: 10, msg: 'No child processes' },
  EAGAIN: { no: 11, msg: 'Resource temporarily unavailable' },
  ENOMEM: { no: 12, msg: 'Cannot allocate memory' },
  EACCES: { no: 13, msg: 'Permission denied' },
  EFAULT: { no: 14, msg: 'Bad address' },
  EBUSY: { no: 16, msg: 'Device or resource busy' },
  EEXIST: { no: 17, msg: 'File exists' },
  ENODEV: { no: 19, msg: 'No such device' },
  ENOTDIR: { no: 20, msg: 'Not a directory' },
  EISDIR: { no: 21, msg: 'Is a directory' },
  EINVAL: { no: 22, msg: 'Invalid argument' },
  ENFILE: { no: 23, msg: 'Too many open files in system' },
  EMFILE: { no: 24, msg: 'Too many open files' },
  ENOSPC: { no: 28, msg: 'No space left on device' },
  ESPIPE: { no: 29, msg: 'Illegal seek' },
  EPIPE: { no: 32, msg: 'Broken pipe' },
  ERANGE: { no: 34, msg: 'Numerical result out of range' },
  EDEADLK: { no: 35, msg: 'Resource deadlock avoided' },
  ENAMETOOLONG: { no: 36, msg: 'File name too long' },
  ENOSYS: { no: 38, msg: 'Function not implemented' },
  EOVERFLOW: { no: 75, msg: 'Value too large for defined data type' },
  EMSGSIZE: { no: 90, msg: 'Message too long' },
  EOPNOTSUPP: { no: 95, msg: 'Operation not supported' },
  ETIMEDOUT: { no: 110, msg: 'Connection timed out' },
  ECANCELED: { no: 125, msg: 'Operation canceled' },
} as const satisfies Record<string, { no: number; msg: string }>;

export type ErrnoName = keyof typeof ERRNO;

/** A positive errno number as it travels in the channel's ERRNO word (0 means success). */
export type Errno = (typeof ERRNO)[ErrnoName]['no'];

const byNumber = new Map<number, ErrnoName>();
for (const name of Object.keys(ERRNO) as ErrnoName[]) byNumber.set(ERRNO[name].no, name);

/** The name for an errno number, or undefined for a number the table does not define. */
export function errnoName(no: number): ErrnoName | undefined {
  return byNumber.get(no);
}

/** A person-readable message for an errno number, never throwing on unknown numbers. */
export function strerror(no: number): string {
  const name = byNumber.get(no);
  return name === undefined ? `Unknown error ${no}` : ERRNO[name].msg;
}
