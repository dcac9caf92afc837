// The process table: pids, the init process, the lifecycle state machine's transitions, reaping and adoption,
// and exit statuses. The kernel core (kernel.ts) builds on it.

import { ERRNO } from '../abi/errno.js';
import { PID_MAX } from '../abi/limits.js';
import { wstatusExited, wstatusSignaled } from '../abi/syscalls.js';
import { Channel } from './channel.js';
import { EventStream } from './events.js';
import { isLegal, Proc, type ExitStatus, type ProcState } from './proc.js';

export class ProcessTable {
  readonly stream = new EventStream();
  readonly procs = new Map<number, Proc>();
  /** init is the kernel's own process: it never runs userland code, adopts orphans and reaps them at once. */
  readonly init: Proc;
  private readonly exitWatchers = new Map<Proc, ((s: ExitStatus) => void)[]>();
  private lastPid = 1;

  constructor() {
    this.init = new Proc(1, 0, 'init', ['init'], new Channel(() => {}));
    this.init.state = 'blocked';
    this.procs.set(1, this.init);
  }

  lookup(pid: number): Proc | undefined {
    return this.procs.get(pid);
  }

  /** The next free pid after the last one given out (wrapping, as Linux does), or -EAGAIN if none is free. */
  protected allocPid(): number {
    for (let i = 0; i < PID_MAX; i++) {
      this.lastPid = this.lastPid >= PID_MAX ? 2 : this.lastPid + 1;
      if (!this.procs.has(this.lastPid)) return this.lastPid;
    }
    return -ERRNO.EAGAIN.no;
  }

  transition(p: Proc, to: ProcState): void {
    const from = p.state;
    if (!isLegal(from, to)) throw new Error(`kernel bug: pid ${p.pid} cannot go from ${from} to ${to}`);
    p.state = to;
    if (this.stream.active) this.stream.emit({ kind: 'proc_state', pid: p.pid, from, to });
  }

  /** p's status as POSIX wstatus, for waitpid. */
  wstatus(p: Proc): number {
    const s = p.status;
    if (s === null) return 0;
    return s.signal !== null ? wstatusSignaled(s.signal) : wstatusExited(s.code ?? 0);
  }

  /** Removes a zombie from the table; its usage is added to the reaper's RUSAGE_CHILDREN. */
  reap(child: Proc, by: Proc): void {
    if (child.state !== 'zombie') return;
    const u = by.childUsage;
    const se = child.sched;
    u.cpuNs += se.runtimeNs + child.childUsage.cpuNs;
    u.waitNs += se.waitNs + child.childUsage.waitNs;
    u.nvcsw += se.switchesVoluntary + child.childUsage.nvcsw;
    u.nivcsw += se.switchesInvoluntary + child.childUsage.nivcsw;
    this.transition(child, 'reaped');
    this.procs.delete(child.pid);
    this.procs.get(child.ppid)?.children.delete(child);
    // Drop the parent's 'child' entry now, so a long-lived parent's stack does not grow with every child it reaps.
    if (child.parentLink !== null) child.parentLink.stack.release(child.parentLink.resource);
    this.stream.emit({ kind: 'reap', pid: child.pid, by: by.pid });
  }

  /** The parent is going away: init adopts the child (and reaps it at once if it already ended). */
  protected orphan(child: Proc): void {
    if (child.state === 'reaped') return;
    child.ppid = 1;
    this.init.children.add(child);
    if (child.state === 'zombie') this.reap(child, this.init);
  }

  /** Resolves with p's exit status once it has ended. */
  exited(p: Proc): Promise<ExitStatus> {
    if (p.status !== null) return Promise.resolve(p.status);
    return new Promise((resolve) => {
      const list = this.exitWatchers.get(p);
      if (list === undefined) this.exitWatchers.set(p, [resolve]);
      else list.push(resolve);
    });
  }

  protected notifyExited(p: Proc, status: ExitStatus): void {
    for (const resolve of this.exitWatchers.get(p) ?? []) resolve(status);
    this.exitWatchers.delete(p);
  }
}
