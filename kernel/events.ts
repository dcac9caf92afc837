// The kernel's event stream. Subsystems emit typed events into it; with no subscriber, emit costs one branch.
// Subscribers: synchronous listeners (on), which see every event as it happens and must be quick, and
// asynchronous readers (subscribe, and Kernel.events()), which read from a bounded ring at their own pace. A
// reader that falls more than the ring's capacity behind is told how many events it missed, and the kernel
// never waits for it: the cost of an emit is one ring store plus waking readers that sleep, whatever they do.
//
// Every event has an id (increasing from 1), a timestamp (ms, performance.now()) and a cause: the id of the
// event that led to it (the sys_enter of the call being served when it happened, or the wake that finished a
// parked call), 0 when none. The shapes below are the schema; EVENT_SCHEMA changes when one changes.

import type { ProcState } from './proc.js';

/** Version of the event shapes (docs/events.md). */
export const EVENT_SCHEMA = 2;
/** Bytes of a syscall's data argument or result kept in its trace event. */
export const TRACE_BYTES = 64;

/** Every event names the process it is about (for kernel-wide ones, the process whose request caused it; 0 the kernel). */
export type KernelEvent =
  /** A call was validated and is about to run (args as decoded; bytes cut to TRACE_BYTES). */
  | {
      readonly kind: 'sys_enter'; readonly pid: number; readonly nr: number; readonly name: string;
      readonly args: readonly unknown[];
    }
  /** A call was answered (or failed before it ran: then `enter` is null). `result` and `ret1`: the two result
   *  slots (ret1 means something only for calls that answer two integers); `durationNs`: from its request to its
   *  answer, waits included; `data`: the first TRACE_BYTES bytes of a bytes, message or record (msgpack) result. */
  | {
      readonly kind: 'sys_exit'; readonly pid: number; readonly nr: number; readonly name: string; readonly result: number;
      readonly ret1: number; readonly errno: number; readonly durationNs: number; readonly enter: number | null;
      readonly data: Uint8Array | null;
    }
  /** A parked call was finished by an event: its cause is the event (a write, a timer) that finished it. */
  | { readonly kind: 'wake'; readonly pid: number; readonly reason: string; readonly result: number }
  /** A call failed with ENOMEM: why, with the numbers it compared. */
  | {
      readonly kind: 'mem_fail'; readonly pid: number; readonly requested: number;
      readonly reason: 'rlimit' | 'address_space' | 'no_memory' | 'too_large'; readonly footprint: number;
      readonly limit: number | null; readonly free: number; readonly largestFree: number;
    }
  | { readonly kind: 'proc_state'; readonly pid: number; readonly from: ProcState; readonly to: ProcState }
  | { readonly kind: 'spawn'; readonly pid: number; readonly ppid: number; readonly path: string }
  | { readonly kind: 'exit'; readonly pid: number; readonly code: number | null; readonly signal: number | null; readonly how: ExitHow }
  | { readonly kind: 'signal'; readonly pid: number; readonly sig: number; readonly from: number; readonly action: 'term' | 'catch' | 'ignore' }
  | { readonly kind: 'cleanup'; readonly pid: number; readonly resource: string; readonly label: string; readonly order: number; readonly ok: boolean; readonly error?: string }
  | { readonly kind: 'reap'; readonly pid: number; readonly by: number }
  | { readonly kind: 'kernel_bug'; readonly pid: number; readonly syscall: string; readonly error: string }
  /** A CPU was given to pid: what it was compared with, so the pick can be explained after the fact. */
  | {
      readonly kind: 'sched'; readonly pid: number; readonly cpu: number; readonly cls: 'rt' | 'fair' | 'idle';
      readonly vruntime: number; readonly minVruntime: number; readonly runnerUp: number | null; readonly runnable: number;
    }
  /** pid gave up its CPU at a syscall: it yielded, a better class or priority waited, or its slice ran out while
   *  `next` had less vruntime (the compared values are here, so the decision can be explained). */
  | {
      readonly kind: 'preempt'; readonly pid: number; readonly reason: 'yield' | 'priority' | 'slice';
      readonly vruntime: number; readonly ranNs: number; readonly next: Readonly<{ pid: number; vruntime: number; rtPriority: number }> | null;
    }
  | { readonly kind: 'watchdog'; readonly pid: number; readonly ms: number }
  /** A region was mapped or unmapped (freed: its last user let go); `used` is the bytes in use after it. */
  | {
      readonly kind: 'mem'; readonly op: 'map' | 'unmap'; readonly pid: number; readonly addr: number; readonly size: number;
      readonly region: 'anon' | 'pipe' | 'shm' | 'mq'; readonly used: number;
    }
  /** Free memory was in pieces: the live regions were laid out again from address 0 (no byte moved). */
  | { readonly kind: 'mem_compact'; readonly pid: number; readonly regions: number; readonly largestFreeBefore: number; readonly largestFreeAfter: number }
  /** Usage crossed a pressure threshold (a fraction of total), rising or falling. */
  | { readonly kind: 'mem_pressure'; readonly pid: number; readonly threshold: number; readonly rising: boolean; readonly used: number; readonly total: number }
  /** The allocator could not serve `requested` bytes: the OOM killer's decision, with the free-list state and the
   *  top candidates it compared, so it can be explained after the fact. */
  | {
      readonly kind: 'oom'; readonly pid: number; readonly requested: number; readonly victim: number | null;
      readonly free: number; readonly largestFree: number;
      readonly candidates: readonly { readonly pid: number; readonly footprint: number; readonly oomScoreAdj: number; readonly badness: number }[];
    }
  | { readonly kind: 'rlimit'; readonly pid: number; readonly resource: 'cpu'; readonly action: 'SIGXCPU' | 'SIGKILL' }
  /** An IPC object was made, lost its name, or went (its last descriptor and mapping gone); pid: who caused it. */
  | {
      readonly kind: 'ipc'; readonly pid: number; readonly op: 'create' | 'unlink' | 'destroy';
      readonly object: 'pipe' | 'shm' | 'mq'; readonly objectId: number; readonly name: string | null; readonly bytes: number;
    };

/** How the kernel saw a process end: an exit call (return from main, exit(), an uncaught throw), a fatal signal
 *  (kill, shutdown), or its worker dying under it. */
export type ExitHow = 'exit' | 'signal' | 'crash';

export type EventKind = KernelEvent['kind'];

/** One line per kind: what it means (docs/events.md is checked against this table). */
export const EVENT_KINDS: { readonly [K in EventKind]: string } = {
  sys_enter: 'A syscall was validated and is about to run: its number, name and decoded arguments.',
  sys_exit: 'A syscall was answered: result, errno, time from request to answer, and the enter event it closes.',
  wake: 'A parked call was finished by an event (its cause): a write, a child\'s exit, a timer, a signal.',
  proc_state: 'A process changed lifecycle state (new, ready, running, blocked, zombie, reaped).',
  spawn: 'A process was created.',
  exit: 'A process ended: its exit code or signal, and how (exit call, signal, crash).',
  signal: 'A signal was sent: who sent it and what the target does with it (term, catch, ignore).',
  cleanup: 'One resource of an ended process was released (in LIFO order), and whether that succeeded.',
  reap: 'A zombie was reaped by its parent (or by init).',
  kernel_bug: 'A syscall handler threw: a broken kernel invariant, answered with EIO.',
  sched: 'The scheduler gave a CPU to a process, with the vruntimes it compared.',
  preempt: 'A process gave up its CPU at a syscall: it yielded, a better class waited, or its slice ran out.',
  watchdog: 'A process ran past the watchdog limit without a syscall.',
  mem: 'A memory region was mapped or freed.',
  mem_compact: 'Free memory was compacted so that a request could be served.',
  mem_pressure: 'Memory use crossed a pressure threshold, rising or falling.',
  mem_fail: 'A request failed with ENOMEM, with the numbers that decided it.',
  oom: 'The OOM killer chose a victim, with the candidates it compared and the free-list state.',
  rlimit: 'A process hit RLIMIT_CPU: SIGXCPU, then SIGKILL.',
  ipc: 'An IPC object (pipe, shared memory, queue) was created, unlinked or destroyed.',
};

export type Stamped = KernelEvent & { readonly id: number; readonly ts: number; readonly cause: number };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Listener = (e: Stamped) => void;

/** What a reader is told when it fell behind the ring: `count` events it will never see. */
export interface Lost {
  readonly kind: 'lost';
  readonly count: number;
}

export interface EventFilter {
  readonly pid?: number | readonly number[];
  readonly kind?: EventKind | readonly EventKind[];
  /** For sys_enter and sys_exit: only these syscalls (other kinds pass). */
  readonly syscall?: string | readonly string[];
}

const asSet = <T>(v: T | readonly T[] | undefined): Set<T> | null =>
  v === undefined ? null : new Set(Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/** A compiled filter: true if the event passes. */
export function matcher(f: EventFilter = {}): (e: Stamped) => boolean {
  const pids = asSet(f.pid);
  const kinds = asSet(f.kind);
  const calls = asSet(f.syscall);
  return (e) =>
    (pids === null || pids.has(e.pid)) &&
    (kinds === null || kinds.has(e.kind)) &&
    (calls === null || (e.kind !== 'sys_enter' && e.kind !== 'sys_exit') || calls.has(e.name));
}

/** Default ring capacity (events). */
export const RING_EVENTS = 1 << 16;

export class EventStream {
  private readonly listeners = new Set<Listener>();
  private readonly readers = new Set<Reader>();
  private ring: Stamped[] = [];
  private nextId = 1;
  /** The event that causes whatever is emitted now (the kernel sets it around the work it does). */
  cause = 0;

  constructor(readonly capacity = RING_EVENTS) {}

  get active(): boolean {
    return this.listeners.size !== 0 || this.readers.size !== 0;
  }

  /** The id the next event will get. */
  get next(): number {
    return this.nextId;
  }

  /** Stamps and publishes an event; returns its id (0 when nobody listens and it was dropped at once). */
  emit(e: KernelEvent): number {
    if (this.listeners.size === 0 && this.readers.size === 0) return 0;
    const id = this.nextId++;
    // Stamp the event in place: every emitter passes a fresh literal, and copying it ({ ...e }) costs several
    // microseconds per event on Node 20, which would make tracing many times slower than the calls it traces.
    const stamped = e as Mutable<Stamped>;
    stamped.id = id;
    stamped.ts = performance.now();
    stamped.cause = this.cause;
    for (const l of this.listeners) l(stamped);
    if (this.readers.size !== 0) {
      this.ring[id % this.capacity] = stamped;
      for (const r of this.readers) r.notify();
    }
    return id;
  }

  /** Subscribes a synchronous listener; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An async reader of events from now on that pass the filter; `return()` (or break in for-await) ends it. */
  subscribe(filter: EventFilter = {}): AsyncIterableIterator<Stamped | Lost> {
    const reader = new Reader(this, matcher(filter));
    this.readers.add(reader);
    return reader;
  }

  /** @internal the event with this id if the ring still holds it. */
  at(id: number): Stamped | undefined {
    const e = this.ring[id % this.capacity];
    return e !== undefined && e.id === id ? e : undefined;
  }

  /** @internal */
  drop(r: Reader): void {
    this.readers.delete(r);
    if (this.readers.size === 0) this.ring = [];
  }
}

class Reader implements AsyncIterableIterator<Stamped | Lost> {
  private cursor: number;
  private wake: (() => void) | null = null;
  private done = false;

  constructor(
    private readonly stream: EventStream,
    private readonly pass: (e: Stamped) => boolean,
  ) {
    this.cursor = stream.next;
  }

  notify(): void {
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  }

  async next(): Promise<IteratorResult<Stamped | Lost>> {
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      const oldest = this.stream.next - this.stream.capacity;
      if (this.cursor < oldest) {
        const count = oldest - this.cursor;
        this.cursor = oldest;
        return { done: false, value: { kind: 'lost', count } };
      }
      while (this.cursor < this.stream.next) {
        const e = this.stream.at(this.cursor++);
        if (e !== undefined && this.pass(e)) return { done: false, value: e };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  return(): Promise<IteratorResult<Stamped | Lost>> {
    this.done = true;
    this.stream.drop(this);
    this.notify();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Stamped | Lost> {
    return this;
  }
}
