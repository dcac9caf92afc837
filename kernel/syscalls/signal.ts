// Signal syscalls: kill, sigaction.

import { ERRNO } from '../../abi/errno.js';
import { UNCATCHABLE } from '../../abi/signals.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';

/** kill implements kill(2) for one pid. A zombie still exists (the signal is discarded); init (pid 1) takes no
 *  signals from processes, as on Linux. */
export const kill: Handler<'kill', Kernel> = (k, p, pid, sig) => {
  const target = k.lookup(pid);
  if (target === undefined) return -ERRNO.ESRCH.no;
  if (pid === 1) return -ERRNO.EPERM.no;
  if (sig !== 0 && target.alive) k.signal(target, sig, p.pid);
  return 0;
};

/** sigaction implements sigaction(2)'s disposition part; the handler function itself lives in userland. */
export const sigaction: Handler<'sigaction', Kernel> = (_k, p, sig, action) => {
  if (UNCATCHABLE.has(sig)) return -ERRNO.EINVAL.no; // as Linux: even SIG_DFL is refused for SIGKILL and SIGSTOP
  const previous = p.disposition[sig]!;
  p.disposition[sig] = action;
  return previous;
};
