// Events as a Chrome Trace Event JSON timeline (the format ui.perfetto.dev and chrome://tracing open). Tracks:
// one per virtual CPU (under a "virtual CPUs" process), showing which process ran when and why its stretch ended;
// one per process, with its syscalls as complete ('X') slices and its lifecycle as instants; a memory counter.
// A wake-up is a flow arrow ('s' then 'f') from the call that woke a process to the exit of the call it woke.
// Timestamps are microseconds since the first event, on the events' clock (performance.now()).

import { PID_MAX } from '../abi/limits.js';
import { SYSCALLS } from '../abi/syscalls.js';
import type { SyscallDef } from '../abi/types.js';
import type { KernelEvent, Stamped } from './events.js';
import { CpuRuns, programName, type Stretch } from './records.js';

type Of<K extends KernelEvent['kind']> = Extract<Stamped, { kind: K }>;

/** The Chrome pid under which the CPU tracks sit: past every Agentix pid, so the two never clash. */
export const CPU_TRACKS_PID = PID_MAX + 1;

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'i' | 's' | 'f' | 'M' | 'C';
  readonly pid: number;
  readonly tid?: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly id?: number;
  /** 'e': a flow's end binds to the slice that encloses it. */
  readonly bp?: 'e';
  /** An instant's scope: 't' its thread (track). */
  readonly s?: 't';
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ChromeTrace {
  readonly traceEvents: TraceEvent[];
  readonly displayTimeUnit: 'ms';
  readonly otherData: Readonly<Record<string, unknown>>;
}

const FAMILY = new Map<string, string>((SYSCALLS as readonly SyscallDef[]).map((d) => [d.name, d.family]));
/** A slice must be this long (µs) to hold a flow's end strictly inside it. */
const EPSILON_US = 0.001;

interface OpenCall {
  readonly pid: number;
  readonly name: string;
  readonly ts: number;
  readonly args: readonly unknown[];
  /** The latest event this call caused: a call that never returns (exit) lasts until its consequences end. */
  last: number;
}

/** Lifecycle events shown as instants on their process's track, with their fields as arguments. */
const INSTANTS: ReadonlySet<KernelEvent['kind']> = new Set([
  'spawn', 'exit', 'signal', 'cleanup', 'reap', 'preempt', 'oom', 'mem_fail', 'rlimit', 'watchdog', 'ipc', 'kernel_bug',
]);

/** Builds a Chrome trace from events fed in id order; build() may be called at any time. */
export class ChromeTraceBuilder {
  private readonly out: TraceEvent[] = [];
  private readonly calls = new Map<number, OpenCall>();
  private readonly wakes = new Map<number, { ts: number; pid: number }>();
  /** Each process's track name, once it has one. */
  private readonly named = new Map<number, string>();
  private readonly runs: CpuRuns;
  private t0: number | null = null;
  private last = 0;
  private flows = 0;
  private count = 0;

  constructor(private readonly cpus: number) {
    this.runs = new CpuRuns((s) => this.out.push(this.stretchEvent(s)));
    this.meta('process_name', CPU_TRACKS_PID, undefined, 'virtual CPUs');
    this.meta('process_sort_index', CPU_TRACKS_PID, undefined, -1);
    for (let cpu = 0; cpu < cpus; cpu++) {
      this.meta('thread_name', CPU_TRACKS_PID, cpu + 1, `CPU ${cpu}`);
      this.meta('thread_sort_index', CPU_TRACKS_PID, cpu + 1, cpu);
    }
  }

  feed(e: Stamped): void {
    this.t0 ??= e.ts;
    this.last = e.ts;
    this.count++;
    const caused = this.calls.get(e.cause);
    if (caused !== undefined) caused.last = e.ts;
    this.runs.feed(e);
    switch (e.kind) {
      case 'sys_enter':
        this.calls.set(e.id, { pid: e.pid, name: e.name, ts: e.ts, args: e.args, last: e.ts });
        return this.track(e.pid, null);
      case 'sys_exit':
        return this.exit(e);
      case 'wake': {
        // The call that woke it is still running: the wake happens inside it.
        const by = this.calls.get(e.cause);
        if (by !== undefined) this.wakes.set(e.id, { ts: e.ts, pid: by.pid });
        return;
      }
      case 'spawn':
        this.track(e.pid, e.path);
        break;
      case 'mem':
        this.out.push({ name: 'memory used', ph: 'C', pid: CPU_TRACKS_PID, ts: this.us(e.ts), args: { bytes: e.used } });
        break;
      default:
        break;
    }
    if (INSTANTS.has(e.kind)) {
      const { kind, pid, id, ts, cause, ...args } = e;
      this.track(pid, null);
      this.out.push({ name: kind, ph: 'i', s: 't', cat: 'lifecycle', pid, tid: pid, ts: this.us(ts), args: { ...args, id, cause } });
    }
  }

  /** The trace so far: calls still in progress and CPUs still held end at the last event. */
  build(): ChromeTrace {
    const tail: TraceEvent[] = [];
    for (const [id, c] of this.calls) tail.push(this.slice(c, id, c.last, { unfinished: true }));
    for (const s of this.runs.open(this.last)) tail.push(this.stretchEvent(s));
    const all = [...this.out, ...tail];
    // Metadata first, then by time: per track, timestamps never go back.
    const meta = all.filter((e) => e.ph === 'M');
    const timed = all.filter((e) => e.ph !== 'M').sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
    return {
      traceEvents: [...meta, ...timed],
      displayTimeUnit: 'ms',
      otherData: { generator: 'agentix', cpus: this.cpus, events: this.count, clock: 'performance.now() since the first event' },
    };
  }

  private us(ts: number): number {
    return Math.round((ts - (this.t0 ?? ts)) * 1e6) / 1e3;
  }

  private exit(e: Of<'sys_exit'>): void {
    const c = e.enter === null ? undefined : this.calls.get(e.enter);
    if (c !== undefined) this.calls.delete(e.enter!);
    const call: OpenCall = c ?? { pid: e.pid, name: e.name, ts: e.ts, args: [], last: e.ts };
    const result = e.errno === 0 ? { result: e.result } : { errno: e.errno };
    const slice = this.slice(call, e.enter ?? e.id, Math.max(e.ts, call.last), { ...result, durationNs: e.durationNs });
    this.out.push(slice);
    const wake = this.wakes.get(e.cause);
    if (wake === undefined) return;
    this.wakes.delete(e.cause);
    const id = ++this.flows;
    const end = Math.max(slice.ts!, slice.ts! + slice.dur! - EPSILON_US);
    this.out.push({ name: 'wake', cat: 'wake', ph: 's', id, pid: wake.pid, tid: wake.pid, ts: this.us(wake.ts) });
    this.out.push({ name: 'wake', cat: 'wake', ph: 'f', bp: 'e', id, pid: e.pid, tid: e.pid, ts: end });
  }

  private slice(c: OpenCall, enter: number, endTs: number, extra: Record<string, unknown>): TraceEvent {
    const ts = this.us(c.ts);
    const dur = Math.max(this.us(endTs) - ts, 0) + EPSILON_US;
    return {
      name: c.name, cat: FAMILY.get(c.name) ?? 'syscall', ph: 'X', pid: c.pid, tid: c.pid, ts, dur: Math.round(dur * 1e3) / 1e3,
      args: { args: c.args.map(jsonSafe), enter, ...extra },
    };
  }

  private stretchEvent(s: Stretch): TraceEvent {
    const ts = this.us(s.start);
    return {
      name: this.named.get(s.pid) ?? `pid ${s.pid}`, cat: 'sched', ph: 'X', pid: CPU_TRACKS_PID, tid: s.cpu + 1, ts,
      dur: Math.round(Math.max(this.us(s.end) - ts, 0) * 1e3) / 1e3,
      args: { pid: s.pid, ended: s.why, ...s.pick },
    };
  }

  /** Names a process's track the first time it appears (by its program once its spawn is seen). */
  private track(pid: number, file: string | null): void {
    if (this.named.has(pid) && file === null) return;
    const name = pid === 0 ? 'kernel' : file === null ? `pid ${pid}` : `${programName(file)} (pid ${pid})`;
    this.named.set(pid, name);
    this.meta('process_name', pid, undefined, name);
    this.meta('thread_name', pid, pid, 'syscalls');
  }

  private meta(name: string, pid: number, tid: number | undefined, value: string | number): void {
    const args = typeof value === 'string' ? { name: value } : { sort_index: value };
    this.out.push(tid === undefined ? { name, ph: 'M', pid, args } : { name, ph: 'M', pid, tid, args });
  }
}

/** Bytes as their length and first characters: a timeline's arguments are for reading, not for replay. */
function jsonSafe(v: unknown): unknown {
  if (v instanceof Uint8Array) return `<${v.length} bytes: ${JSON.stringify(Buffer.from(v.subarray(0, 32)).toString('latin1'))}>`;
  return v;
}

/** A whole record at once. */
export function toChromeTrace(events: Iterable<Stamped>, cpus: number): ChromeTrace {
  const b = new ChromeTraceBuilder(cpus);
  for (const e of events) b.feed(e);
  return b.build();
}
