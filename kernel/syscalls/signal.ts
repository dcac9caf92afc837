// Signal syscalls: kill, sigaction.

import { ERRNO } from '../../abi/errno.js';
import { SIG_DFL, UNCATCHABLE } from '../../abi/signals.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

/** kill implements kill(2) for one pid. Init (pid 1) takes no signals from processes, as on Linux. */
export const kill: Handler<'kill', Kernel> = (k, p, pid, sig) => {
  const target = k.lookup(pid);
  if (target === undefined || !target.alive) return -ERRNO.ESRCH.no;
  if (pid === 1) return -ERRNO.EPERM.no;
  if (sig !== 0) k.signal(target, sig, p.pid);
  return 0;
};

/** sigaction implements sigaction(2)'s disposition part; the handler function itself lives in userland. */
export const sigaction: Handler<'sigaction', Kernel> = (_k, p, sig, action) => {
  if (UNCATCHABLE.has(sig) && action !== SIG_DFL) return -ERRNO.EINVAL.no;
  const previous = p.disposition[sig]!;
  p.disposition[sig] = action;
  return previous;
};
