// The kernel core: it owns the process table and wires the subsystems together (executor, scheduler, host,
// orchestrator, events). Process lifecycle, signals and the block/wake protocol live here because each of
// them touches all the others; the host-facing API is in api.ts.

import { performance } from 'node:perf_hooks'; // not the global's getter (clock.ts)
import os from 'node:os';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ERRNO } from '../abi/errno.js';
import { SIG_CATCH, SIG_IGN, SIGNALS, signalDefault } from '../abi/signals.js';
import type { SpawnRequest } from '../abi/syscalls.js';
import type { Infer } from '../abi/types.js';
import { Encoder } from '@msgpack/msgpack';
import { kSpin, PAYLOAD_MAX } from '../abi/layout.js';
import { Channel, RET1 } from './channel.js';
import { seededRandom, VirtualClock, WallClock, type Clock } from './clock.js';
import type { ExitHow } from './events.js';
import { ProcessTable } from './proctable.js';
import { Executor } from './executor.js';
import { BLOCK, chargeFor, type OpenFile } from './fd.js';
import { Host, type Running } from './host.js';
import { HANDLERS } from './syscalls/index.js';
import { Proc, type ExitStatus, type Wait, type Waker } from './proc.js';
import type { Params } from './param.js';
import { Scheduler, type Pick, type Policy } from './sched.js';
import { spawnMemory, spawnScheduling, type SpawnAttrs } from './priority.js';
import { Memory } from './mm.js';
import { SharedMemory } from './shm.js';
import { MessageQueues } from './mq.js';
import { Futexes } from './futex.js';
import type { Pipe } from './pipe.js';
export type { SpawnAttrs } from './priority.js';
import { overCpuLimit, watchdogTick } from './watchdog.js';
import { toError } from './errors.js';
import { CallTracer } from './calltrace.js';

const { SIGKILL, SIGCHLD, SIGSEGV } = SIGNALS;

/** Events handed to the taps per look at a channel while the kernel waits for a request: one call's enter and
 *  exit, so that a request that comes meanwhile waits for at most one trace line. */
const IDLE_TAP_EVENTS = 2;

export class KernelCore extends ProcessTable implements Waker {
  readonly sched: Scheduler<Proc>;
  readonly clock: Clock;
  readonly memory: Memory;
  protected readonly host: Host;
  private readonly encoder = new Encoder();
  private readonly watchdog: NodeJS.Timeout;
  private readonly executor: Executor<KernelCore>;
  private readonly cores = os.availableParallelism();
  private readonly wakeups: Proc[] = [];
  private waking = false;
  readonly shm: SharedMemory;
  readonly mqs: MessageQueues;
  readonly futexes: Futexes;
  readonly pipes = new Set<Pipe>();
  protected stopping = false;
  /** What every reply allows for a sleep in place (abi/layout.ts, kWaitUs) while no process waits for a CPU. */
  private readonly waitInPlaceUs: number;
  /** Handler exceptions caught so far: each is a kernel bug (fuzzers assert this stays 0). */
  bugs = 0;
  /** Records the calls it serves while anyone consumes events. */
  private readonly tracer: CallTracer;

  constructor(
    readonly params: Params,
    readonly log: Logger,
  ) {
    super();
    if (!params.events) this.stream.disable();
    this.clock = params.deterministic
      ? new VirtualClock({ userNs: params.detUserNs, syscallNs: params.detSyscallNs })
      : new WallClock();
    this.tracer = new CallTracer(this.stream, this.clock);
    // Deterministic mode: one CPU, so the order of events is the order of syscalls; ties are a seeded choice.
    this.sched = new Scheduler<Proc>(
      { ...params, cpus: params.deterministic ? 1 : params.cpus },
      (pick) => this.dispatch(pick),
      params.deterministic ? seededRandom(params.seed) : null,
      () => this.stream.active,
    );
    // Deterministic mode: the order of events must be the order of syscalls, so nothing waits outside the kernel.
    this.waitInPlaceUs = params.deterministic ? 0 : params.userWaitUs;
    this.watchdog = setInterval(() => watchdogTick(this), params.watchdogTickMs);
    this.watchdog.unref();
    this.executor = new Executor<KernelCore>(this, HANDLERS, {
      bug: (p, syscall, error) => {
        this.bugs++;
        this.log.error({ pid: p.pid, syscall, err: error }, 'kernel bug: syscall handler threw');
        this.stream.emit({ kind: 'kernel_bug', pid: p.pid, syscall, error: error.message });
      },
      tracing: this.stream,
      enter: (p, def, args, argc) => this.tracer.enter(p, def, args, argc),
    });
    this.host = new Host(params);
    this.memory = new Memory(params.memBytes, [params.memPressureWarn, params.memPressureCritical], {
      stream: this.stream,
      procs: () => this.procs.values(),
      oomKill: (p) => this.signal(p, SIGKILL.no, 0),
    });
    this.shm = new SharedMemory(this);
    this.mqs = new MessageQueues(this);
    this.futexes = new Futexes(this);
  }

  // ---- time ----

  nowNs(): number {
    return this.clock.nowNs();
  }
  monotonicMs(): number {
    return this.clock.monotonicMs();
  }
  realtimeMs(): number {
    return this.clock.realtimeMs();
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
    files: readonly (OpenFile | undefined)[], sched: SpawnAttrs = {},
  ): Proc | number {
    let file: string;
    try {
      file = this.resolveProgram(program);
      if (!statSync(file).isFile()) return -ERRNO.EACCES.no;
    } catch {
      return -ERRNO.ENOENT.no;
    }
    return this.newProc(parent, file, argv, env, files, true, sched);
  }

  /**
   * For harnesses (tests, fuzzers, benchmarks): a process with no worker and no program, whose channel the
   * caller drives by writing frames and calling serve(). Everything else about it is real.
   */
  attachLocal(name = 'local', parent: Proc = this.init, files: readonly (OpenFile | undefined)[] = []): Proc | number {
    return this.newProc(parent, name, [name], {}, files, false, {});
  }

  /** Runs the request pending on a local process's channel now, instead of on the channel's wake-up. */
  serve(p: Proc): void {
    if (p.channel.pending) this.onRequest(p);
  }

  private newProc(
    parent: Proc, file: string, argv: readonly string[], env: Readonly<Record<string, string>>,
    files: readonly (OpenFile | undefined)[], worker: boolean, sched: SpawnAttrs,
  ): Proc | number {
    if (this.stopping) return -ERRNO.EAGAIN.no;
    const sch = spawnScheduling(parent.pid === 1 ? null : parent, sched);
    if (typeof sch === 'number') return -sch;
    const mem = spawnMemory(parent.pid === 1 ? null : parent, sched);
    if (typeof mem === 'number') return -mem;
    if (this.procs.size > this.params.maxProcs) return -ERRNO.EAGAIN.no;
    // What it inherits (a pipe's ring, a queue's storage) is charged to it from the start: it must fit its limit.
    if (chargeFor(null, files) > mem.memLimit) return -ERRNO.ENOMEM.no;
    const pid = this.allocPid();
    if (pid < 0) return pid;
    const child: Proc = new Proc(pid, parent.pid, file, [...argv], new Channel(() => this.onRequest(child)));
    child.env = { ...env };
    child.privileged = sch.privileged;
    child.memLimit = mem.memLimit;
    child.oomScoreAdj = mem.oomScoreAdj;
    this.sched.setPolicy(child, sch.policy, sch.rtPriority, sch.nice);
    if (sched.cpuLimitMs !== undefined) child.cpuLimitNs = sched.cpuLimitMs * 1e6;
    else if (parent !== this.init) child.cpuLimitNs = parent.cpuLimitNs;
    this.procs.set(pid, child);
    parent.children.add(child);
    if (worker) {
      const running = this.host.start({
        channel: child.channel.sab, path: file, argv: JSON.stringify(argv), env: JSON.stringify(env),
      });
      child.resources.acquire('worker', `worker thread of pid ${pid}`, () => this.releaseWorker(child, running));
      child.grant = (sab) => running.grant(sab);
      running.done.then(
        () => this.workerDone(child, null),
        (e: unknown) => this.workerDone(child, e),
      );
    } else {
      child.local = true;
      child.grant = (sab) => child.localGrants.push(sab);
      child.resources.acquire('worker', `local channel of pid ${pid}`, () => child.channel.close());
    }
    files.forEach((f, fd) => {
      if (f !== undefined) child.fds.install(f, fd);
    });
    if (parent !== this.init) {
      child.parentLink = { stack: parent.resources, resource: parent.resources.acquire('child', `child pid ${pid}`, () => this.orphan(child)) };
    }
    this.stream.emit({ kind: 'spawn', pid, ppid: parent.pid, path: file });
    if (worker) {
      // Its boot call is answered within microseconds when a CPU is free: let it spin for it rather than sleep.
      if (this.coreFree()) child.channel.i32[kSpin] = this.params.userSpinPolls;
      child.channel.arm();
    }
    if (this.clock.virtual && worker) {
      // Deterministic mode: runnable from the moment of its spawn, not of its worker's boot, so the schedule
      // never depends on how fast a worker starts. If picked before it booted, its CPU waits for the boot.
      this.transition(child, 'ready');
      this.sched.enqueue(child, this.nowNs(), 'new');
      this.reschedule(this.nowNs());
    }
    return child;
  }

  /**
   * The spawn syscall: the child's descriptors come from the parent's, by req.fds, or by default every descriptor
   * not marked close-on-exec, at the same number (as fork then exec would leave them).
   */
  spawnChild(parent: Proc, req: Infer<typeof SpawnRequest>): number {
    const files: (OpenFile | undefined)[] = [];
    if (req.fds === undefined) {
      for (const [fd, f, cloexec] of parent.fds.entries()) if (!cloexec) files[fd] = f;
    } else {
      for (let i = 0; i < req.fds.length; i++) {
        const from = req.fds[i]!;
        if (from < 0) continue;
        const f = parent.fds.get(from);
        if (f === undefined) return -ERRNO.EBADF.no;
        files[i] = f;
      }
    }
    const r = this.createProcess(parent, req.path, req.argv ?? [req.path], req.env ?? parent.env, files, req);
    return typeof r === 'number' ? r : r.pid;
  }

  // ---- the request path ----

  /** A request arrived on p's channel. Runs it, then answers, parks or preempts p. */
  private onRequest(p: Proc): void {
    if (!this.stream.active) return this.serveRequest(p);
    try {
      this.serveRequest(p);
    } finally {
      this.stream.cause = 0;
    }
  }

  private serveRequest(p: Proc): void {
    if (!p.booted) return this.boot(p);
    let now = this.nowNs();
    for (;;) {
      if (p.state !== 'running') return;
      if (this.clock instanceof VirtualClock) {
        this.clock.chargeSyscall();
        now = this.nowNs();
      }
      this.sched.charge(p, now);
      p.watchdogReported = false;
      p.lastSyscallWallNs = this.clock.virtual ? performance.now() * 1e6 : now;
      if (p.sched.runtimeNs >= p.cpuLimitNs && overCpuLimit(this, p)) return;
      p.callStartNs = now;
      const r = this.executor.run(p);
      if (!p.alive) return;
      if (r === BLOCK) return this.reschedule(now);
      this.setResult(p, r);
      const why = p.yielding ? 'yield' : this.sched.shouldPreempt(p, now);
      if (why !== null) {
        if (why === 'yield') p.sched.switchesVoluntary++;
        else p.sched.switchesInvoluntary++;
        if (this.stream.active) {
          const next = this.sched.peekNext();
          this.stream.emit({
            kind: 'preempt', pid: p.pid, reason: why, vruntime: p.sched.vruntime, ranNs: now - p.sched.sliceStart,
            next: next === undefined ? null : { pid: next.pid, vruntime: next.sched.vruntime, rtPriority: next.sched.rtPriority },
          });
        }
        p.yielding = false;
        this.sched.vacate(p);
        this.transition(p, 'ready');
        this.sched.enqueue(p, now, why === 'priority' ? 'preempt' : why === 'slice' ? 'expired' : 'yield');
        return this.reschedule(now);
      }
      const answeredNs = this.answer(p, now);
      // While a physical core is free, the next request of this process is likely microseconds away.
      if (p.local || !this.coreFree()) return this.listen(p);
      const next = this.awaitRequest(p, answeredNs);
      if (next < 0) return this.listen(p);
      now = next;
    }
  }

  /** The first frame of a process (its boot yield): its worker is ready to run userland code. */
  private boot(p: Proc): void {
    p.booted = true;
    const r = this.executor.run(p);
    if (!p.alive) return;
    const now = this.nowNs();
    if (r === BLOCK) return this.reschedule(now);
    this.setResult(p, r);
    if (p.state === 'new') {
      p.yielding = false;
      this.transition(p, 'ready');
      this.sched.enqueue(p, now, 'new');
      this.reschedule(now);
      return this.reclaimCpus();
    }
    // Deterministic mode queued it at spawn: answer now if it already holds its CPU, else at dispatch.
    if (p.state === 'running') {
      p.yielding = false;
      // Its CPU waited for the worker to boot: the syscall-free stretch the watchdog measures starts now.
      p.lastSyscallWallNs = performance.now() * 1e6;
      this.answer(p, now);
      this.listen(p);
    }
  }

  /** The scheduler gave p a CPU. */
  private dispatch(pick: Pick<Proc>): void {
    const p = pick.task;
    const now = this.nowNs();
    this.transition(p, 'running');
    p.lastSyscallWallNs = performance.now() * 1e6;
    if (this.stream.active) {
      this.stream.emit({
        kind: 'sched', pid: p.pid, cpu: pick.cpu, cls: pick.cls, vruntime: pick.vruntime,
        minVruntime: pick.minVruntime, runnerUp: pick.runnerUp, runnable: pick.runnable,
      });
    }
    // A process picked before its worker booted keeps the CPU; boot() answers when the worker is there.
    if (!p.booted) return;
    this.answer(p, now);
    this.listen(p);
  }

  /** Fills free CPUs; in deterministic mode, an idle machine jumps to its next timer instead of waiting. */
  private reschedule(now: number): void {
    this.sched.schedule(now);
    if (!(this.clock instanceof VirtualClock)) return;
    while (this.sched.running === 0 && this.sched.queued === 0 && this.clock.skipToNext()) {
      // each fired timer completed a sleeper, which schedule() (through complete) has dispatched
    }
  }

  /**
   * Waits briefly for p's next request, on a core nobody else needs; returns the time its call starts at (ns), or
   * -1 if none came. The taps' pending work (trace lines to format) is done here first, a call at a time between
   * looks at the channel: the gap between a reply and the next request is time the kernel would otherwise spend
   * polling, and a tap's work done in it adds nothing to the process's calls. Whatever is left when the request
   * comes waits for the next gap, for the drain the stream has queued for when the kernel goes idle, or for a full
   * ring's catch-up. A process making null calls back to back leaves gaps too short for a line (its next request
   * is usually there at the first look), so most of its lines are formatted in catch-ups (docs/benchmarks.md).
   *
   * `answeredNs`: when the answer was traced, the clock reading its sys_exit took after the reply, else -1. A
   * request already there at the first or second look (before and after one call's trace work) starts at that
   * reading, early by at most that work: tracing then reads the clock once per call, as the kernel does without
   * it, instead of twice (a read costs ~60 ns here, a tenth of a null call).
   */
  private awaitRequest(p: Proc, answeredNs: number): number {
    const ch = p.channel;
    for (let looks = 0; this.stream.tapsBehind; looks++) {
      if (ch.pending) return answeredNs >= 0 && looks < 2 ? answeredNs : this.nowNs();
      this.stream.drainSome(IDLE_TAP_EVENTS);
    }
    return ch.spin(this.params.kernelSpinPolls) ? this.nowNs() : -1;
  }

  /** Watches p's channel for its next request (a local process's harness calls serve instead). */
  private listen(p: Proc): void {
    if (!p.local) p.channel.arm();
  }

  private setResult(p: Proc, r: number): void {
    p.result = r;
    if (p.answersBytes) p.replyLen = r > 0 ? r : 0;
  }

  /** Sends p its answer. Returns the clock reading (ns) its sys_exit event took after the reply, or -1 when the
   *  answer was not traced. */
  private answer(p: Proc, now: number): number {
    const r = p.result;
    const traced = this.stream.active;
    if (traced) this.tracer.keep(p);
    const signals = p.pendingSignals;
    p.pendingSignals = 0;
    p.sched.since = now;
    // A process sleeping in place keeps its CPU: allowed only while nobody waits for one.
    const waitUs = this.sched.queued === 0 ? this.waitInPlaceUs : 0;
    p.channel.reply(r < 0 ? -r : 0, r < 0 ? -1 : r, r >= 0 ? p.replyLen : 0, signals, this.coreFree() ? this.params.userSpinPolls : 0, waitUs);
    return traced ? this.tracer.exit(p) : -1;
  }

  /**
   * Ends p's sleep in place, if it is in one, and keeps it from starting another until its next reply: a signal is
   * waiting for it, or a process waits for its CPU. It then asks the kernel to park it, and the kernel can act.
   */
  private endWaitInPlace(p: Proc): void {
    if (p.local || this.waitInPlaceUs === 0) return;
    const addr = p.channel.endWaitInPlace();
    if (addr === 0) return;
    // The address comes from the process: only a word of its own mappings is notified (a spurious wake-up there
    // costs the sleepers one more look).
    const at = this.memory.wordAt(p, addr);
    if (at !== null) Atomics.notify(new Int32Array(at.region.sab, at.offset & ~3, 1), 0);
  }

  /** Every running process that may be sleeping in place gives its CPU back soon (someone waits for one). */
  private reclaimCpus(): void {
    if (this.waitInPlaceUs === 0 || this.sched.queued === 0) return;
    for (let cpu = 0; cpu < this.sched.ncpu; cpu++) {
      const q = this.sched.onCpu(cpu);
      if (q !== null) this.endWaitInPlace(q);
    }
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
    p.parkedOn = wait.reason;
    if (p.state === 'blocked') return BLOCK;
    if (p.state === 'running') {
      this.sched.vacate(p);
      p.sched.switchesVoluntary++;
    }
    this.transition(p, 'blocked');
    return BLOCK;
  }

  /**
   * Retries p's parked call. A retry can change an object and wake others (a reader that drained a pipe wakes its
   * writers): those wakes are queued and run after the current one, so no retry ever runs inside another.
   */
  wake(p: Proc): void {
    this.wakeups.push(p);
    if (this.waking) return;
    this.waking = true;
    try {
      for (let i = 0; i < this.wakeups.length; i++) this.retry(this.wakeups[i]!);
    } finally {
      this.wakeups.length = 0;
      this.waking = false;
    }
  }

  private retry(p: Proc): void {
    const w = p.wait;
    if (p.state !== 'blocked' || w === null || w.retry === null) return;
    // While its call runs again the process is not interruptible: a signal the retry raises (SIGPIPE) is
    // delivered with the call's own answer instead of cutting the call short.
    p.wait = null;
    const r = w.retry();
    if (r !== BLOCK) return this.complete(p, r);
    if (p.wait === null && p.state === 'blocked') p.wait = w;
  }

  complete(p: Proc, result: number): void {
    if (p.state !== 'blocked') return;
    p.wait = null;
    if (this.stream.active) p.wakeEvent = this.stream.emit({ kind: 'wake', pid: p.pid, reason: p.parkedOn, result });
    this.setResult(p, result);
    const now = this.nowNs();
    this.transition(p, 'ready');
    this.sched.enqueue(p, now, 'wake');
    this.reschedule(now);
    this.reclaimCpus();
  }

  sleep(p: Proc, ms: number): number {
    if (ms <= 0) return 0;
    let cancel = (): void => {};
    const res = p.resources.acquire('timer', `nanosleep ${ms} ms`, () => cancel());
    cancel = this.clock.after(ms, () => {
      p.resources.release(res);
      this.complete(p, 0);
    });
    return this.block(p, { reason: `nanosleep(${ms} ms)`, retry: null, cancel: () => p.resources.release(res) });
  }

  /** Encodes a record result into p's reply payload; returns 0, or -EOVERFLOW if it does not fit. */
  replyRecord(p: Proc, value: unknown): number {
    const bytes = this.encoder.encode(value);
    if (bytes.length > PAYLOAD_MAX) return -ERRNO.EOVERFLOW.no;
    p.channel.payload.set(bytes);
    p.replyLen = bytes.length;
    return 0;
  }

  /** Changes p's nice value; a queued process is requeued so its new weight takes effect at once. */
  renice(p: Proc, nice: number): void {
    this.setPolicy(p, p.sched.policy, p.sched.rtPriority, nice);
  }

  setPolicy(p: Proc, policy: Policy, rtPriority: number, nice = p.sched.nice): void {
    const queued = p.sched.queue !== null;
    if (queued) this.sched.remove(p);
    this.sched.setPolicy(p, policy, rtPriority, nice);
    if (queued) this.sched.enqueue(p, this.nowNs(), 'yield');
  }

  /** Stops the kernel's periodic work (the watchdog); part of shutdown. */
  protected stopTicking(): void {
    clearInterval(this.watchdog);
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
    this.stream.emit({ kind: 'signal', pid: p.pid, sig, from, action });
    if (action === 'term') return this.exit(p, { code: null, signal: sig }, 'signal');
    if (action === 'ignore') return;
    p.pendingSignals |= 1 << sig;
    if (p.state === 'running') this.endWaitInPlace(p);
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
    this.stream.emit({ kind: 'exit', pid: p.pid, code: status.code, signal: status.signal, how });
    p.resources.releaseAll((step) => {
      const error = step.error === null ? undefined : toError(step.error).message;
      if (error !== undefined) this.log.warn({ pid: p.pid, resource: step.resource.label, error }, 'release failed');
      this.stream.emit({
        kind: 'cleanup', pid: p.pid, resource: step.resource.kind, label: step.resource.label, order: step.order,
        ok: error === undefined, ...(error === undefined ? {} : { error }),
      });
    });
    this.notifyExited(p, status);
    const parent = this.procs.get(p.ppid);
    if (parent === undefined || parent === this.init || parent.disposition[SIGCHLD.no] === SIG_IGN) {
      this.reap(p, this.init);
      // A parent that ignores SIGCHLD may be in waitpid: with no child left it must now fail with ECHILD.
      if (parent !== undefined && parent !== this.init) this.wake(parent);
    } else {
      this.wake(parent);
      this.signal(parent, SIGCHLD.no, p.pid);
    }
    this.reschedule(this.nowNs());
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


}
