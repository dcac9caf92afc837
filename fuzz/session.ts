// One fuzz input's world: a fresh kernel, the harness processes the input drives ("actors"), the resources their
// calls returned, and the oracle every reply is held to. Both fuzzers run on it; neither knows any syscall by
// name. Everything is synchronous between boot and the final check, so no timer fires and no worker runs in the
// middle of an input: the same bytes give the same calls, the same pids and the same answers (only clock
// readings and durations differ), which is what makes a saved crash replay.

import path from 'node:path';
import { Decoder } from '@msgpack/msgpack';
import { pino, type Logger } from 'pino';
import { allErrnos } from '../abi/describe.js';
import { ERRNO } from '../abi/errno.js';
import { kArgc, kNr } from '../abi/layout.js';
import { signalName } from '../abi/signals.js';
import { syscallByNr } from '../abi/index.js';
import type { StrFormName, SyscallDef } from '../abi/types.js';
import type { OpenFile } from '../kernel/fd.js';
import { formatCall, formatResumed, unknownSyscall } from '../kernel/strace.js';
import { checkValue } from '../kernel/validate.js';
import { FrameHarness, replyProblems, type AttachOptions, type LocalProcess, type RawFrame, type Reply, type Stdio } from './harness.js';
import { baseline, checkInvariants, checkQuiescent, type Baseline } from './invariants.js';
import { ipcLeftovers, unlinkAll } from './ipc-invariants.js';
import { collectFormed, collectStrings, POOL_MAX, push } from './pools.js';
import { frameNotes, seenArgs, traceResult } from './trace.js';
import { ROOT } from './store.js';

/** An oracle does not hold: the fuzz target throws this, and jsfuzz records the input as a crash. */
export class OracleViolation extends Error {
  override readonly name = 'OracleViolation';
  constructor(
    /** Where: the call ('write from pid 3') or the phase of the input ('after every process exited'). */
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where}: ${problems.join('; ')}`);
  }
}

/** Simulated memory of a fuzz kernel: small, so that mmap reaches ENOMEM, compaction and the OOM killer. */
export const FUZZ_MEM = 4 * 1024 * 1024;
/** How many memory changes between full accounting checks (see checkInvariants). */
const ACCOUNTING_EVERY = 8;
/** Virtual CPUs: more than the actors alive at once, so no call parks for want of a CPU (see HarnessOptions). */
const FUZZ_CPUS = 16;
/**
 * Strings for string fields that name something real: a program (so that a spawn can succeed: its worker starts
 * but never runs during the input, which is synchronous, and is killed at its end) and a directory (EACCES).
 */
export const KNOWN_STRINGS: readonly string[] = [path.join(ROOT, 'examples', 'hello.js'), ROOT, ''];

/** What the kernel logs at warn and above (a handler that threw, a release that failed) lands here; emptied as
 *  each session opens (one input runs at a time). */
const logged: string[] = [];
const logger: Logger = pino({ level: 'warn', base: null }, { write: (line: string) => void logged.push(line) });

export interface SessionOptions {
  /** Receives every call in strace form, and each process's end (replays print these). */
  readonly trace?: (line: string) => void;
  /** Receives each call's outcome: its name and 'ok', the errno's name, 'parked' or 'dead' (seed distillation). */
  readonly observe?: (call: string, outcome: string) => void;
}

/** A harness process the input drives. */
export interface Actor {
  readonly lp: LocalProcess;
  readonly pid: number;
  readonly options: AttachOptions;
  /** Descriptors it started with and those calls answered with resource 'fd' (closed ones stay: EBADF is a case). */
  readonly fds: number[];
  /** Addresses its mapping calls answered (unmapped ones stay: EFAULT and EINVAL are cases). */
  readonly addrs: number[];
  /** The call it is parked in, if any, for checking and tracing the answer when it comes. */
  pending: Pending | null;
  /** Its end has been traced. */
  ended: boolean;
}

interface Pending {
  readonly def: SyscallDef;
  readonly args: readonly unknown[];
  readonly t0: number;
}

/** One call as the fuzzers build it: typed values for the table's arguments, or a frame as hostile as they like. */
export type Call =
  | { readonly kind: 'typed'; readonly def: SyscallDef; readonly args: readonly unknown[] }
  | { readonly kind: 'frame'; readonly frame: RawFrame }
  | { readonly kind: 'scribble'; readonly bytes: Uint8Array };

const decoder = new Decoder();

export class Session {
  readonly actors: Actor[] = [];
  /** Pids of every actor and every pid a call answered with resource 'pid'. */
  readonly pids: number[] = [];
  /** Integers answered by calls ('int' and 'mapping' results) and given as arguments. */
  readonly ints: number[] = [];
  /** Integer answers with the integer arguments that produced them (see ValueContext.tuples). */
  readonly tuples: number[][] = [];
  /** Strings that name something (KNOWN_STRINGS) and strings earlier calls were given: a later call may name the
   *  same thing again (an object a call created by name, which another call opens or removes). */
  readonly strings: string[] = [...KNOWN_STRINGS];
  /** Per string form, the values successful calls were given: names of objects that exist or existed, which a
   *  later call (in any process) opens, unlinks or creates again. */
  readonly names = new Map<StrFormName, string[]>();
  /** Every open file any actor held: each must be released once all processes are gone. */
  private readonly files = new Set<OpenFile>();
  private readonly base: Baseline;
  private lastUsed = -1;
  private lastAllocator: unknown = null;
  /** Steps after which memory had changed. */
  private changes = 0;

  private constructor(
    readonly h: FrameHarness,
    private readonly opts: SessionOptions,
  ) {
    this.base = baseline(h.kernel);
  }

  static async open(opts: SessionOptions = {}): Promise<Session> {
    logged.length = 0;
    const h = await FrameHarness.boot({ cpus: FUZZ_CPUS, mem: FUZZ_MEM, logger });
    return new Session(h, opts);
  }

  get kernel(): FrameHarness['kernel'] {
    return this.h.kernel;
  }

  /** Actors still alive. */
  live(): Actor[] {
    return this.actors.filter((a) => a.lp.alive);
  }

  /** Attaches a new harness process. `share`: its descriptors are the parent actor's open files, as a spawned
   *  child's are by default. */
  attach(opts: { parent?: Actor | undefined; stdio?: Stdio; name?: string }): Actor {
    const options: AttachOptions = {
      name: opts.name ?? 'fuzz',
      ...(opts.parent !== undefined && opts.parent.lp.alive ? { parent: opts.parent.lp } : {}),
      stdio: opts.stdio ?? 'null',
    };
    return this.adopt(this.h.attach(options), options);
  }

  /** `a` if a frame sent to it now is served now; otherwise a fresh actor with its options (the old one killed). */
  renew(a: Actor): Actor {
    if (a.lp.usable) return a;
    a.lp.kill();
    this.noticeEnds();
    const options = a.options.parent !== undefined && !a.options.parent.alive ? { ...a.options, parent: undefined } : a.options;
    return this.adopt(this.h.attach(options), options);
  }

  private adopt(lp: LocalProcess, options: AttachOptions): Actor {
    const a: Actor = { lp, pid: lp.pid, options, fds: lp.fds().map(([fd]) => fd), addrs: [], pending: null, ended: false };
    for (const [, f] of lp.fds()) this.files.add(f);
    this.actors.push(a);
    push(this.pids, lp.pid);
    push(this.ints, lp.pid); // for int arguments that name processes (waitpid's pid is an int: -1 means any)
    this.trace(`[pid ${lp.pid}] +++ attached (parent ${lp.proc.ppid}) +++`);
    return a;
  }

  /** Sends one call from `a` (which must be usable), checks the reply, and records what it made available. */
  send(a: Actor, call: Call): Reply {
    const lp = a.lp;
    const bugs = this.kernel.bugs;
    const seen = this.opts.trace === undefined ? null : seenArgs(lp, call);
    const t0 = performance.now();
    let reply: Reply;
    try {
      reply =
        call.kind === 'typed' ? lp.callDef(call.def, call.args)
        : call.kind === 'frame' ? lp.frame(call.frame)
        : lp.rawBytes(call.bytes);
    } catch (e: unknown) {
      // A RangeError here is the harness refusing what no SDK would send; anything else came out of the kernel.
      if (e instanceof RangeError && call.kind === 'typed') throw e;
      throw new OracleViolation(`kernel threw serving pid ${a.pid}`, [e instanceof Error ? (e.stack ?? e.message) : String(e)]);
    }
    const ns = (performance.now() - t0) * 1e6;
    // Which call the kernel saw: the frame's own number and slots (a scribble chooses them too).
    const def = syscallByNr(lp.channel.i32[kNr]!) ?? unknownSyscall(lp.channel.i32[kNr]!, lp.channel.i32[kArgc]!);
    const args = seen ?? (call.kind === 'typed' ? call.args : []);
    if (call.kind === 'typed') {
      for (const v of call.args) if (typeof v === 'number' && Number.isSafeInteger(v)) push(this.ints, v);
      for (const v of call.args) collectStrings(v, this.strings, 2);
    }
    if (seen !== null) {
      const line = reply.kind === 'reply' ? formatCall(a.pid, def, args, traceResult(def, reply), reply.errno, ns) : formatCall(a.pid, def, args, undefined, 0, null);
      this.trace(line + frameNotes(lp, def));
    }
    this.check(a, def, reply, bugs, `${def.name} from pid ${a.pid}`);
    if (reply.kind === 'parked') a.pending = { def, args, t0 };
    else if (reply.kind === 'reply') this.record(a, def, args, reply);
    this.noticeEnds();
    this.settle();
    return reply;
  }

  /** Sends a signal from the host (the Kernel API's kill), then looks at whom it woke or ended. */
  hostKill(a: Actor, sig: number): void {
    if (!a.lp.alive) return;
    const bugs = this.kernel.bugs;
    this.trace(`[host] kill(${a.pid}, ${signalName(sig) ?? sig})`);
    try {
      this.kernel.kill(a.pid, sig);
    } catch (e: unknown) {
      throw new OracleViolation(`kernel threw on a host kill of pid ${a.pid}`, [e instanceof Error ? (e.stack ?? e.message) : String(e)]);
    }
    if (this.kernel.bugs !== bugs) throw new OracleViolation(`host kill of pid ${a.pid}`, [`kernel.bugs went from ${bugs} to ${this.kernel.bugs}`]);
    this.noticeEnds();
    this.settle();
  }

  /** Checks and records the answers to parked calls that have come since (another actor's call woke them). */
  settle(): void {
    for (const a of this.actors) {
      const p = a.pending;
      if (p === null) continue;
      const r = a.lp.poll();
      if (r.kind === 'parked') continue;
      a.pending = null;
      if (this.opts.trace !== undefined && r.kind === 'reply') {
        this.trace(formatResumed(a.pid, p.def, traceResult(p.def, r), r.errno, (performance.now() - p.t0) * 1e6));
      }
      this.check(a, p.def, r, this.kernel.bugs, `answer to the parked ${p.def.name} of pid ${a.pid}`);
      if (r.kind === 'reply') this.record(a, p.def, p.args, r);
    }
    this.noticeEnds();
  }

  /** Throws unless every kernel invariant holds now. Memory accounting is cross-checked in full when `full`, or
   *  on every ACCOUNTING_EVERY-th step after which memory had changed. */
  checkInvariants(where: string, full = false): void {
    const m = this.kernel.memory;
    // The full cross-check (the allocator's own walk of every block) costs more than the rest of a step, the more
    // so under jsfuzz's instrumentation, and IPC changes memory at most steps: so every ACCOUNTING_EVERY-th change,
    // and at the end of each input. A broken allocator stays broken, so this delays a report, never loses it.
    const changed = m.used !== this.lastUsed || m.allocator !== this.lastAllocator;
    if (changed) this.changes++;
    const accounting = full || (changed && this.changes % ACCOUNTING_EVERY === 1);
    this.lastUsed = m.used;
    this.lastAllocator = m.allocator;
    const problems = checkInvariants(this.kernel, { accounting });
    if (problems.length > 0) throw new OracleViolation(`invariants ${where}`, problems);
  }

  /** Ends the input: every process still alive is killed, and then nothing may be left. Shuts the kernel down. */
  async finish(): Promise<void> {
    try {
      this.checkInvariants('at the end of the input', true);
      for (const a of this.actors) for (const [, f] of a.lp.alive ? a.lp.fds() : []) this.files.add(f);
      // Newest first, as a shell's job control would; the order changes nothing that the oracle may depend on.
      for (const a of [...this.actors].reverse()) a.lp.kill();
      for (const p of [...this.kernel.procs.values()]) if (p.alive && p !== this.kernel.init) this.kernel.kill(p.pid, 'SIGKILL');
      this.noticeEnds();
      // Named objects outlive their processes; nothing else may. Then their names go, and with them the rest.
      const { problems: ipc, lingering } = ipcLeftovers(this.kernel);
      if (this.kernel.memory.used !== this.base.memUsed + lingering) {
        ipc.push(`memory used is ${this.kernel.memory.used} bytes: ${this.base.memUsed} before the input and ${lingering} in named objects`);
      }
      if (ipc.length > 0) throw new OracleViolation('after every process exited, before unlinking names', ipc);
      unlinkAll(this.kernel);
      const problems = checkQuiescent(this.kernel, this.base, this.files);
      if (this.kernel.bugs !== 0) problems.push(`kernel.bugs is ${this.kernel.bugs}`);
      problems.push(...this.newLogs());
      if (problems.length > 0) throw new OracleViolation('after every process exited', problems);
    } finally {
      await this.close();
    }
  }

  /** Shuts the kernel down without checking anything (after a violation). */
  async close(): Promise<void> {
    for (const a of this.actors) a.lp.kill();
    await this.h.kernel.shutdown();
  }

  private trace(line: string): void {
    this.opts.trace?.(line);
  }

  /** Kernel log lines at warn and above since the input began: each is a kernel bug or a failed release. */
  private newLogs(): string[] {
    return logged.map((l) => `kernel logged: ${l.trim()}`);
  }

  /** The reply against the ABI: well-formed, an errno the call documents, a result of the declared kind. */
  private check(a: Actor, def: SyscallDef, r: Reply, bugs: number, where: string): void {
    const problems = replyProblems(a.lp, r);
    this.opts.observe?.(syscallByNr(def.nr) === undefined ? '(unknown)' : def.name, r.kind === 'reply' ? r.error ?? 'ok' : r.kind);
    // A documented park: a call the table marks blocking waits for its event; any call may wait for a CPU.
    if (r.kind === 'parked' && a.lp.state === 'blocked' && !def.blocking) problems.push(`${def.name} is not a blocking call, but it parked`);
    if (this.kernel.bugs !== bugs) problems.push(`kernel.bugs went from ${bugs} to ${this.kernel.bugs} (a handler threw)`);
    problems.push(...this.newLogs());
    if (r.kind === 'reply') {
      if (r.errno !== 0) {
        const allowed = syscallByNr(def.nr) === undefined ? ['ENOSYS'] : allErrnos(def);
        if (r.error === null || !allowed.includes(r.error)) {
          problems.push(`${def.name} failed with ${r.error ?? r.errno}, which it does not document (${allowed.join(', ')})`);
        }
      }
      problems.push(...this.resultProblems(def, r, a.lp));
    }
    if (problems.length > 0) throw new OracleViolation(where, problems);
  }

  /** A successful answer has the shape the table declares for the call's result. */
  private resultProblems(def: SyscallDef, r: Extract<Reply, { kind: 'reply' }>, lp: LocalProcess): string[] {
    const ret = def.ret;
    // Only a successful mapping call hands a region's buffer over, and exactly one.
    const grants = lp.takeGrants().length;
    const out: string[] = [];
    if ((ret.kind !== 'mapping' || r.errno !== 0) && grants !== 0) out.push(`${def.name} handed over ${grants} memory regions`);
    if (r.errno !== 0) return out;
    switch (ret.kind) {
      case 'void':
        if (r.ret0 !== 0) out.push(`${def.name} answers nothing but ret0 is ${r.ret0}`);
        break;
      case 'noreturn':
        out.push(`${def.name} returned 0 and the process lives on`);
        break;
      case 'int':
        if (!Number.isSafeInteger(r.ret0)) out.push(`${def.name} answered ${ret.name} = ${r.ret0}, not an integer`);
        break;
      case 'pair':
        if (!Number.isSafeInteger(r.ret0) || !Number.isSafeInteger(r.ret1)) out.push(`${def.name} answered (${r.ret0}, ${r.ret1}), not two integers`);
        break;
      case 'bytes':
        if (r.ret0 !== r.replyLen) out.push(`${def.name} answered a count of ${r.ret0} with ${r.replyLen} bytes`);
        break;
      case 'message':
        if (r.ret0 !== r.replyLen) out.push(`${def.name} answered a count of ${r.ret0} with ${r.replyLen} bytes`);
        if (!Number.isSafeInteger(r.ret1)) out.push(`${def.name} answered ${ret.name} = ${r.ret1}, not an integer`);
        break;
      case 'record': {
        let v: unknown;
        try {
          v = decoder.decode(r.payload);
        } catch (e: unknown) {
          out.push(`${def.name} answered a payload that is not msgpack (${String(e)})`);
          break;
        }
        const e = checkValue(ret.schema, v);
        if (e !== 0) out.push(`${def.name} answered a record its schema rejects (${e === ERRNO.E2BIG.no ? 'E2BIG' : 'EINVAL'})`);
        break;
      }
      case 'mapping':
        if (!Number.isSafeInteger(r.ret0) || r.ret0 <= 0 || r.ret0 % 4096 !== 0) out.push(`${def.name} answered address ${r.ret0}, not a page`);
        if (grants !== 1) out.push(`${def.name} handed over ${grants} regions, not 1`);
        break;
      default: {
        const never: never = ret;
        out.push(`unknown result kind ${String(never)}`);
      }
    }
    return out;
  }

  /** Resources and integers a successful answer makes available to later calls. */
  private record(a: Actor, def: SyscallDef, args: readonly unknown[], r: Extract<Reply, { kind: 'reply' }>): void {
    if (r.errno !== 0) return;
    def.args.forEach((arg, i) => {
      if (arg.kind === 'record') collectFormed(arg.schema, args[i], this.names, 2);
    });
    const ret = def.ret;
    // A mapping's address belongs to the caller's address space, as a descriptor to its table.
    if (ret.kind === 'mapping') push(a.addrs, r.ret0);
    if (ret.kind === 'int' || ret.kind === 'mapping') {
      push(this.ints, r.ret0);
      const ints = def.args.flatMap((arg, i) => (arg.kind === 'int' && typeof args[i] === 'number' ? [args[i] as number] : []));
      if (ints.length > 0) {
        this.tuples.push([r.ret0, ...ints]);
        if (this.tuples.length > POOL_MAX) this.tuples.shift();
      }
    }
    if ((ret.kind === 'int' || ret.kind === 'pair') && ret.resource !== undefined) {
      const values = ret.kind === 'pair' ? [r.ret0, r.ret1] : [r.ret0];
      const kind = ret.resource;
      switch (kind) {
        case 'fd':
          // Descriptors belong to the caller; the open files behind them must all be released in the end.
          for (const v of values) push(a.fds, v);
          for (const [, f] of a.lp.fds()) this.files.add(f);
          break;
        case 'pid':
          for (const v of values) push(this.pids, v);
          break;
        case 'addr':
          for (const v of values) push(a.addrs, v);
          break;
        default: {
          // A new resource kind in the ABI needs a pool here, and an argument kind that takes from it.
          const never: never = kind;
          throw new Error(`no pool for resource kind ${String(never)}`);
        }
      }
    }
  }

  /** Traces each actor's end once. */
  private noticeEnds(): void {
    for (const a of this.actors) {
      if (a.ended || a.lp.alive) continue;
      a.ended = true;
      const s = a.lp.proc.status;
      const how = s === null ? 'gone' : s.signal !== null ? `killed by ${signalName(s.signal) ?? s.signal}` : `exited with ${s.code}`;
      this.trace(`[pid ${a.pid}] +++ ${how} +++`);
    }
  }
}
