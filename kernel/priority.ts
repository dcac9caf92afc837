// Who may set which scheduling policy and priority: the rules of sched(7) and setpriority(2), with "privileged"
// standing in for CAP_SYS_NICE. Pure functions: the kernel and the sched syscalls both ask here.

import { ERRNO } from '../abi/errno.js';
import { SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR } from '../abi/syscalls.js';
import type { Proc } from './proc.js';

export function isRealtime(policy: number): boolean {
  return policy === SCHED_FIFO || policy === SCHED_RR;
}

/** 0 if (policy, priority) is a valid pair, else EINVAL: real-time takes 1..99, the others exactly 0. */
export function checkPolicy(policy: number, priority: number): number {
  if (policy === SCHED_OTHER || policy === SCHED_IDLE) return priority === 0 ? 0 : ERRNO.EINVAL.no;
  if (isRealtime(policy)) return priority >= 1 && priority <= 99 ? 0 : ERRNO.EINVAL.no;
  return ERRNO.EINVAL.no;
}

/** 0 if `caller` may give `target` this policy and priority (sched_setscheduler), else the errno. */
export function mayScheduleAs(caller: Proc, target: Proc, policy: number, priority: number): number {
  const e = checkPolicy(policy, priority);
  if (e !== 0) return e;
  if (target.pid === 1) return ERRNO.EPERM.no;
  if (caller.privileged) return 0;
  const se = target.sched;
  // Unprivileged: into real-time only up to a priority the target already had in a real-time class.
  if (isRealtime(policy) && (!isRealtime(se.policy) || priority > se.rtPriority)) return ERRNO.EPERM.no;
  // Leaving SCHED_IDLE for the fair class is a priority raise, as on Linux without RLIMIT_NICE.
  if (se.policy === SCHED_IDLE && policy === SCHED_OTHER) return ERRNO.EPERM.no;
  return 0;
}

/** 0 if `caller` may set `target`'s nice value to `nice` (setpriority), else the errno. */
export function mayRenice(caller: Proc, target: Proc, nice: number): number {
  if (target.pid === 1) return ERRNO.EPERM.no;
  if (nice < target.sched.nice && !caller.privileged) return ERRNO.EACCES.no;
  return 0;
}
