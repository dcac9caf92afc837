// Traces made from the event stream (events.ts): strace lines and plain-words descriptions. Everything here works
// on events alone, so a recorded stream (JSONL, records.ts) reads back and formats the same way a live one does.

import { PAYLOAD_MAX } from '../abi/layout.js';
import { signalName } from '../abi/signals.js';
import { SYSCALLS } from '../abi/syscalls.js';
import type { SyscallDef } from '../abi/types.js';
import { AgentixError } from './errors.js';
import { TRACE_BYTES, type KernelEvent, type Stamped, type TapConsumer } from './events.js';
import {
  EXIT_DURATION, EXIT_RESULT, EXIT_RET1, F_AUX, F_BYTES, F_KIND, F_NR, F_PID, F_TS, SLOT_ENTER, SLOT_EXIT, syscallName,
  type EventRing,
} from './eventring.js';
import { Decoder } from '@msgpack/msgpack';
import { StringLines, type LineSink } from './records.js';
import {
  durationPiece, formatDuration, formatErrno, formatHead, formatInt, formatMs, formatResult, intPiece, listArgs,
  unknownSyscall, writeUpToAnswer, type Piece,
} from './strace.js';

type Of<K extends KernelEvent['kind']> = Extract<Stamped, { kind: K }>;

// ---- which calls a trace shows -----------------------------------------------------------------------------------

const DEFS = SYSCALLS as readonly SyscallDef[];
const FAMILIES = [...new Set(DEFS.map((d) => d.family))];

/**
 * `--trace=SPEC`: the syscalls a trace shows, or null for all of them. SPEC is a comma-separated list of syscall
 * names (`read`) and ABI families (`fd`, or `%fd` as strace spells classes); an item starting with `!` removes
 * calls instead. With only removals, the list starts from every call. `all` or an empty SPEC: every call.
 */
export function parseCallFilter(spec: string): ReadonlySet<string> | null {
  const items = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const add = new Set<string>();
  const remove = new Set<string>();
  let all = items.every((s) => s.startsWith('!'));
  for (const item of items) {
    const negated = item.startsWith('!');
    const word = (negated ? item.slice(1) : item).replace(/^%/, '');
    if (word === 'all') {
      if (!negated) all = true;
      continue;
    }
    const calls = DEFS.filter((d) => d.name === word || d.family === word).map((d) => d.name);
    if (calls.length === 0) {
      throw new AgentixError('ERR_USAGE', `--trace: '${word}' is neither a syscall nor a family (families: ${FAMILIES.join(', ')}; 'agentix abi' lists the calls)`);
    }
    for (const c of calls) (negated ? remove : add).add(c);
  }
  if (all && remove.size === 0) return null;
  const names = new Set(all ? DEFS.map((d) => d.name) : add);
  for (const c of remove) names.delete(c);
  return names;
}

// ---- strace --------------------------------------------------------------------------------------------------------

/** Definitions as traces print them, by number. strace.ts formats results by kind and predates the 'message' kind
 *  (bytes plus a priority): those results print as bytes, which they are. */
const TRACE_DEFS: (SyscallDef | undefined)[] = [];
for (const d of DEFS) TRACE_DEFS[d.nr] = d.ret.kind === 'message' ? { ...d, ret: { kind: 'bytes' } } : d;

function defOf(nr: number, argc: number): SyscallDef {
  return TRACE_DEFS[nr] ?? unknownSyscall(nr, argc);
}

/** Room for a bytes result that its event cut short (it keeps TRACE_BYTES of it), so that a read of 4096 bytes
 *  prints its true count and its first bytes: strace.ts shows STRING_MAX bytes, fewer than an event keeps, so
 *  whatever lies past them here is never read. */
const BEHIND = new Uint8Array(PAYLOAD_MAX);

const decoder = new Decoder();

/** The value strace.ts prints for a call's answer: both integers of a pair, a record decoded (when its event kept
 *  all of it), the bytes of a bytes result, else the integer. `data` may be a view: it is read at once. */
function answerValue(def: SyscallDef | undefined, result: number, ret1: number, d: Uint8Array | null): unknown {
  const kind = def?.ret.kind;
  if (kind === 'pair') return [result, ret1];
  if (kind === 'record' && d !== null && d.length < TRACE_BYTES) {
    try {
      return decoder.decode(d);
    } catch {
      return result;
    }
  }
  if (d === null || result <= 0) return result;
  if (d.length === result) return d;
  if (result > BEHIND.length) return result;
  BEHIND.set(d);
  return BEHIND.subarray(0, result);
}

/** The most common answer, a small integer with no data, as a piece (strace.ts); null for any other. */
function answerPiece(def: SyscallDef, result: number, errno: number, data: Uint8Array | null): Piece | null {
  if (errno !== 0 || data !== null) return null;
  const kind = def.ret.kind;
  return kind === 'int' || kind === 'void' ? intPiece(result) : null;
}

/** What strace prints after ` = `: `2 "hi"`, `-1 EBADF (Bad file descriptor)`. */
function answerText(nr: number, result: number, ret1: number, errno: number, data: Uint8Array | null): string {
  if (errno !== 0) return formatErrno(errno);
  const def = TRACE_DEFS[nr];
  if (def === undefined) return formatResult(defOf(nr, 0), result);
  const kind = def.ret.kind;
  // The common answers, without building the value formatResult takes.
  if ((kind === 'int' || kind === 'void') && data === null) return formatInt(result);
  return formatResult(def, answerValue(def, result, ret1, data));
}

interface OpenCall {
  readonly pid: number;
  readonly ts: number;
  readonly def: SyscallDef;
  /** Its line up to the closing parenthesis: `[pid 3] read(3, 100`. */
  readonly head: string;
}

/**
 * Turns events into strace lines, as `strace -f` prints them. A call whose enter and exit come with nothing in
 * between is one line; one that other lines interrupt prints as `<unfinished ...>` and then `<... read resumed>`.
 * `exit` never returns (`exit(0) = ?`); a process's end is `+++ exited with 0 +++` or `+++ killed by SIGKILL +++`,
 * and signals are `--- SIGCHLD {from=3, action=ignore} ---`.
 *
 * Two ways in, same lines: `feed` takes event objects (a recorded stream, a listener); `consume` is a tap
 * (EventStream.tap) that reads calls straight from the ring's columns and never builds their event objects.
 */
export class Strace {
  private readonly calls = new Map<number, OpenCall>();
  /** The call whose line is the last one started and not yet finished. */
  private open: OpenCall | null = null;
  private readonly out: LineSink;

  /**
   * `out`: where lines go, as strings (a function, called once per line) or piece by piece (a LineSink such as
   * records.ts's ByteLines, which never builds the line as a string). `names`: the calls to show
   * (parseCallFilter), null for all. `clock`: where durations come from. 'wall' (the default) times a call from
   * its enter event to its exit event; 'kernel' prints the kernel's durationNs, which on the virtual clock of
   * deterministic mode is reproducible but counts only the time a call was parked.
   */
  constructor(
    out: ((line: string) => void) | LineSink,
    private readonly names: ReadonlySet<string> | null = null,
    private readonly clock: 'wall' | 'kernel' = 'wall',
  ) {
    this.out = typeof out === 'function' ? new StringLines(out) : out;
  }

  feed(e: Stamped): void {
    switch (e.kind) {
      case 'sys_enter': {
        if (!this.shows(e.name)) return;
        const def = defOf(e.nr, e.args.length);
        return this.enter(e.pid, e.ts, def, formatHead(e.pid, def, e.args.length, listArgs(e.args), 0));
      }
      case 'sys_exit':
        if (!this.shows(e.name)) return;
        return this.exit(e.pid, e.ts, e.nr, e.durationNs, answerText(e.nr, e.result, e.ret1, e.errno, e.data));
      case 'signal':
        return this.line(`[pid ${e.pid}] --- ${signalName(e.sig) ?? `signal ${e.sig}`} {from=${e.from}, action=${e.action}} ---`);
      case 'exit': {
        const c = this.calls.get(e.pid);
        if (c !== undefined) {
          // It died inside a call that never returned: its line in progress ends as unfinished (once), or, if
          // other lines came since, it resumes with no answer.
          this.calls.delete(e.pid);
          if (this.open === c) this.cut();
          else this.line(`[pid ${c.pid}] <... ${c.def.name} resumed> = ?`);
        }
        const end = e.signal !== null ? `killed by ${signalName(e.signal) ?? `signal ${e.signal}`}${e.how === 'crash' ? ' (its worker crashed)' : ''}` : `exited with ${e.code ?? 0}`;
        return this.line(`[pid ${e.pid}] +++ ${end} +++`);
      }
      default:
        return;
    }
  }

  /** A tap (EventStream.tap): the calls in ids from..to-1, read from the ring's columns. */
  readonly consume: TapConsumer = (ring, from, to) => {
    for (let id = from; id < to; id++) {
      if (id + 1 < to && this.callLine(ring, id)) id++;
      else this.column(ring, id);
    }
  };

  /**
   * Most calls: an enter followed at once by its exit, which make one line written straight to the sink, with no
   * open-call bookkeeping. Returns false when events id and id + 1 are not such a pair (the caller then takes them
   * one at a time), true when it has dealt with both.
   */
  private callLine(ring: EventRing, id: number): boolean {
    const rows = ring.rows;
    const row = ring.rowOf(id);
    const exit = ring.rowOf(id + 1);
    if (rows[row + F_KIND] !== SLOT_ENTER || rows[exit + F_KIND] !== SLOT_EXIT) return false;
    const pid = rows[row + F_PID]!;
    if (rows[exit + F_PID] !== pid) return false;
    const nr = rows[row + F_NR]!;
    const argc = rows[row + F_AUX]!;
    const def = defOf(nr, argc);
    if (def.ret.kind === 'noreturn') return false;
    if (!this.shows(def.name)) return true;
    if (this.open !== null) this.cut();
    if (this.calls.size !== 0) this.calls.delete(pid);
    const ns = this.clock === 'wall' ? Math.round((rows[exit + F_TS]! - rows[row + F_TS]!) * 1e6) : rows[exit + EXIT_DURATION]!;
    const data = rows[exit + F_BYTES]! < 0 ? null : ring.dataOf(id + 1);
    const result = rows[exit + EXIT_RESULT]!;
    const errno = rows[exit + F_AUX]!;
    const out = this.out;
    writeUpToAnswer(out, pid, def, argc, ring, id);
    const answer = answerPiece(def, result, errno, data);
    if (answer !== null) out.piece(answer);
    else out.put(answerText(nr, result, rows[exit + EXIT_RET1]!, errno, data));
    const duration = durationPiece(ns);
    if (duration !== null) out.piece(duration);
    else out.put(formatDuration(ns));
    out.end();
    return true;
  }

  /** One event of any kind, read from the ring (a call's enter or exit on its own, or an event object). */
  private column(ring: EventRing, id: number): void {
    const slot = ring.slotOf(id);
    if (slot === SLOT_ENTER) {
      const nr = ring.nrOf(id);
      const argc = ring.argcOf(id);
      const def = defOf(nr, argc);
      if (this.shows(def.name)) this.enter(ring.pidOf(id), ring.tsOf(id), def, formatHead(ring.pidOf(id), def, argc, ring, id));
    } else if (slot === SLOT_EXIT) {
      const nr = ring.nrOf(id);
      if (this.names !== null && !this.names.has(syscallName(nr))) return;
      const answer = answerText(nr, ring.resultOf(id), ring.ret1Of(id), ring.errnoOf(id), ring.dataOf(id));
      this.exit(ring.pidOf(id), ring.tsOf(id), nr, ring.durationOf(id), answer);
    } else {
      this.feed(ring.objectOf(id));
    }
  }

  /** The line in progress (a call whose exit has not come, with nothing printed since its enter), or null. */
  pending(): string | null {
    return this.open === null ? null : unfinished(this.open);
  }

  private shows(name: string): boolean {
    return this.names === null || this.names.has(name);
  }

  private enter(pid: number, ts: number, def: SyscallDef, head: string): void {
    if (def.ret.kind === 'noreturn') return this.line(`${head}) = ?`);
    this.cut();
    const c: OpenCall = { pid, ts, def, head };
    this.calls.set(pid, c);
    this.open = c;
  }

  private exit(pid: number, ts: number, nr: number, durationNs: number, answer: string): void {
    const c = this.calls.get(pid);
    if (c === undefined) {
      // No enter: the frame failed validation (its arguments were never decoded), or tracing began mid-call.
      return this.line(`[pid ${pid}] ${defOf(nr, 0).name}(...) = ${answer}${formatDuration(durationNs)}`);
    }
    this.calls.delete(pid);
    const ns = this.clock === 'wall' ? Math.round((ts - c.ts) * 1e6) : durationNs;
    if (this.open === c) {
      this.open = null;
      return this.line(`${c.head}) = ${answer}${formatDuration(ns)}`);
    }
    this.line(`[pid ${pid}] <... ${c.def.name} resumed> = ${answer}${formatDuration(ns)}`);
  }

  /** Ends the line in progress as unfinished, because another line is about to be printed. */
  private cut(): void {
    const c = this.open;
    if (c === null) return;
    this.open = null;
    this.out.put(unfinished(c));
    this.out.end();
  }

  /** A whole line, after ending the line in progress (if any) as unfinished. */
  private line(s: string): void {
    this.cut();
    this.out.put(s);
    this.out.end();
  }
}

/** The first part of a call that has not returned: `[pid 3] read(3, 100 <unfinished ...>`. */
function unfinished(c: OpenCall): string {
  return `${c.head} <unfinished ...>`;
}

/** A call as its enter shows it: `read(3, 100)`. */
export function formatEnter(e: Of<'sys_enter'>): string {
  const def = defOf(e.nr, e.args.length);
  const head = formatHead(e.pid, def, e.args.length, listArgs(e.args), 0);
  return `${head.slice(head.indexOf('] ') + 2)})`;
}

/** A call's answer as strace prints it after `=`: `2 "hi"`, `-1 EBADF (Bad file descriptor)`. */
export function formatAnswer(e: Of<'sys_exit'>): string {
  return answerText(e.nr, e.result, e.ret1, e.errno, e.data);
}


/** One line of plain words for any event, without its id, time or cause (docs, logs and the live view). */
export function describeEvent(e: Stamped): string {
  switch (e.kind) {
    case 'sys_enter':
      return formatEnter(e);
    case 'sys_exit':
      return `${e.name} = ${formatAnswer(e)}${e.durationNs > 0 ? `, ${formatMs(e.durationNs)} after its request` : ''}`;
    case 'wake':
      return `woken from "${e.reason}", answer ${e.result}`;
    case 'proc_state':
      return `${e.from} -> ${e.to}`;
    case 'spawn':
      return `spawned by pid ${e.ppid}: ${e.path}`;
    case 'exit':
      return e.signal !== null ? `killed by ${signalName(e.signal) ?? `signal ${e.signal}`} (${e.how})` : `exited with ${e.code ?? 0} (${e.how})`;
    case 'signal':
      return `${signalName(e.sig) ?? `signal ${e.sig}`} from pid ${e.from}: ${e.action}`;
    case 'cleanup':
      return `release ${e.order}: ${e.resource}, ${e.label}${e.ok ? '' : ` FAILED: ${e.error ?? ''}`}`;
    case 'reap':
      return `reaped by pid ${e.by}`;
    case 'kernel_bug':
      return `kernel bug in ${e.syscall}: ${e.error}`;
    case 'sched':
      return `gets CPU ${e.cpu} (${e.cls}): vruntime ${formatMs(e.vruntime)}, min_vruntime ${formatMs(e.minVruntime)}, ` +
        `runner-up ${e.runnerUp === null ? 'none' : e.cls === 'rt' ? `priority ${e.runnerUp}` : formatMs(e.runnerUp)}, ${e.runnable} runnable`;
    case 'preempt':
      return `gives up its CPU (${e.reason}) after ${formatMs(e.ranNs)}: vruntime ${formatMs(e.vruntime)}` +
        (e.next === null ? '' : `; next pid ${e.next.pid} at vruntime ${formatMs(e.next.vruntime)}`);
    case 'watchdog':
      return `ran ${Math.round(e.ms)} ms without a syscall`;
    case 'mem':
      return `${e.op} ${e.size} B (${e.region}) at ${e.addr}; ${e.used} B in use`;
    case 'mem_compact':
      return `compacted ${e.regions} regions: largest free ${e.largestFreeBefore} -> ${e.largestFreeAfter} B`;
    case 'mem_pressure':
      return `memory use ${e.rising ? 'rose above' : 'fell below'} ${Math.round(e.threshold * 100)}%: ${e.used} of ${e.total} B`;
    case 'mem_fail':
      return `ENOMEM for ${e.requested} B (${e.reason}): holds ${e.footprint} B${e.limit === null ? '' : ` of ${e.limit}`}, ${e.free} B free, largest ${e.largestFree}`;
    case 'oom':
      return `OOM for ${e.requested} B: victim ${e.victim === null ? 'none' : `pid ${e.victim}`} of ` +
        e.candidates.map((c) => `pid ${c.pid} (badness ${c.badness})`).join(', ');
    case 'rlimit':
      return `RLIMIT_CPU: ${e.action}`;
    case 'ipc':
      return `${e.op} ${e.object}${e.name === null ? '' : ` ${e.name}`} (${e.bytes} B)`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}
