// The kernel core: it owns the process table and wires the subsystems together (executor, scheduler, host,
// orchestrator, events). Process lifecycle, signals and the block/wake protocol live here because each of
// them touches all the others; the host-facing API is in api.ts.

import os from 'node:os';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ERRNO } from '../abi/errno.js';
import { PID_MAX } from '../abi/limits.js';
import { SIG_CATCH, SIG_IGN, SIGNALS, signalDefault } from '../abi/signals.js';
import { wstatusExited, wstatusSignaled, type SpawnRequest } from '../abi/syscalls.js';
import type { Infer } from '../abi/types.js';
import { kSpin } from '../abi/layout.js';
import { Channel, RET1 } from './channel.js';
import { EventStream, type ExitHow } from './events.js';
import { Executor } from './executor.js';
import { BLOCK, type OpenFile } from './fd.js';
import { Host, type Running } from './host.js';
import { HANDLERS } from './syscalls/index.js';
import { isLegal, Proc, type ExitStatus, type ProcState, type Wait, type Waker } from './proc.js';
import type { Params } from './param.js';
import { Scheduler } from './sched.js';
import { toError } from './errors.js';

const { SIGKILL, SIGCHLD, SIGSEGV } = SIGNALS;
/** setTimeout's largest delay; longer sleeps are chained. */
const TIMER_MAX_MS = 0x7fffffff;

export class KernelCore implements Waker {
  readonly events = new EventStream();
  readonly procs = new Map<number, Proc>();
  readonly init: Proc;
  readonly sched: Scheduler;
  protected readonly host: Host;
  private readonly executor: Executor<KernelCore>;
  private readonly cores = os.availableParallelism();
  private readonly exitWatchers = new Map<Proc, ((s: ExitStatus) => void)[]>();
  private lastPid = 1;
  protected stopping = false;
  /** Handler exceptions caught so far: each is a kernel bug (fuzzers assert this stays 0). */
  bugs = 0;

  constructor(
    readonly params: Params,
    readonly log: Logger,
  ) {
    this.sched = new Scheduler(params, (p) => this.dispatch(p));
    this.executor = new Executor<KernelCore>(this, HANDLERS, {
      bug: (p, syscall, error) => {
        this.bugs++;
        this.log.error({ pid: p.pid, syscall, err: error }, 'kernel bug: syscall handler threw');
        this.events.emit({ kind: 'kernel_bug', pid: p.pid, syscall, error: error.message });
      },
    });
    this.host = new Host(params);
    // init is the kernel's own process: it never runs userland code, adopts orphans and reaps them at once.
    this.init = new Proc(1, 0, 'init', ['init'], new Channel(() => {}));
    this.init.state = 'blocked';
    this.procs.set(1, this.init);
  }

  // ---- time ----

  nowNs(): number {
    return performance.now() * 1e6;
  }
  monotonicMs(): number {
    return performance.now();
  }
  realtimeMs(): number {
    return performance.timeOrigin + performance.now();
  }

  lookup(pid: number): Proc | undefined {
    return this.procs.get(pid);
  }

  // ---- process creation ----

  /** Resolves a program path as the kernel sees it: file: URLs and paths relative to the kernel's cwd. */
  resolveProgram(program: string): string {
    return program.startsWith('file:') ? fileURLToPath(program) : path.resolve(program);
  }

  /**
   * Creates a process as a child of `parent`. `files[i]` is the open file for descriptor i (or undefined).
   * Returns the process, or -errno. Its resources are registered in acquisition order: the worker first.
   */
  createProcess(
    parent: Proc, program: string, argv: readonly string[], env: Readonly<Record<string, string>>,
    files: readonly (OpenFile | undefined)[],
  ): Proc | number {
    let file: string;
    try {
      file = this.resolveProgram(program);
      if (!statSync(file).isFile()) return -ERRNO.EACCES.no;
    } catch {
      return -ERRNO.ENOENT.no;
    }
    return this.newProc(parent, file, argv, env, files, true);
  }

  /**
   * For harnesses (tests, fuzzers, benchmarks): a process with no worker and no program, whose channel the
   * caller drives by writing frames and calling serve(). Everything else about it is real.
   */
  attachLocal(name = 'local', parent: Proc = this.init, files: readonly (OpenFile | undefined)[] = []): Proc | number {
    return this.newProc(parent, name, [name], {}, files, false);
  }

  /** Runs the request pending on a local process's channel now, instead of on the channel's wake-up. */
  serve(p: Proc): void {
    if (p.channel.pending) this.onRequest(p);
  }

  private newProc(
    parent: Proc, file: string, argv: readonly string[], env: Readonly<Record<string, string>>,
    files: readonly (OpenFile | undefined)[], worker: boolean,
  ): Proc | number {
    if (this.stopping) return -ERRNO.EAGAIN.no;
    if (this.procs.size > this.params.maxProcs) return -ERRNO.EAGAIN.no;
    const pid = this.allocPid();
    if (pid < 0) return pid;
    const child: Proc = new Proc(pid, parent.pid, file, [...argv], new Channel(() => this.onRequest(child)));
    child.env = { ...env };
    this.procs.set(pid, child);
    parent.children.add(child);
    if (worker) {
      const running = this.host.start({
        channel: child.channel.sab, path: file, argv: JSON.stringify(argv), env: JSON.stringify(env),
      });
      child.resources.acquire('worker', `worker thread of pid ${pid}`, () => this.releaseWorker(child, running));
      running.done.then(
        () => this.workerDone(child, null),
        (e: unknown) => this.workerDone(child, e),
      );
    } else {
      child.local = true;
      child.resources.acquire('worker', `local channel of pid ${pid}`, () => child.channel.close());
    }
    files.forEach((f, fd) => {
      if (f !== undefined) child.fds.install(f, fd);
    });
    if (parent !== this.init) {
      child.parentLink = { stack: parent.resources, resource: parent.resources.acquire('child', `child pid ${pid}`, () => this.orphan(child)) };
    }
    this.events.emit({ kind: 'spawn', pid, ppid: parent.pid, path: file });
    if (worker) {
      // Its boot call is answered within microseconds when a CPU is free: let it spin for it rather than sleep.
      if (this.coreFree()) child.channel.i32[kSpin] = this.params.userSpinPolls;
      child.channel.arm();
    }
    return child;
  }

  /** The spawn syscall: the child's descriptors come from the parent's, by req.fds (default 0, 1, 2). */
  spawnChild(parent: Proc, req: Infer<typeof SpawnRequest>): number {
    const map = req.fds ?? [0, 1, 2];
    const files: (OpenFile | undefined)[] = [];
    for (let i = 0; i < map.length; i++) {
      const from = map[i]!;
      if (from < 0) continue;
      const f = parent.fds.get(from);
      if (f === undefined) return -ERRNO.EBADF.no;
      files[i] = f;
    }
    const r = this.createProcess(parent, req.path, req.argv ?? [req.path], req.env ?? parent.env, files);
    return typeof r === 'number' ? r : r.pid;
  }

  private allocPid(): number {
    for (let i = 0; i < PID_MAX; i++) {
      this.lastPid = this.lastPid >= PID_MAX ? 2 : this.lastPid + 1;
      if (!this.procs.has(this.lastPid)) return this.lastPid;
    }
    return -ERRNO.EAGAIN.no;
  }

  // ---- the request path ----

  /** A request arrived on p's channel. Runs it, then answers, parks or preempts p. */
  private onRequest(p: Proc): void {
    let now = this.nowNs();
    for (;;) {
      if (!p.alive || p.state === 'blocked' || p.state === 'ready') return;
      const fresh = p.state === 'new';
      if (!fresh) this.sched.charge(p, now);
      const r = this.executor.run(p);
      if (!p.alive) return;
      if (r === BLOCK) return this.sched.schedule(now);
      this.setResult(p, r);
      if (fresh) {
        this.transition(p, 'ready');
        this.sched.enqueue(p, now, 'new');
        return this.sched.schedule(now);
      }
      if (p.yielding || this.sched.shouldPreempt(p, p.sched.sliceStart, now)) {
        if (p.yielding) p.sched.switchesVoluntary++;
        else p.sched.switchesInvoluntary++;
        const reason = p.yielding ? 'yield' : 'preempt';
        p.yielding = false;
        this.sched.vacate(p);
        this.transition(p, 'ready');
        this.sched.enqueue(p, now, reason);
        return this.sched.schedule(now);
      }
      this.answer(p, now);
      // While a physical core is free, the next request of this process is likely microseconds away.
      if (p.local || !this.coreFree() || !p.channel.spin(this.params.kernelSpinPolls)) return this.listen(p);
      now = this.nowNs();
    }
  }

  /** The scheduler gave p a CPU. */
  private dispatch(p: Proc): void {
    const now = this.nowNs();
    this.transition(p, 'running');
    p.sched.sliceStart = now;
    this.answer(p, now);
    this.listen(p);
  }

  /** Watches p's channel for its next request (a local process's harness calls serve instead). */
  private listen(p: Proc): void {
    if (!p.local) p.channel.arm();
  }

  private setResult(p: Proc, r: number): void {
    p.result = r;
    if (p.answersBytes) p.replyLen = r > 0 ? r : 0;
  }

  private answer(p: Proc, now: number): void {
    const r = p.result;
    const signals = p.pendingSignals;
    p.pendingSignals = 0;
    p.sched.since = now;
    p.channel.reply(r < 0 ? -r : 0, r < 0 ? -1 : r, r > 0 ? p.replyLen : 0, signals, this.coreFree() ? this.params.userSpinPolls : 0);
  }

  /** True while the runnable processes plus the kernel thread fit on the machine's cores. */
  private coreFree(): boolean {
    return this.sched.running + this.sched.queued < this.cores;
  }

  setRet1(p: Proc, v: number): void {
    p.channel.f64[RET1] = v;
  }

  // ---- block and wake (Waker) ----

  block(p: Proc, wait: Wait): number {
    // A caught signal that arrived since the last reply interrupts the call before it parks (POSIX EINTR).
    if (p.pendingSignals !== 0 && p.state !== 'blocked') {
      wait.cancel?.();
      return wait.interrupted ?? -ERRNO.EINTR.no;
    }
    p.wait = wait;
    if (p.state === 'blocked') return BLOCK;
    if (p.state === 'running') {
      this.sched.vacate(p);
      p.sched.switchesVoluntary++;
    }
    this.transition(p, 'blocked');
    return BLOCK;
  }

  wake(p: Proc): void {
    if (p.state !== 'blocked' || p.wait === null || p.wait.retry === null) return;
    const r = p.wait.retry();
    if (r !== BLOCK) this.complete(p, r);
  }

  complete(p: Proc, result: number): void {
    if (p.state !== 'blocked') return;
    p.wait = null;
    this.setResult(p, result);
    const now = this.nowNs();
    this.transition(p, 'ready');
    this.sched.enqueue(p, now, 'wake');
    this.sched.schedule(now);
  }

  sleep(p: Proc, ms: number): number {
    if (ms <= 0) return 0;
    const deadline = performance.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const res = p.resources.acquire('timer', `nanosleep ${ms} ms`, () => clearTimeout(timer));
    const arm = (): void => {
      const left = deadline - performance.now();
      if (left > 0) timer = setTimeout(arm, Math.min(left, TIMER_MAX_MS));
      else {
        p.resources.release(res);
        this.complete(p, 0);
      }
    };
    arm();
    return this.block(p, { reason: `nanosleep(${ms} ms)`, retry: null, cancel: () => p.resources.release(res) });
  }

  yieldCpu(p: Proc): void {
    if (p.state === 'running') p.yielding = true;
  }

  // ---- signals ----

  /** Sends sig to p: terminate, mark it for the next reply (interrupting a wait), or ignore. */
  signal(p: Proc, sig: number, from: number): void {
    if (!p.alive || p === this.init) return;
    const disposition = p.disposition[sig] ?? 0;
    const dfl = signalDefault(sig);
    const fatal = sig === SIGKILL.no || (disposition !== SIG_CATCH && disposition !== SIG_IGN && (dfl === 'term' || dfl === 'core'));
    const action = fatal ? 'term' : disposition === SIG_CATCH ? 'catch' : 'ignore';
    this.events.emit({ kind: 'signal', pid: p.pid, sig, from, action });
    if (action === 'term') return this.exit(p, { code: null, signal: sig }, 'signal');
    if (action === 'ignore') return;
    p.pendingSignals |= 1 << sig;
    if (p.state === 'blocked' && p.wait !== null) {
      const w = p.wait;
      w.cancel?.();
      this.complete(p, w.interrupted ?? -ERRNO.EINTR.no);
    }
  }

  // ---- exit, reap, orphans ----

  /** Ends p however it ended: releases everything it holds (LIFO), then tells its parent. */
  exit(p: Proc, status: ExitStatus, how: ExitHow): void {
    if (!p.alive) return;
    if (p.wait !== null) {
      p.wait.cancel?.();
      p.wait = null;
    }
    this.sched.remove(p);
    this.sched.vacate(p);
    p.exitHow = how;
    p.status = status;
    this.transition(p, 'zombie');
    this.events.emit({ kind: 'exit', pid: p.pid, code: status.code, signal: status.signal, how });
    p.resources.releaseAll((step) => {
      const error = step.error === null ? undefined : toError(step.error).message;
      if (error !== undefined) this.log.warn({ pid: p.pid, resource: step.resource.label, error }, 'release failed');
      this.events.emit({
        kind: 'cleanup', pid: p.pid, resource: step.resource.kind, label: step.resource.label, order: step.order,
        ok: error === undefined, ...(error === undefined ? {} : { error }),
      });
    });
    for (const resolve of this.exitWatchers.get(p) ?? []) resolve(status);
    this.exitWatchers.delete(p);
    const parent = this.procs.get(p.ppid);
    if (parent === undefined || parent === this.init || parent.disposition[SIGCHLD.no] === SIG_IGN) {
      this.reap(p, this.init);
      // A parent that ignores SIGCHLD may be in waitpid: with no child left it must now fail with ECHILD.
      if (parent !== undefined && parent !== this.init) this.wake(parent);
    } else {
      this.wake(parent);
      this.signal(parent, SIGCHLD.no, p.pid);
    }
    this.sched.schedule(this.nowNs());
  }

  wstatus(p: Proc): number {
    const s = p.status;
    if (s === null) return 0;
    return s.signal !== null ? wstatusSignaled(s.signal) : wstatusExited(s.code ?? 0);
  }

  reap(child: Proc, by: Proc): void {
    if (child.state !== 'zombie') return;
    this.transition(child, 'reaped');
    this.procs.delete(child.pid);
    this.procs.get(child.ppid)?.children.delete(child);
    // Drop the parent's 'child' entry now, so a long-lived parent's stack does not grow with every child it reaps.
    if (child.parentLink !== null) child.parentLink.stack.release(child.parentLink.resource);
    this.events.emit({ kind: 'reap', pid: child.pid, by: by.pid });
  }

  /** The parent is going away: init adopts the child (and reaps it at once if it already ended). */
  private orphan(child: Proc): void {
    if (child.state === 'reaped') return;
    child.ppid = 1;
    this.init.children.add(child);
    if (child.state === 'zombie') this.reap(child, this.init);
  }

  private releaseWorker(p: Proc, running: Running): void {
    p.channel.close();
    if (p.exitHow !== 'exit') return running.terminate();
    // A clean exit hands the worker back; one that keeps running JS after exit loses it.
    const t = setTimeout(() => running.terminate(), this.params.exitGraceMs);
    t.unref();
    void running.done.finally(() => clearTimeout(t)).catch(() => {});
  }

  private workerDone(p: Proc, error: unknown): void {
    if (!p.alive) return;
    // The worker ended under a live process: it crashed (OOM in its heap, or a fault in the loader).
    const oom = error instanceof Error && (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    this.log.warn({ pid: p.pid, err: error === null ? 'worker returned early' : toError(error) }, 'process worker died');
    this.exit(p, { code: null, signal: oom ? SIGKILL.no : SIGSEGV.no }, 'crash');
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

  transition(p: Proc, to: ProcState): void {
    const from = p.state;
    if (!isLegal(from, to)) throw new Error(`kernel bug: pid ${p.pid} cannot go from ${from} to ${to}`);
    p.state = to;
    this.events.emit({ kind: 'proc_state', pid: p.pid, from, to });
  }
}
