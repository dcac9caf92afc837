// The host-facing API: `import { Kernel } from 'agentix'`. Errors here are AgentixErrors with stable codes.

import { PassThrough, Readable, Writable } from 'node:stream';
import { pino, destination, type Logger, type LevelWithSilent } from 'pino';
import { ERRNO } from '../abi/errno.js';
import { SIGNALS, signalName, type SignalName } from '../abi/signals.js';
import { SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR } from '../abi/syscalls.js';
import { ConsoleIn, ConsoleOut } from './console.js';
import { AgentixError } from './errors.js';
import type { OpenFile } from './fd.js';
import { KernelCore } from './kernel.js';
import { PARAM, type Params } from './param.js';
import type { Proc, ProcState } from './proc.js';
import type { MemInfo } from './mm.js';
import type { EventFilter, Lost, Stamped } from './events.js';
import { maxTotal } from './alloc.js';
import type { Pipe } from './pipe.js';
import type { SharedMemory } from './shm.js';
import type { MessageQueues } from './mq.js';

export interface KernelOptions {
  /** Virtual CPUs (default: the machine's cores). */
  cpus?: number;
  /** Simulated physical memory, in bytes or as a size such as '256M' (default 256M). */
  mem?: number | string;
  /** Memory pressure events at these fractions of mem (default 0.8 and 0.95). */
  memPressure?: readonly [number, number];
  /** Live processes at most (spawn past it: EAGAIN in userland, ERR_PROCESS_LIMIT here). */
  maxProcs?: number;
  /** Each process's JavaScript heap limit in MiB (default: V8's); past it the process dies with SIGKILL. */
  heapMb?: number;
  /** Worker threads kept warm for fast spawns. */
  warmWorkers?: number;
  /** Bytes a pipe holds, in bytes or as a size ('64K', the default): a power of two from 4K to 16M. */
  pipeSize?: number | string;
  /** Microseconds a process may sleep in place on a pipe's ring or a futex word before the kernel parks it, while
   *  no process waits for a CPU (default 750; 0: every wait goes through the kernel). See docs/ipc.md. */
  waitInPlaceUs?: number;
  targetLatencyMs?: number;
  minGranularityMs?: number;
  shutdownGraceMs?: number;
  exitGraceMs?: number;
  /** SCHED_RR slice, the syscall-free stretch the watchdog reports, and RLIMIT_CPU's SIGXCPU-to-SIGKILL grace. */
  rrSliceMs?: number;
  watchdogMs?: number;
  cpuLimitGraceMs?: number;
  /** One virtual CPU, a virtual clock advanced by a cost model, seeded tie-breaks: the same programs and seed
   *  give the same schedule, run after run. */
  deterministic?: boolean;
  seed?: number;
  /** false: a kernel nobody can observe (events(), stream.on and stream.tap throw ERR_EVENTS_OFF). Default true;
   *  with events on and nobody subscribed, events cost one test per emit site (docs/events.md, Cost). */
  events?: boolean;
  logLevel?: LevelWithSilent;
  logger?: Logger;
}

export type StdinOption = 'pipe' | 'inherit' | 'ignore' | string | Uint8Array | Readable;
export type OutputOption = 'pipe' | 'inherit' | 'ignore' | Writable;

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Default 'pipe': write to handle.stdin, and end it for end of file. */
  stdin?: StdinOption;
  /** Default 'pipe': read handle.stdout (unread output eventually parks the writer, as with a full pipe). */
  stdout?: OutputOption;
  stderr?: OutputOption;
  /** Scheduling: nice -20..19 (default 0), policy (default 'other'), real-time priority 1..99 for 'fifo'/'rr'. */
  nice?: number;
  policy?: PolicyName;
  rtPriority?: number;
  /** Lets the process raise priorities and enter the real-time class, and grant that to its children. */
  privileged?: boolean;
  /** RLIMIT_CPU: CPU time in ms after which it gets SIGXCPU, then SIGKILL after cpuLimitGraceMs. */
  cpuLimitMs?: number;
  /** RLIMIT_AS: the most simulated memory, in bytes or as a size ('64M'), the process may hold; past it, ENOMEM. */
  memLimit?: number | string;
  /** Added to the process's OOM badness: -1000 (never chosen by the OOM killer) to 1000 (chosen first). */
  oomScoreAdj?: number;
}

export type PolicyName = 'other' | 'fifo' | 'rr' | 'idle';
const POLICIES: Record<PolicyName, number> = { other: SCHED_OTHER, fifo: SCHED_FIFO, rr: SCHED_RR, idle: SCHED_IDLE };
const POLICY_NAMES = new Map<number, PolicyName>(Object.entries(POLICIES).map(([k, v]) => [v, k as PolicyName]));

export interface ExitResult {
  /** The exit code, or null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: number | null;
  readonly signalName: SignalName | null;
}

export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly state: ProcState;
  readonly program: string;
  readonly argv: readonly string[];
  /** The call the process is in or last made. */
  readonly syscall: string;
  readonly waitingFor: string | null;
  readonly cpu: number | null;
  readonly policy: PolicyName;
  readonly rtPriority: number;
  readonly nice: number;
  readonly runtimeMs: number;
  readonly vruntimeMs: number;
  readonly waitMs: number;
  readonly switches: { readonly voluntary: number; readonly involuntary: number };
  readonly fds: number;
  readonly resources: number;
  /** Simulated memory it holds, in bytes, and its RLIMIT_AS (null: none). */
  readonly memBytes: number;
  readonly memLimit: number | null;
  readonly exit: ExitResult | null;
}

export interface IpcInfo {
  readonly pipes: readonly ReturnType<Pipe['info']>[];
  readonly shm: ReturnType<SharedMemory['list']>;
  readonly mq: ReturnType<MessageQueues['list']>;
  readonly futexWaiters: number;
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Parses a size such as 4096, '64K', '256M', '1G' (powers of 1024). */
export function parseSize(v: number | string): number {
  const m = typeof v === 'number' ? null : /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?\s*$/i.exec(v);
  const n = typeof v === 'number' ? v : m === null ? NaN : Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (!Number.isFinite(n) || n <= 0 || n > 2 ** 48) {
    throw new AgentixError('ERR_INVALID_OPTION', `mem: '${String(v)}' is not a size; use bytes or a number with K, M or G`);
  }
  return Math.floor(n);
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new AgentixError('ERR_INVALID_OPTION', `${name}: expected a whole number >= 1, got ${String(v)}`);
  return v;
}

function toResult(s: { code: number | null; signal: number | null }): ExitResult {
  return { code: s.code, signal: s.signal, signalName: s.signal === null ? null : signalName(s.signal) ?? null };
}

export class ProcessHandle {
  private readonly done: Promise<ExitResult>;

  constructor(
    private readonly kernel: Kernel,
    private readonly proc: Proc,
    readonly stdin: Writable | null,
    readonly stdout: Readable | null,
    readonly stderr: Readable | null,
  ) {
    this.done = kernel.exited(proc).then(toResult);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Resolves when the process ends: { code, signal }. Never rejects. */
  wait(): Promise<ExitResult> {
    return this.done;
  }

  kill(sig: SignalName | number = 'SIGTERM'): void {
    this.kernel.kill(this.proc.pid, sig);
  }
}

export class Kernel extends KernelCore {
  private shuttingDown: Promise<void> | null = null;

  static async boot(opts: KernelOptions = {}): Promise<Kernel> {
    const params: Params = {
      ...PARAM,
      cpus: positiveInt('cpus', opts.cpus, PARAM.cpus),
      maxProcs: positiveInt('maxProcs', opts.maxProcs, PARAM.maxProcs),
      warmWorkers: opts.warmWorkers ?? PARAM.warmWorkers,
      heapMb: opts.heapMb === undefined ? PARAM.heapMb : positiveInt('heapMb', opts.heapMb, PARAM.heapMb),
      memBytes: opts.mem === undefined ? PARAM.memBytes : parseSize(opts.mem),
      memPressureWarn: opts.memPressure?.[0] ?? PARAM.memPressureWarn,
      memPressureCritical: opts.memPressure?.[1] ?? PARAM.memPressureCritical,
      targetLatencyMs: opts.targetLatencyMs ?? PARAM.targetLatencyMs,
      minGranularityMs: opts.minGranularityMs ?? PARAM.minGranularityMs,
      shutdownGraceMs: opts.shutdownGraceMs ?? PARAM.shutdownGraceMs,
      exitGraceMs: opts.exitGraceMs ?? PARAM.exitGraceMs,
      rrSliceMs: opts.rrSliceMs ?? PARAM.rrSliceMs,
      watchdogMs: opts.watchdogMs ?? PARAM.watchdogMs,
      cpuLimitGraceMs: opts.cpuLimitGraceMs ?? PARAM.cpuLimitGraceMs,
      deterministic: opts.deterministic ?? PARAM.deterministic,
      seed: opts.seed ?? PARAM.seed,
      pipeBytes: opts.pipeSize === undefined ? PARAM.pipeBytes : parseSize(opts.pipeSize),
      userWaitUs: opts.waitInPlaceUs ?? PARAM.userWaitUs,
      events: opts.events ?? PARAM.events,
    };
    if (!Number.isInteger(params.userWaitUs) || params.userWaitUs < 0 || params.userWaitUs > 60_000_000) {
      throw new AgentixError('ERR_INVALID_OPTION', `waitInPlaceUs: expected an integer from 0 to 60000000 microseconds, got ${String(params.userWaitUs)}`);
    }
    if (params.memBytes < 4096 || params.memBytes > maxTotal()) {
      throw new AgentixError('ERR_INVALID_OPTION', `mem: ${params.memBytes} bytes is outside what the kernel can simulate: 4K up to ${maxTotal()} bytes (just under 32G)`);
    }
    const pipe = params.pipeBytes;
    if (pipe < 4096 || pipe > 16 * 1024 * 1024 || (pipe & (pipe - 1)) !== 0) {
      throw new AgentixError('ERR_INVALID_OPTION', `pipeSize: ${pipe} bytes is not a power of two from 4K to 16M`);
    }
    if (!Number.isInteger(params.seed)) throw new AgentixError('ERR_INVALID_OPTION', `seed: expected an integer, got ${String(params.seed)}`);
    const log = opts.logger ?? pino({ level: opts.logLevel ?? 'warn', base: null }, destination({ fd: 2, sync: true }));
    return new Kernel(params, log);
  }

  /** Starts a program as a child of init. argv[0] is the program as given; `args` follow it. */
  spawn(program: string, args: readonly string[] = [], opts: SpawnOptions = {}): ProcessHandle {
    if (this.stopping) throw new AgentixError('ERR_KERNEL_STOPPED', 'the kernel is shutting down or has shut down; boot a new one');
    const [stdinFile, stdin] = this.input(opts.stdin ?? 'pipe');
    const [stdoutFile, stdout] = this.output('stdout', opts.stdout ?? 'pipe');
    const [stderrFile, stderr] = this.output('stderr', opts.stderr ?? 'pipe');
    const files: OpenFile[] = [stdinFile, stdoutFile, stderrFile];
    const policy = opts.policy === undefined ? undefined : POLICIES[opts.policy];
    if (opts.policy !== undefined && policy === undefined) {
      throw new AgentixError('ERR_INVALID_OPTION', `policy: expected one of ${Object.keys(POLICIES).join(', ')}`);
    }
    const r = this.createProcess(this.init, program, [program, ...args], opts.env ?? {}, files, {
      nice: opts.nice, policy, rtPriority: opts.rtPriority, privileged: opts.privileged, cpuLimitMs: opts.cpuLimitMs,
      memLimit: opts.memLimit === undefined ? undefined : parseSize(opts.memLimit), oomScoreAdj: opts.oomScoreAdj,
    });
    if (typeof r === 'number') {
      for (const f of files) if (f.refs === 0) f.release();
      if (r === -ERRNO.ENOENT.no) throw new AgentixError('ERR_PROGRAM_NOT_FOUND', `cannot run '${program}': no such file (resolved to ${this.resolveProgram(program)})`);
      if (r === -ERRNO.EACCES.no) throw new AgentixError('ERR_PROGRAM_NOT_FOUND', `cannot run '${program}': not a regular file`);
      if (this.stopping) throw new AgentixError('ERR_KERNEL_STOPPED', 'the kernel is shutting down; boot a new one');
      if (r === -ERRNO.EINVAL.no) throw new AgentixError('ERR_INVALID_OPTION', `cannot run '${program}': nice must be -20..19, and rtPriority 1..99 for 'fifo'/'rr', 0 otherwise`);
      throw new AgentixError('ERR_PROCESS_LIMIT', `cannot run '${program}': ${this.params.maxProcs} processes are alive (raise maxProcs)`);
    }
    return new ProcessHandle(this, r, stdin, stdout, stderr);
  }

  /** Runs a program to its end and collects its output. */
  async run(program: string, args: readonly string[] = [], opts: Omit<SpawnOptions, 'stdout' | 'stderr'> = {}): Promise<ExitResult & { stdout: string; stderr: string }> {
    const h = this.spawn(program, args, { stdin: 'ignore', ...opts, stdout: 'pipe', stderr: 'pipe' });
    const collect = async (r: Readable | null): Promise<string> => {
      const chunks: Buffer[] = [];
      if (r !== null) for await (const c of r) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    };
    const [stdout, stderr, status] = await Promise.all([collect(h.stdout), collect(h.stderr), h.wait()]);
    return { ...status, stdout, stderr };
  }

  /** Sends a signal from the host (sender pid 0). */
  kill(pid: number, sig: SignalName | number = 'SIGTERM'): void {
    const no = typeof sig === 'number' ? sig : (SIGNALS as Record<string, { no: number } | undefined>)[sig]?.no;
    if (no === undefined || signalName(no) === undefined) {
      throw new AgentixError('ERR_INVALID_SIGNAL', `unknown signal ${String(sig)}; use a name such as 'SIGTERM' or its number`);
    }
    const p = this.lookup(pid);
    if (p === undefined || !p.alive || p === this.init) throw new AgentixError('ERR_NO_SUCH_PROCESS', `no live process with pid ${pid}`);
    this.signal(p, no, 0);
  }

  /** Memory: total, used, free, largest free block, fragmentation, per-size-class counts, per-process usage. */
  meminfo(): MemInfo {
    return this.memory.meminfo(this.procs.values());
  }

  /**
   * Events from now on that pass the filter, as an async iterator (schema: docs/events.md). A reader that falls
   * more than the ring's capacity behind gets `{ kind: 'lost', count }` and goes on from the oldest event kept;
   * the kernel never waits for it. End it with `break` or `return()`.
   */
  events(filter: EventFilter = {}): AsyncIterableIterator<Stamped | Lost> {
    return this.stream.subscribe(filter);
  }

  /** The IPC objects that exist now: pipes, named shared memory, message queues, and futex waiters. */
  ipcs(): IpcInfo {
    return {
      pipes: [...this.pipes].map((p) => p.info()),
      shm: this.shm.list(),
      mq: this.mqs.list(),
      futexWaiters: this.futexes.size,
    };
  }

  /** A snapshot of the process table, init and zombies included. */
  ps(): ProcInfo[] {
    return [...this.procs.values()].map((p) => ({
      pid: p.pid,
      ppid: p.ppid,
      state: p.state,
      program: p.path,
      argv: p.argv,
      syscall: p.syscall,
      waitingFor: p.wait?.reason ?? null,
      cpu: p.sched.cpu >= 0 ? p.sched.cpu : null,
      policy: POLICY_NAMES.get(p.sched.policy) ?? 'other',
      rtPriority: p.sched.rtPriority,
      nice: p.sched.nice,
      runtimeMs: p.sched.runtimeNs / 1e6,
      vruntimeMs: p.sched.vruntime / 1e6,
      waitMs: p.sched.waitNs / 1e6,
      switches: { voluntary: p.sched.switchesVoluntary, involuntary: p.sched.switchesInvoluntary },
      fds: p.fds.entries().length,
      resources: p.resources.live().length,
      memBytes: p.memBytes,
      memLimit: Number.isFinite(p.memLimit) ? p.memLimit : null,
      exit: p.status === null ? null : toResult(p.status),
    }));
  }

  /** SIGTERM to every process, a grace period, SIGKILL to the rest, then the workers go. Idempotent. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= this.stop();
    return this.shuttingDown;
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    const live = [...this.procs.values()].filter((p) => p !== this.init && p.alive);
    for (const p of live) this.signal(p, SIGNALS.SIGTERM.no, 0);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.params.shutdownGraceMs)));
    await Promise.race([Promise.all(live.map((p) => this.exited(p))), grace]);
    clearTimeout(timer);
    for (const p of live) this.signal(p, SIGNALS.SIGKILL.no, 0);
    this.stopTicking();
    await this.host.close();
  }

  private input(opt: StdinOption): [OpenFile, Writable | null] {
    if (opt === 'pipe') {
      const pipe = new PassThrough();
      return [new ConsoleIn(pipe, this), pipe];
    }
    if (opt === 'inherit') return [new ConsoleIn(process.stdin, this), null];
    if (opt === 'ignore') return [ConsoleIn.of(new Uint8Array(0), this), null];
    if (typeof opt === 'string') return [ConsoleIn.of(Buffer.from(opt), this), null];
    if (opt instanceof Uint8Array) return [ConsoleIn.of(opt, this), null];
    return [new ConsoleIn(opt, this), null];
  }

  private output(name: string, opt: OutputOption): [OpenFile, Readable | null] {
    if (opt === 'pipe') {
      const pipe = new PassThrough();
      return [new ConsoleOut(name, pipe, true, this), pipe];
    }
    if (opt === 'inherit') return [new ConsoleOut(name, name === 'stderr' ? process.stderr : process.stdout, false, this), null];
    if (opt === 'ignore') {
      const sink = new Writable({ write: (_c, _e, cb) => cb() });
      return [new ConsoleOut(name, sink, true, this), null];
    }
    return [new ConsoleOut(name, opt, false, this), null];
  }
}
