// Memory syscalls: mmap, munmap. The bookkeeping (allocator, limits, OOM) is in ../mm.ts.

import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

/** mmap implements an anonymous, shared-nothing mmap(2): the region's buffer reaches the caller before the reply. */
export const mmap: Handler<'mmap', Kernel> = (k, p, length) => {
  const r = k.memory.map(p, length, 'anon', `mmap by pid ${p.pid}`);
  if (typeof r === 'number') return r;
  p.grant(r.sab);
  return k.memory.vaddrOf(p, r);
};

/** munmap implements munmap(2) for whole regions. */
export const munmap: Handler<'munmap', Kernel> = (k, p, addr, length) => k.memory.unmap(p, addr, length);
