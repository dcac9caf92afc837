// Who may set which scheduling policy and priority: the rules of sched(7) and setpriority(2), with "privileged"
// standing in for CAP_SYS_NICE. Pure functions: the kernel and the sched syscalls both ask here.

import { ERRNO } from '../abi/errno.js';
import { SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR } from '../abi/syscalls.js';
import type { Proc } from './proc.js';
import type { Policy } from './sched.js';

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

/** What a spawner asks for; unset fields are inherited from the parent, as across fork. */
export interface SpawnAttrs {
  nice?: number | undefined;
  policy?: number | undefined;
  rtPriority?: number | undefined;
  privileged?: boolean | undefined;
  cpuLimitMs?: number | undefined;
  memLimit?: number | undefined;
  oomScoreAdj?: number | undefined;
}

/**
 * The child's memory limit and OOM adjustment at spawn, or an errno. Like a hard rlimit, an unprivileged parent
 * cannot give a child more memory than it may have itself, nor lower its oom_score_adj below its own (Linux
 * needs CAP_SYS_RESOURCE for that).
 */
export function spawnMemory(parent: Proc | null, req: SpawnAttrs): { memLimit: number; oomScoreAdj: number } | number {
  const memLimit = req.memLimit ?? parent?.memLimit ?? Infinity;
  const oomScoreAdj = req.oomScoreAdj ?? parent?.oomScoreAdj ?? 0;
  if (parent !== null && !parent.privileged && (memLimit > parent.memLimit || oomScoreAdj < parent.oomScoreAdj)) {
    return ERRNO.EPERM.no;
  }
  return { memLimit, oomScoreAdj };
}

/**
 * The child's scheduling at spawn, or an errno. `parent` null means the host (through init), which may grant
 * anything. An unprivileged parent cannot give a child privilege, a lower nice than its own, or a real-time
 * class or priority it does not have itself.
 */
export function spawnScheduling(
  parent: Proc | null, req: SpawnAttrs,
): { policy: Policy; rtPriority: number; nice: number; privileged: boolean } | number {
  const from = parent?.sched;
  const policy = req.policy ?? from?.policy ?? SCHED_OTHER;
  const rtPriority = req.rtPriority ?? (req.policy === undefined ? from?.rtPriority ?? 0 : isRealtime(policy) ? 1 : 0);
  const nice = req.nice ?? from?.nice ?? 0;
  const e = checkPolicy(policy, rtPriority);
  if (e !== 0) return e;
  if (parent === null) return { policy: policy as Policy, rtPriority, nice, privileged: req.privileged === true };
  if (!parent.privileged) {
    if (req.privileged === true || nice < parent.sched.nice) return ERRNO.EPERM.no;
    if (isRealtime(policy) && (!isRealtime(parent.sched.policy) || rtPriority > parent.sched.rtPriority)) return ERRNO.EPERM.no;
  }
  return { policy: policy as Policy, rtPriority, nice, privileged: parent.privileged && req.privileged !== false };
}
