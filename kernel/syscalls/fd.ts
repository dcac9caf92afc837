// Descriptor syscalls: read, write, close.

import { ERRNO } from '../../abi/errno.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

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
