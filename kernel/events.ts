// The kernel's event stream. Subsystems emit typed events into it; with no subscriber, an emit site costs one test
// of a plain field (`active`). Consumers:
//   - taps (tap): lossless, batched, called after the kernel answered (while it waits for the next request, or in
//     a microtask), never inside a call unless the ring is about to overwrite what a tap has not seen yet; they
//     read the ring's columns (eventring.ts);
//   - asynchronous readers (subscribe, and Kernel.events()), which read from the bounded ring at their own pace:
//     one that falls more than the ring's capacity behind is told how many events it missed, and the kernel never
//     waits for it;
//   - synchronous listeners (on), which get every event as an object as it happens and must be quick.
// Syscall enter and exit events go into the ring as columns and become objects only for whoever asks for one.
//
// Every event has an id (increasing from 1), a timestamp (ms, performance.now()) and a cause: the id of the
// event that led to it (the sys_enter of the call being served when it happened, or the wake that finished a
// parked call), 0 when none. The shapes below are the schema; EVENT_SCHEMA changes when one changes.

import { performance } from 'node:perf_hooks'; // not the global's getter (clock.ts)
import { AgentixError, toError } from './errors.js';
import { EventRing } from './eventring.js';
import { compile, Reader } from './eventreader.js';
import type { ProcState } from './proc.js';

export { matcher } from './eventreader.js';

export { EventRing, TRACE_BYTES } from './eventring.js';

/** Version of the event shapes (docs/events.md). */
export const EVENT_SCHEMA = 2;

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

/**
 * A tap's consumer: the events with ids from..to-1, in order, all still in `ring` for the length of the call
 * (read them with ring.event(id), or column by column). Every event reaches every tap exactly once.
 */
export type TapConsumer = (ring: EventRing, from: number, to: number) => void;

/** A TapConsumer that hands over each event as an object, for consumers written for `on`. */
export function eachEvent(feed: (e: Stamped) => void): TapConsumer {
  return (ring, from, to) => {
    for (let id = from; id < to; id++) feed(ring.event(id));
  };
}

interface Tap {
  readonly consume: TapConsumer;
  readonly onError: (error: Error) => void;
  /** The first id it has not been given. */
  cursor: number;
}

/** Default ring capacity (events): what async readers can fall behind by before they lose events. */
export const RING_EVENTS = 1 << 16;
/** The ring's size while no async reader needs a history (only taps and listeners): small enough to stay in the
 *  CPU's cache (~200 KB). A ring of RING_EVENTS is megabytes, cold again by the time it wraps, and writing it
 *  cost more than all the rest of recording a call. */
export const TAP_RING_EVENTS = 1 << 10;
/** Events every tap is given when the ring is full and its oldest slot must be reused. */
export const CATCH_UP_EVENTS = 32;

export class EventStream {
  /** Whether anyone consumes events. A plain field (emit sites test it on every call), kept by subscribe/drop. */
  active = false;
  /** The event that causes whatever is emitted now (the kernel sets it around the work it does). */
  cause = 0;
  private readonly listeners = new Set<Listener>();
  private readonly readers = new Set<Reader>();
  private taps: Tap[] = [];
  /** The smallest cursor of any tap: the ring must not overwrite it (Infinity with no tap). */
  private tapFloor = Infinity;
  private drainQueued = false;
  private ring: EventRing | null = null;
  private nextId = 1;
  /** False for a kernel booted with `events: false`: nothing may subscribe. */
  private enabled = true;

  constructor(readonly capacity = RING_EVENTS) {}

  /** The id the next event will get. */
  get next(): number {
    return this.nextId;
  }

  /** Makes this a stream nobody may consume (Kernel.boot({ events: false })): subscribing throws. */
  disable(): void {
    if (this.active) throw new Error('kernel bug: events disabled while consumed');
    this.enabled = false;
  }

  /** Stamps and publishes an event; returns its id (0 when nobody listens and it was dropped at once). */
  emit(e: KernelEvent): number {
    if (!this.active) return 0;
    const id = this.take();
    // Stamp the event in place: every emitter passes a fresh literal, and copying it ({ ...e }) costs several
    // microseconds per event on Node 20, which would make tracing many times slower than the calls it traces.
    const stamped = e as Mutable<Stamped>;
    stamped.id = id;
    stamped.ts = performance.now();
    stamped.cause = this.cause;
    this.ring!.object(id, stamped);
    for (const l of this.listeners) l(stamped);
    this.published();
    return id;
  }

  /** A sys_enter, written into the ring's columns. `args`: as the executor decoded them (it reuses the array).
   *  `ts`: performance.now() when the call entered (the kernel has read the clock already; reading it costs
   *  ~100 ns, a good share of a null call). */
  sysEnter(pid: number, nr: number, args: readonly unknown[], argc: number, ts: number): number {
    if (!this.active) return 0;
    const id = this.take();
    this.ring!.enter(id, ts, this.cause, pid, nr, args, argc);
    this.publishCall(id);
    return id;
  }

  /** A sys_exit, written into the ring's columns; `dataLen` bytes of `payload` are its data (-1: null). `ts`: as
   *  for sysEnter. */
  sysExit(
    pid: number, nr: number, result: number, ret1: number, errno: number, durationNs: number, enter: number,
    payload: Uint8Array, dataLen: number, ts: number,
  ): number {
    if (!this.active) return 0;
    const id = this.take();
    this.ring!.exit(id, ts, this.cause, pid, nr, result, ret1, errno, durationNs, enter, payload, dataLen);
    this.publishCall(id);
    return id;
  }

  /** Subscribes a synchronous listener; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.begin('on');
    this.listeners.add(listener);
    return () => {
      if (this.listeners.delete(listener)) this.ended();
    };
  }

  /**
   * Subscribes a tap: `consume` gets every event from now on, in batches, after the kernel has answered the call
   * that caused them (a microtask), or at once if the ring is about to overwrite events it has not had. A tap
   * that throws is detached and its error goes to `onError` (default: a process warning); the kernel and the
   * other consumers go on. The returned function hands it what is still pending, then detaches it.
   */
  tap(consume: TapConsumer, onError: (error: Error) => void = warnTapError): () => void {
    this.begin('tap');
    const t: Tap = { consume, onError, cursor: this.nextId };
    this.taps = [...this.taps, t];
    this.tapFloor = Math.min(this.tapFloor, t.cursor);
    return () => {
      if (!this.taps.includes(t)) return;
      this.deliver(t, this.nextId);
      this.detach(t);
    };
  }

  /** Gives every tap what it has not had yet. */
  drain(): void {
    this.drainQueued = false;
    this.drainSome(Infinity);
  }

  /** Whether some tap has not had every event yet. */
  get tapsBehind(): boolean {
    return this.tapFloor < this.nextId;
  }

  /**
   * Gives every tap at most `max` more events, oldest first; returns whether some tap is still behind. The kernel
   * calls this while it waits for a request it expects within microseconds, so that a tap's work (formatting a
   * trace line) fills time the kernel would spend polling, instead of lengthening a call.
   */
  drainSome(max: number): boolean {
    const end = this.nextId;
    for (const t of this.taps) this.deliver(t, Math.min(end, t.cursor + max));
    // After the deliveries: a tap that threw was detached by one of them.
    let floor = Infinity;
    for (const t of this.taps) if (t.cursor < floor) floor = t.cursor;
    this.tapFloor = floor;
    return floor < end;
  }

  /** An async reader of events from now on that pass the filter; `return()` (or break in for-await) ends it. */
  subscribe(filter: EventFilter = {}): AsyncIterableIterator<Stamped | Lost> {
    this.begin('subscribe');
    const reader = new Reader(this, compile(filter));
    this.readers.add(reader);
    return reader;
  }

  /** @internal whether event `id` is still in the ring (it is one of the last the ring has room for). */
  holds(id: number): boolean {
    return this.ring !== null && id < this.nextId && id >= this.nextId - this.ring.capacity && id > 0;
  }

  /** @internal the ring, while anyone consumes events. */
  get columns(): EventRing | null {
    return this.ring;
  }

  /** @internal the event with this id if the ring still holds it. */
  at(id: number): Stamped | undefined {
    return this.holds(id) ? this.ring!.event(id) : undefined;
  }

  /** @internal */
  drop(r: Reader): void {
    if (!this.readers.delete(r)) return;
    this.ended();
    if (this.readers.size === 0) this.resize();
  }

  private begin(how: string): void {
    if (!this.enabled) throw new AgentixError('ERR_EVENTS_OFF', `${how}: this kernel was booted with events: false; boot it with events on to observe it`);
    this.active = true;
    this.resize(how === 'subscribe');
  }

  /** Gives the ring the size its consumers need: RING_EVENTS with an async reader, else TAP_RING_EVENTS. A new
   *  ring starts empty: taps first get everything pending, and readers only ever read events from their own
   *  subscription on, which the new ring will hold. */
  private resize(reader = false): void {
    if (!this.active) return;
    const size = reader || this.readers.size !== 0 ? this.capacity : Math.min(this.capacity, TAP_RING_EVENTS);
    if (this.ring !== null && this.ring.capacity === size) return;
    if (this.ring !== null) this.drain();
    this.ring = new EventRing(size);
  }

  private ended(): void {
    if (this.listeners.size !== 0 || this.readers.size !== 0 || this.taps.length !== 0) return;
    this.active = false;
    this.ring = null;
  }

  /** The next id; first, if a tap has not had the event whose slot it takes, the taps get the oldest of what is
   *  pending: a few events, not all of them. A process waiting for this call's answer then waits for a few trace
   *  lines at each of its calls instead of a whole ring's at one (~100 µs, long enough to put it to sleep). */
  private take(): number {
    // Before the id is taken: this one is not written yet.
    if (this.nextId - this.tapFloor >= this.ring!.capacity) this.drainSome(CATCH_UP_EVENTS);
    return this.nextId++;
  }

  private publishCall(id: number): void {
    if (this.listeners.size !== 0) {
      const e = this.ring!.event(id);
      for (const l of this.listeners) l(e);
    }
    this.published();
  }

  private published(): void {
    if (this.taps.length !== 0 && !this.drainQueued) {
      this.drainQueued = true;
      queueMicrotask(this.drainTask);
    }
    if (this.readers.size !== 0) for (const r of this.readers) r.notify();
  }

  private readonly drainTask = (): void => {
    if (this.drainQueued) this.drain();
  };

  private deliver(t: Tap, end: number): void {
    const from = t.cursor;
    if (from >= end || this.ring === null) return;
    t.cursor = end;
    try {
      t.consume(this.ring, from, end);
    } catch (e: unknown) {
      this.detach(t);
      t.onError(toError(e));
    }
  }

  private detach(t: Tap): void {
    const i = this.taps.indexOf(t);
    if (i < 0) return;
    this.taps = this.taps.filter((x) => x !== t);
    this.tapFloor = this.taps.reduce((m, x) => Math.min(m, x.cursor), Infinity);
    this.ended();
  }
}

function warnTapError(error: Error): void {
  process.emitWarning(`an event tap threw and was detached: ${error.message}`, { code: 'AGENTIX_TAP_FAILED' });
}
