// Descriptor syscalls: read, write, close, dup, dup2, fcntl, poll, ftruncate.

import { ERRNO } from '../../abi/errno.js';
import {
  F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_NONBLOCK, POLLERR, POLLHUP, POLLNVAL,
} from '../../abi/syscalls.js';
import { BLOCK } from '../fd.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';
import { ShmFile } from '../shm.js';
import { park, type WaitQueue } from '../waitq.js';

/** read implements read(2): at most one payload per call; the bytes go straight into the caller's channel. */
export const read: Handler<'read', Kernel> = (_k, p, fd, count) => {
  const f = p.fds.get(fd);
  if (f === undefined) return -ERRNO.EBADF.no;
  return f.read(p, count, p.channel.payload);
};

/** write implements write(2). */
export const write: Handler<'write', Kernel> = (_k, p, fd, data) => {
  const f = p.fds.get(fd);
  if (f === undefined) return -ERRNO.EBADF.no;
  return f.write(p, data);
};

/** close implements close(2). */
export const close: Handler<'close', Kernel> = (_k, p, fd) => p.fds.close(fd);

/** dup implements dup(2). */
export const dup: Handler<'dup', Kernel> = (_k, p, fd) => {
  const f = p.fds.get(fd);
  return f === undefined ? -ERRNO.EBADF.no : p.fds.install(f);
};

/** dup2 implements dup2(2). */
export const dup2: Handler<'dup2', Kernel> = (_k, p, oldfd, newfd) => p.fds.dup2(oldfd, newfd);

/** fcntl implements F_GETFD, F_SETFD, F_GETFL and F_SETFL (of the status flags, only O_NONBLOCK changes). */
export const fcntl: Handler<'fcntl', Kernel> = (_k, p, fd, cmd, arg) => {
  const f = p.fds.get(fd);
  if (f === undefined) return -ERRNO.EBADF.no;
  switch (cmd) {
    case F_GETFD:
      return p.fds.cloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
      p.fds.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
      return 0;
    case F_GETFL:
      return f.flags;
    case F_SETFL: {
      const flags = (f.flags & ~O_NONBLOCK) | (arg & O_NONBLOCK);
      if (flags !== f.flags) {
        f.flags = flags;
        f.flagsChanged?.();
      }
      return 0;
    }
    default:
      return -ERRNO.EINVAL.no;
  }
};

/** Always reported, whether asked for or not (poll(2)). */
const ALWAYS = POLLERR | POLLHUP | POLLNVAL;

/** poll implements poll(2): revents per entry, as a list in the reply; waits on every object's queue at once. */
export const poll: Handler<'poll', Kernel> = (k, p, timeoutMs, fds) => {
  const files = fds.map((e) => (e.fd < 0 ? null : p.fds.get(e.fd)));
  const revents = new Array<number>(fds.length).fill(0);
  const queues = new Set<WaitQueue>();
  for (const f of files) if (f?.waiters) queues.add(f.waiters);
  const attempt = (): number => {
    let ready = 0;
    for (let i = 0; i < fds.length; i++) {
      const f = files[i];
      const r = f === null ? 0 : f === undefined ? POLLNVAL : f.poll() & (fds[i]!.events | ALWAYS);
      revents[i] = r;
      if (r !== 0) ready++;
    }
    return ready > 0 || timeoutMs === 0 ? k.replyRecord(p, revents) : BLOCK;
  };
  return park(k, p, [...queues], attempt, {
    reason: `poll(${fds.length} fds)`,
    timeoutMs,
    onTimeout: () => k.replyRecord(p, revents.fill(0)),
  });
};

/** ftruncate implements ftruncate(2) for shared-memory objects (sized once). */
export const ftruncate: Handler<'ftruncate', Kernel> = (_k, p, fd, length) => {
  const f = p.fds.get(fd);
  if (f === undefined) return -ERRNO.EBADF.no;
  return f instanceof ShmFile ? f.truncate(p, length) : -ERRNO.EINVAL.no;
};

/** pipe_ring maps a pipe end's ring (already charged to the caller, who holds the pipe) and hands it over. */
export const pipe_ring: Handler<'pipe_ring', Kernel> = (k, p, fd) => {
  const f = p.fds.get(fd);
  if (f === undefined) return -ERRNO.EBADF.no;
  if (f.ring === undefined) return -ERRNO.ENODEV.no;
  const r = f.ring();
  p.grant(r.sab);
  k.setRet1(p, f.flags);
  return k.memory.attach(r, p);
};
