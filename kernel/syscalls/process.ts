// Process syscalls: spawn, exit, waitpid, getpid, getppid.

import { ERRNO } from '../../abi/errno.js';
import { WNOHANG } from '../../abi/syscalls.js';
import { BLOCK } from '../fd.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

/** spawn implements posix_spawn(3) with a descriptor map instead of file actions. */
export const spawn: Handler<'spawn', Kernel> = (k, p, req) => k.spawnChild(p, req);

/** exit implements _exit(2). */
export const exit: Handler<'exit', Kernel> = (k, p, code) => {
  k.exit(p, { code, signal: null }, 'exit');
  return 0;
};

/** waitpid implements waitpid(2) for pid > 0 and pid -1 (no process groups). */
export const waitpid: Handler<'waitpid', Kernel> = (k, p, pid, options) => {
  const poll = (): number => {
    let any = false;
    for (const c of p.children) {
      if (pid !== -1 && c.pid !== pid) continue;
      any = true;
      if (c.state === 'zombie') {
        k.setRet1(p, k.wstatus(c));
        k.reap(c, p);
        return c.pid;
      }
    }
    if (!any) return -ERRNO.ECHILD.no;
    if ((options & WNOHANG) === 0) return BLOCK;
    k.setRet1(p, 0); // no child changed state: status is 0, not whatever an earlier call left in the slot
    return 0;
  };
  if (pid === 0 || pid < -1) return -ERRNO.EINVAL.no;
  const r = poll();
  if (r !== BLOCK) return r;
  return k.block(p, { reason: pid === -1 ? 'waitpid(any child)' : `waitpid(${pid})`, retry: poll, cancel: null });
};

/** getpid implements getpid(2). */
export const getpid: Handler<'getpid', Kernel> = (_k, p) => p.pid;

/** getppid implements getppid(2). */
export const getppid: Handler<'getppid', Kernel> = (_k, p) => p.ppid;
