// The process: its lifecycle state machine and everything the kernel keeps per process.

import { NSIG } from '../abi/signals.js';
import type { Channel } from './channel.js';
import { FdTable } from './fd.js';
import { ResourceStack, type Resource } from './orchestrator.js';
import { newEntity, type SchedEntity } from './sched.js';
import type { Region } from './mm.js';

/**
 * new      spawned; its worker is loading and has not asked to run yet
 * ready    runnable: its syscall is answered (or it is new and booted) and it waits for a virtual CPU
 * running  holds a virtual CPU and executes userland code (or is in the kernel on a call that does not block)
 * blocked  parked in a syscall until an event (sleep, a child's exit, input)
 * zombie   ended; its status waits for its parent's waitpid
 * reaped   gone from the process table
 */
export type ProcState = 'new' | 'ready' | 'running' | 'blocked' | 'zombie' | 'reaped';

const LEGAL: Readonly<Record<ProcState, readonly ProcState[]>> = {
  new: ['ready', 'blocked', 'zombie'], // blocked: a hostile first frame may be a blocking call
  ready: ['running', 'zombie'],
  running: ['ready', 'blocked', 'zombie'],
  blocked: ['ready', 'zombie'],
  zombie: ['reaped'],
  reaped: [],
};

export function isLegal(from: ProcState, to: ProcState): boolean {
  return LEGAL[from].includes(to);
}

export const PROC_STATES = Object.keys(LEGAL) as ProcState[];

/** Why a blocked process waits, and how to finish or abandon the wait. */
export interface Wait {
  readonly reason: string;
  /** Re-runs the call when the awaited event may have happened; returns a result, or BLOCK to keep waiting. */
  readonly retry: (() => number) | null;
  /** Undoes whatever the wait holds (a timer, a place in a queue) when it ends early (signal, kill). */
  readonly cancel: (() => void) | null;
  /** What the call answers when a caught signal cuts the wait short; -EINTR unless the call already did work. */
  readonly interrupted?: number;
}

/** What subsystems use to park a process in its call and to finish the call later. */
export interface Waker {
  /** Parks p with `wait`; returns BLOCK for the handler to return. */
  block(p: Proc, wait: Wait): number;
  /** The event p waits for may have happened: retry its call (or keep it parked). */
  wake(p: Proc): void;
  /** Finishes p's parked call with a result (>= 0) or -errno. */
  complete(p: Proc, result: number): void;
  /** Sends a signal from the kernel itself (SIGPIPE for a write to a broken host stream). */
  signal(p: Proc, sig: number, from: number): void;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: number | null;
}

export class Proc {
  state: ProcState = 'new';
  readonly children = new Set<Proc>();
  readonly resources = new ResourceStack();
  /** Signal dispositions (SIG_DFL, SIG_IGN, SIG_CATCH) by number. */
  readonly disposition = new Uint8Array(NSIG + 1);
  /** Caught signals waiting to be delivered with the next reply. */
  pendingSignals = 0;
  wait: Wait | null = null;
  status: ExitStatus | null = null;
  /** The answer to the call the process is parked in: >= 0 a value, < 0 an errno, set when it completes. */
  result = 0;
  /** Reply payload length for calls that answer bytes or a record. */
  replyLen = 0;
  /** The syscall being served (for traces and ps), and whether its answer is bytes in the payload. */
  syscall = '';
  answersBytes = false;
  /** Tracing: when the current call's request arrived (ns), its sys_enter event, the wake that finished it, and
   *  why it last parked (0 and '' when nobody traces). */
  callStartNs = 0;
  enterEvent = 0;
  wakeEvent = 0;
  parkedOn = '';
  /** Set by sched_yield: give up the CPU once the call is answered. */
  yielding = false;
  /** How the process ended, once it has. */
  exitHow: 'exit' | 'signal' | 'crash' | null = null;
  env: Readonly<Record<string, string>> = {};
  /** The 'child' entry this process holds on its spawning parent's resource stack, released when it is reaped. */
  parentLink: { readonly stack: ResourceStack; readonly resource: Resource } | null = null;
  /** A harness drives this process's channel from the kernel's own thread: spinning for it could never pay. */
  local = false;
  readonly sched: SchedEntity = newEntity();
  /** May raise priorities and enter the real-time class (granted at spawn by a privileged spawner or the host). */
  privileged = false;
  /** RLIMIT_CPU in ns (Infinity: none), and when SIGXCPU went out (0: not yet). */
  cpuLimitNs = Infinity;
  xcpuAt = 0;
  /** The watchdog has reported the current syscall-free stretch, which began at this wall-clock time (ns). */
  watchdogReported = false;
  lastSyscallWallNs = 0;
  /** Its first frame (the boot yield) has arrived: its worker is ready to run userland code. */
  booted = false;
  /** Simulated memory held (every region it uses, in full), its RLIMIT_AS, and its OOM score adjustment. */
  memBytes = 0;
  memLimit = Infinity;
  oomScoreAdj = 0;
  /** The process's address space: its mappings by virtual address, and where the next one goes (above a guard page). */
  readonly mappings = new Map<number, Region>();
  vmNext = 0x10000;
  /** Hands a region's buffer to the process out of band, before the reply that names it (set by the kernel). */
  grant: (sab: SharedArrayBuffer) => void = () => {};
  /** For a local (harness) process: buffers granted to it, oldest first, for the harness to take. */
  readonly localGrants: SharedArrayBuffer[] = [];
  /** Usage of reaped children (RUSAGE_CHILDREN). */
  readonly childUsage = { cpuNs: 0, waitNs: 0, nvcsw: 0, nivcsw: 0 };
  readonly startedAt = performance.now();

  constructor(
    readonly pid: number,
    public ppid: number,
    readonly path: string,
    readonly argv: readonly string[],
    readonly channel: Channel,
  ) {}

  readonly fds: FdTable = new FdTable(this);

  get alive(): boolean {
    return this.state !== 'zombie' && this.state !== 'reaped';
  }
}
