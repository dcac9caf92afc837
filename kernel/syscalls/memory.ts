// Memory syscalls: mmap, munmap, fdmap. The bookkeeping (allocator, limits, OOM) is in ../mm.ts.

import { ERRNO } from '../../abi/errno.js';
import { O_RDWR } from '../../abi/syscalls.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

/** mmap implements an anonymous, shared-nothing mmap(2): the region's buffer reaches the caller before the reply. */
export const mmap: Handler<'mmap', Kernel> = (k, p, length) => {
  const r = k.memory.map(p, length, 'anon', `mmap by pid ${p.pid}`);
  if (typeof r === 'number') return r;
  p.grant(r.sab);
  k.setRet1(p, O_RDWR);
  return k.memory.vaddrOf(p, r);
};

/** munmap implements munmap(2) for whole regions. */
export const munmap: Handler<'munmap', Kernel> = (k, p, addr, length) => k.memory.unmap(p, addr, length);

/** fdmap implements mmap(2) of a shared-memory descriptor, MAP_SHARED, whole object. */
export const fdmap: Handler<'fdmap', Kernel> = (k, p, fd) => {
  const f = p.fds.get(fd);
  if (f === undefined) return -ERRNO.EBADF.no;
  if (f.map === undefined) return -ERRNO.ENODEV.no;
  const r = f.map(p);
  if (typeof r === 'number') return r;
  const vaddr = k.memory.attach(r, p, true);
  if (vaddr < 0) return vaddr;
  p.grant(r.sab);
  k.setRet1(p, f.flags);
  return vaddr;
};
