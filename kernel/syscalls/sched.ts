// Scheduling syscalls: sched_yield, nice, getpriority, setpriority, sched_setscheduler, sched_getscheduler,
// getrusage. The rules on who may do what are in ../priority.ts.

import { ERRNO } from '../../abi/errno.js';
import { NICE_MAX, NICE_MIN, type Policy } from '../sched.js';
import { mayRenice, mayScheduleAs } from '../priority.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';
import type { Proc } from '../proc.js';

/** who/pid 0 means the caller, as in the POSIX calls. */
function target(k: Kernel, p: Proc, who: number): Proc | undefined {
  if (who === 0) return p;
  const t = k.lookup(who);
  return t !== undefined && t.alive ? t : undefined;
}

/** sched_yield implements sched_yield(2): the caller goes back on the runqueue. */
export const sched_yield: Handler<'sched_yield', Kernel> = (k, p) => {
  k.yieldCpu(p);
  return 0;
};

/** nice implements nice(2) as Linux's system call does: it returns 0 (getpriority reads the result). */
export const nice: Handler<'nice', Kernel> = (k, p, inc) => {
  const next = Math.min(NICE_MAX, Math.max(NICE_MIN, p.sched.nice + inc));
  if (next < p.sched.nice && !p.privileged) return -ERRNO.EPERM.no;
  k.renice(p, next);
  return 0;
};

/** getpriority implements getpriority(2) for PRIO_PROCESS, returning 20 - nice like the Linux system call. */
export const getpriority: Handler<'getpriority', Kernel> = (k, p, _which, who) => {
  const t = target(k, p, who);
  return t === undefined ? -ERRNO.ESRCH.no : 20 - t.sched.nice;
};

/** setpriority implements setpriority(2) for PRIO_PROCESS. */
export const setpriority: Handler<'setpriority', Kernel> = (k, p, _which, who, value) => {
  const t = target(k, p, who);
  if (t === undefined) return -ERRNO.ESRCH.no;
  const e = mayRenice(p, t, value);
  if (e !== 0) return -e;
  k.renice(t, value);
  return 0;
};

/** sched_setscheduler implements sched_setscheduler(2) for SCHED_OTHER, SCHED_FIFO, SCHED_RR and SCHED_IDLE. */
export const sched_setscheduler: Handler<'sched_setscheduler', Kernel> = (k, p, pid, policy, priority) => {
  const t = target(k, p, pid);
  if (t === undefined) return -ERRNO.ESRCH.no;
  const e = mayScheduleAs(p, t, policy, priority);
  if (e !== 0) return -e;
  k.setPolicy(t, policy as Policy, priority);
  return 0;
};

/** sched_getscheduler implements sched_getscheduler(2). */
export const sched_getscheduler: Handler<'sched_getscheduler', Kernel> = (k, p, pid) => {
  const t = target(k, p, pid);
  return t === undefined ? -ERRNO.ESRCH.no : t.sched.policy;
};

/** getrusage implements getrusage(2)'s scheduling part: CPU time, wait time, context switches. */
export const getrusage: Handler<'getrusage', Kernel> = (k, p, who) => {
  const se = p.sched;
  const u = who === 0
    ? { cpuNs: se.runtimeNs, waitNs: se.waitNs, nvcsw: se.switchesVoluntary, nivcsw: se.switchesInvoluntary }
    : p.childUsage;
  return k.replyRecord(p, {
    cpuNs: Math.round(u.cpuNs), waitNs: Math.round(u.waitNs), nvcsw: u.nvcsw, nivcsw: u.nivcsw,
  });
};
