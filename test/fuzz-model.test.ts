// Model-based tests (fast-check commands, shrinking to a minimal failing sequence) of kernel tables against
// reference models, driven through harness processes (fuzz/harness.ts), so every step goes through the real
// request path (the descriptor table's model is in test/fuzz-fd-model.test.ts):
//   - the process table: attach (a child of init or of another process), exit, kill, waitpid (blocking, WNOHANG,
//     any child or one), SIGCHLD ignored, a caught signal interrupting a parked waitpid;
//   - memory (kernel/mm.ts over the allocator): mmap, munmap and exit, with the accounting, ENOMEM, compaction
//     and the OOM killer's choice of victim. The allocator alone has its own model test in test/alloc.test.ts.
// Each run ends by killing its processes; the kernel must then hold nothing (checkQuiescent).

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  SIG_CATCH, SIG_IGN, SIGCHLD, SIGCONT, SIGKILL, SIGTERM, SIGUSR1, WNOHANG, wstatusExited, wstatusSignaled,
} from '../dist/abi/index.js';
import { FrameHarness, type LocalProcess, type Reply } from '../dist/fuzz/harness.js';
import { checkInvariants } from '../dist/fuzz/invariants.js';
import { answered, assert, nth, runOn } from './fuzz-model-run.js';

// ---- the process table -------------------------------------------------------------------------------------------

interface MProc {
  readonly lp: LocalProcess;
  readonly pid: number;
  /** Model parent: another MProc, or null for init (also after an orphan is adopted). */
  parent: MProc | null;
  state: 'alive' | 'zombie' | 'gone';
  /** wstatus once it ended. */
  wstatus: number;
  /** Parked in waitpid for this pid (-1: any child). */
  waiting: number | null;
  ignoresSigchld: boolean;
  catchesUsr1: boolean;
  /** Caught signals to be delivered with its next answer (a bit mask). */
  pending: number;
  /** The answer its parked waitpid got while another process's command ran: checked by that command. */
  expect: { errno: number; ret0?: number; ret1?: number; signals: number } | null;
}

interface ProcModel {
  readonly procs: MProc[];
}

const alive = (m: ProcModel): MProc[] => m.procs.filter((p) => p.state === 'alive');
const usable = (m: ProcModel): MProc[] => alive(m).filter((p) => p.waiting === null);
const childrenOf = (m: ProcModel, p: MProc): MProc[] => m.procs.filter((c) => c.parent === p && c.state !== 'gone');

/** What waitpid(pid) finds for `p` now: ECHILD, a zombie to reap, or nothing yet. */
function waitOutcome(m: ProcModel, p: MProc, pid: number): { kind: 'echild' } | { kind: 'reap'; child: MProc } | { kind: 'none' } {
  const kids = childrenOf(m, p).filter((c) => pid === -1 || c.pid === pid);
  if (kids.length === 0) return { kind: 'echild' };
  const zombie = kids.find((c) => c.state === 'zombie');
  return zombie === undefined ? { kind: 'none' } : { kind: 'reap', child: zombie };
}

/** The model's side of a process ending: its parent reaps, waits, or leaves it a zombie; its children go to init. */
function die(m: ProcModel, p: MProc, wstatus: number): void {
  p.state = 'zombie';
  p.wstatus = wstatus;
  p.waiting = null;
  p.pending = 0;
  for (const c of childrenOf(m, p)) {
    c.parent = null;
    if (c.state === 'zombie') c.state = 'gone';
  }
  const parent = p.parent;
  if (parent === null || parent.ignoresSigchld) p.state = 'gone';
  if (parent === null || parent.waiting === null) return;
  const o = waitOutcome(m, parent, parent.waiting);
  if (o.kind === 'reap') {
    o.child.state = 'gone';
    parent.waiting = null;
    parent.expect = { errno: 0, ret0: o.child.pid, ret1: o.child.wstatus, signals: 0 };
  } else if (o.kind === 'echild') {
    parent.waiting = null;
    parent.expect = { errno: 10, signals: 0 };
  }
}

/** Sends sig to target as the kernel would (from any sender). */
function signal(m: ProcModel, target: MProc, sig: number): void {
  if (target.state !== 'alive' || sig === 0) return;
  if (sig === SIGUSR1 && target.catchesUsr1) {
    if (target.waiting !== null) {
      target.waiting = null;
      target.expect = { errno: 4, signals: 1 << sig };
    } else {
      target.pending |= 1 << sig;
    }
    return;
  }
  if (sig === SIGKILL || sig === SIGTERM || sig === SIGUSR1) die(m, target, wstatusSignaled(sig));
}

/** Every answer a parked call got during the command, and the table as ps() shows it, against the model. */
function compare(m: ProcModel, h: FrameHarness): void {
  const ps = new Map(h.kernel.ps().map((e) => [e.pid, e]));
  for (const p of m.procs) {
    if (p.expect !== null) {
      const r = answered(p.lp.poll(), `the parked waitpid of pid ${p.pid}`);
      assert(r.errno === p.expect.errno && (p.expect.ret0 === undefined || r.ret0 === p.expect.ret0) && (p.expect.ret1 === undefined || r.ret1 === p.expect.ret1) && r.signals === p.expect.signals,
        () => `pid ${p.pid}'s waitpid answered ${JSON.stringify(r)}, the model expects ${JSON.stringify(p.expect)}`);
      p.expect = null;
    }
    const e = ps.get(p.pid);
    if (p.state === 'gone') {
      assert(e === undefined, () => `pid ${p.pid} should be gone, ps shows it ${e?.state}`);
      continue;
    }
    const want = p.state === 'zombie' ? 'zombie' : p.waiting !== null ? 'blocked' : 'running';
    assert(e?.state === want, () => `pid ${p.pid} should be ${want}, ps shows ${e?.state}`);
    const ppid = p.parent?.pid ?? 1;
    assert(e?.ppid === ppid, () => `pid ${p.pid}'s parent should be ${ppid}, ps shows ${e?.ppid}`);
    if (p.state === 'zombie') {
      assert(e?.exit !== null, () => `zombie ${p.pid} has no exit status`);
    }
  }
  const problems = checkInvariants(h.kernel);
  assert(problems.length === 0, () => problems.join('; '));
}

/** An answer to the caller's own call, with the caught signals the model says come with it. */
function expectAnswer(p: MProc, r: Reply, errno: number, what: string): Extract<Reply, { kind: 'reply' }> {
  const a = answered(r, what);
  assert(a.errno === errno, () => `${what}: errno ${a.errno}, the model expects ${errno}`);
  assert(a.signals === p.pending, () => `${what}: signals ${a.signals}, the model expects ${p.pending}`);
  p.pending = 0;
  return a;
}

class Attach implements fc.Command<ProcModel, FrameHarness> {
  private desc = '';
  /** `catchUsr1`: it catches SIGUSR1 from the start (a common setup, so that signals meet parked calls often). */
  constructor(readonly parentPick: number | null, readonly catchUsr1: boolean) {}
  check(m: Readonly<ProcModel>): boolean {
    return alive(m as ProcModel).length < 10;
  }
  run(m: ProcModel, h: FrameHarness): void {
    const candidates = alive(m);
    const parent = this.parentPick === null || candidates.length === 0 ? null : nth(candidates, this.parentPick);
    const lp = h.attach(parent === null ? {} : { parent: parent.lp });
    const p: MProc = { lp, pid: lp.pid, parent, state: 'alive', wstatus: 0, waiting: null, ignoresSigchld: false, catchesUsr1: false, pending: 0, expect: null };
    m.procs.push(p);
    this.desc = `attach(${parent === null ? 'init' : parent.pid}${this.catchUsr1 ? ', catching SIGUSR1' : ''}) = ${p.pid}`;
    assert(answered(lp.call('getpid'), 'getpid').ret0 === p.pid, () => 'getpid of a new process');
    if (this.catchUsr1) {
      expectAnswer(p, lp.call('sigaction', SIGUSR1, SIG_CATCH), 0, 'sigaction');
      p.catchesUsr1 = true;
    }
    compare(m, h);
  }
  toString(): string {
    return this.desc || `attach(${this.parentPick ?? 'init'}, ${this.catchUsr1})`;
  }
}

class Exit implements fc.Command<ProcModel, FrameHarness> {
  private desc = '';
  constructor(readonly pick: number, readonly code: number) {}
  check(m: Readonly<ProcModel>): boolean {
    return usable(m as ProcModel).length > 0;
  }
  run(m: ProcModel, h: FrameHarness): void {
    const p = nth(usable(m), this.pick);
    this.desc = `[${p.pid}] exit(${this.code})`;
    assert(p.lp.call('exit', this.code).kind === 'dead', () => `${this.desc} did not end the process`);
    die(m, p, wstatusExited(this.code));
    compare(m, h);
  }
  toString(): string {
    return this.desc || `exit(#${this.pick}, ${this.code})`;
  }
}

class Kill implements fc.Command<ProcModel, FrameHarness> {
  private desc = '';
  constructor(readonly senderPick: number, readonly targetPick: number, readonly sig: number) {}
  check(m: Readonly<ProcModel>): boolean {
    return usable(m as ProcModel).length > 0;
  }
  run(m: ProcModel, h: FrameHarness): void {
    const sender = nth(usable(m), this.senderPick);
    // Mostly a live process (parked ones included); sometimes any, zombies and reaped pids included.
    const live = alive(m);
    const target = this.targetPick % 4 !== 0 && live.length > 0 ? nth(live, this.targetPick >> 2) : nth(m.procs, this.targetPick >> 2);
    this.desc = `[${sender.pid}] kill(${target.pid}, ${this.sig})`;
    // A reaped pid is no process (ESRCH); a zombie still exists, and the signal is discarded.
    const errno = target.state === 'gone' ? 3 : 0;
    const r = sender.lp.call('kill', target.pid, this.sig);
    signal(m, target, this.sig);
    if (sender.state !== 'alive') assert(r.kind === 'dead', () => `${this.desc}: the sender killed itself, but got ${r.kind}`);
    else expectAnswer(sender, r, errno, this.desc);
    compare(m, h);
  }
  toString(): string {
    return this.desc || `kill(#${this.senderPick}, #${this.targetPick}, ${this.sig})`;
  }
}

class Waitpid implements fc.Command<ProcModel, FrameHarness> {
  private desc = '';
  constructor(readonly pick: number, readonly targetPick: number | null, readonly nohang: boolean) {}
  check(m: Readonly<ProcModel>): boolean {
    return usable(m as ProcModel).length > 0;
  }
  run(m: ProcModel, h: FrameHarness): void {
    const p = nth(usable(m), this.pick);
    const pid = this.targetPick === null ? -1 : nth(m.procs, this.targetPick).pid;
    this.desc = `[${p.pid}] waitpid(${pid}${this.nohang ? ', WNOHANG' : ''})`;
    const r = p.lp.call('waitpid', pid, this.nohang ? WNOHANG : 0);
    const o = waitOutcome(m, p, pid);
    if (o.kind === 'echild') expectAnswer(p, r, 10, this.desc);
    else if (o.kind === 'reap') {
      const a = expectAnswer(p, r, 0, this.desc);
      assert(a.ret0 === o.child.pid && a.ret1 === o.child.wstatus, () => `${this.desc} = (${a.ret0}, ${a.ret1}), the model expects (${o.child.pid}, ${o.child.wstatus})`);
      o.child.state = 'gone';
    } else if (this.nohang) {
      const a = expectAnswer(p, r, 0, this.desc);
      assert(a.ret0 === 0 && a.ret1 === 0, () => `${this.desc} = (${a.ret0}, ${a.ret1}) with no child exited`);
    } else if (p.pending !== 0) {
      // A caught signal that came since its last answer interrupts the call before it parks (userland learns of
      // signals only with answers, so this is where POSIX's "handler runs, then the call fails" shows).
      expectAnswer(p, r, 4, this.desc);
    } else {
      assert(r.kind === 'parked', () => `${this.desc} should park, got ${r.kind}`);
      p.waiting = pid;
    }
    compare(m, h);
  }
  toString(): string {
    return this.desc || `waitpid(#${this.pick}, ${this.targetPick ?? -1}, ${this.nohang})`;
  }
}

/** sigaction: SIGCHLD ignored (children are reaped at once), or SIGUSR1 caught (it interrupts a parked call). */
class Sigaction implements fc.Command<ProcModel, FrameHarness> {
  private desc = '';
  constructor(readonly pick: number, readonly which: 'ignore-sigchld' | 'catch-usr1') {}
  check(m: Readonly<ProcModel>): boolean {
    return usable(m as ProcModel).length > 0;
  }
  run(m: ProcModel, h: FrameHarness): void {
    const p = nth(usable(m), this.pick);
    const [sig, action] = this.which === 'ignore-sigchld' ? [SIGCHLD, SIG_IGN] : [SIGUSR1, SIG_CATCH];
    this.desc = `[${p.pid}] sigaction(${sig}, ${action})`;
    expectAnswer(p, p.lp.call('sigaction', sig, action), 0, this.desc);
    if (sig === SIGCHLD) p.ignoresSigchld = true;
    else p.catchesUsr1 = true;
    compare(m, h);
  }
  toString(): string {
    return this.desc || `sigaction(#${this.pick}, ${this.which})`;
  }
}

// ---- memory ------------------------------------------------------------------------------------------------------

const MEM = 64 * 1024;
const ALIGN = 16;

interface MemProc {
  readonly lp: LocalProcess;
  readonly pid: number;
  /** Its mappings: virtual address -> length asked for. */
  readonly maps: Map<number, number>;
  alive: boolean;
}

interface MemModel {
  readonly procs: MemProc[];
}

const roundUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
const memLive = (m: MemModel): MemProc[] => m.procs.filter((p) => p.alive);
const bytesOf = (p: MemProc): number => [...p.maps.values()].reduce((s, n) => s + roundUp(n), 0);
const usedOf = (m: MemModel): number => memLive(m).reduce((s, p) => s + bytesOf(p), 0);

function compareMem(m: MemModel, h: FrameHarness): void {
  const info = h.kernel.meminfo();
  assert(info.used === usedOf(m), () => `meminfo used ${info.used}, the model ${usedOf(m)}`);
  const regions = memLive(m).reduce((s, p) => s + p.maps.size, 0);
  assert(info.regions === regions, () => `meminfo regions ${info.regions}, the model ${regions}`);
  const ps = new Map(h.kernel.ps().map((e) => [e.pid, e]));
  for (const p of m.procs) {
    const e = ps.get(p.pid);
    if (!p.alive) {
      assert(e === undefined, () => `pid ${p.pid} should be gone, ps shows it ${e?.state}`);
      continue;
    }
    assert(e?.memBytes === bytesOf(p), () => `pid ${p.pid} holds ${e?.memBytes} bytes, the model ${bytesOf(p)}`);
  }
  const problems = checkInvariants(h.kernel);
  assert(problems.length === 0, () => problems.join('; '));
}

class MemAttach implements fc.Command<MemModel, FrameHarness> {
  check(m: Readonly<MemModel>): boolean {
    return memLive(m as MemModel).length < 6;
  }
  run(m: MemModel, h: FrameHarness): void {
    const lp = h.attach();
    m.procs.push({ lp, pid: lp.pid, maps: new Map(), alive: true });
    compareMem(m, h);
  }
  toString(): string {
    return 'attach';
  }
}

class Mmap implements fc.Command<MemModel, FrameHarness> {
  private desc = '';
  constructor(readonly pick: number, readonly length: number) {}
  check(m: Readonly<MemModel>): boolean {
    return memLive(m as MemModel).length > 0;
  }
  run(m: MemModel, h: FrameHarness): void {
    const p = nth(memLive(m), this.pick);
    this.desc = `[${p.pid}] mmap(${this.length})`;
    const r = p.lp.call('mmap', this.length);
    p.lp.takeGrants();
    // The model: a request fits when its rounded size fits the free memory (compaction makes it one block);
    // else the OOM killer kills the largest footprint (the newest on a tie), which may be the requester, and
    // the request is tried again; with no footprint left to kill it fails with ENOMEM.
    const need = roundUp(this.length);
    let outcome: 'ok' | 'enomem' | 'killed' = 'enomem';
    if (this.length <= MEM) {
      for (;;) {
        if (usedOf(m) + need <= MEM) {
          outcome = 'ok';
          break;
        }
        const victims = memLive(m).filter((q) => bytesOf(q) > 0).sort((a, b) => bytesOf(b) - bytesOf(a) || b.pid - a.pid);
        const victim = victims[0];
        if (victim === undefined) break;
        victim.alive = false;
        victim.maps.clear();
        if (victim === p) {
          outcome = 'killed';
          break;
        }
      }
    }
    if (outcome === 'killed') assert(r.kind === 'dead', () => `${this.desc}: the OOM killer should have chosen the requester, got ${r.kind}`);
    else {
      const a = answered(r, this.desc);
      if (outcome === 'enomem') assert(a.errno === 12, () => `${this.desc} = ${a.error ?? a.ret0}, the model expects ENOMEM`);
      else {
        assert(a.errno === 0 && a.ret0 % 4096 === 0 && !p.maps.has(a.ret0), () => `${this.desc} = ${a.error ?? a.ret0}, the model expects a new page address`);
        p.maps.set(a.ret0, this.length);
      }
    }
    compareMem(m, h);
  }
  toString(): string {
    return this.desc || `mmap(#${this.pick}, ${this.length})`;
  }
}

class Munmap implements fc.Command<MemModel, FrameHarness> {
  private desc = '';
  /** `which` picks one of the process's mappings; `skew` changes its length (0: exact) so that the unmap fails. */
  constructor(readonly pick: number, readonly which: number, readonly skew: number) {}
  check(m: Readonly<MemModel>): boolean {
    return memLive(m as MemModel).length > 0;
  }
  run(m: MemModel, h: FrameHarness): void {
    const p = nth(memLive(m), this.pick);
    const maps = [...p.maps];
    const [addr, length] = maps.length === 0 ? [0x10000, 4096] : nth(maps, this.which);
    const len = Math.max(1, length + this.skew);
    this.desc = `[${p.pid}] munmap(${addr}, ${len})`;
    const a = answered(p.lp.call('munmap', addr, len), this.desc);
    const ok = p.maps.get(addr) === len;
    assert(a.errno === (ok ? 0 : 22), () => `${this.desc}: errno ${a.errno}, the model expects ${ok ? 0 : 'EINVAL'}`);
    if (ok) p.maps.delete(addr);
    compareMem(m, h);
  }
  toString(): string {
    return this.desc || `munmap(#${this.pick}, #${this.which}, ${this.skew})`;
  }
}

class MemExit implements fc.Command<MemModel, FrameHarness> {
  constructor(readonly pick: number) {}
  check(m: Readonly<MemModel>): boolean {
    return memLive(m as MemModel).length > 0;
  }
  run(m: MemModel, h: FrameHarness): void {
    const p = nth(memLive(m), this.pick);
    assert(p.lp.call('exit', 0).kind === 'dead', () => 'exit did not end the process');
    p.alive = false;
    p.maps.clear();
    compareMem(m, h);
  }
  toString(): string {
    return `exit(#${this.pick})`;
  }
}

// ---- the properties ------------------------------------------------------------------------------------------------

describe('model-based', () => {
  let h: FrameHarness;
  let small: FrameHarness;

  beforeAll(async () => {
    h = await FrameHarness.boot();
    small = await FrameHarness.boot({ mem: MEM });
  });
  afterAll(async () => {
    await h.shutdown();
    await small.shutdown();
  });

  it('the process table follows the model through attach, exit, kill, waitpid and sigaction', () => {
    // Few processes and small picks, so that the same ones meet again: a parent parked in waitpid when its child
    // exits or a caught signal arrives, an orphan whose new parent is init.
    const pick = fc.nat({ max: 7 });
    const signals = fc.constantFrom(0, SIGKILL, SIGTERM, SIGUSR1, SIGUSR1, SIGUSR1, SIGCHLD, SIGCONT);
    const commands = fc.commands(
      [
        fc.tuple(fc.option(pick, { nil: null, freq: 3 }), fc.boolean()).map(([p, c]) => new Attach(p, c)),
        fc.tuple(fc.option(pick, { nil: null, freq: 3 }), fc.boolean()).map(([p, c]) => new Attach(p, c)),
        fc.tuple(pick, fc.nat({ max: 255 })).map(([p, c]) => new Exit(p, c)),
        fc.tuple(pick, fc.nat({ max: 31 }), signals).map(([s, t, sig]) => new Kill(s, t, sig)),
        fc.tuple(pick, fc.nat({ max: 31 }), signals).map(([s, t, sig]) => new Kill(s, t, sig)),
        fc.tuple(pick, fc.option(pick, { nil: null }), fc.boolean()).map(([p, t, n]) => new Waitpid(p, t, n)),
        fc.tuple(pick, fc.option(pick, { nil: null }), fc.boolean()).map(([p, t, n]) => new Waitpid(p, t, n)),
        fc.tuple(pick, fc.constantFrom('ignore-sigchld' as const, 'catch-usr1' as const, 'catch-usr1' as const)).map(([p, w]) => new Sigaction(p, w)),
      ],
      { maxCommands: 50, size: 'max' },
    );
    fc.assert(
      fc.property(commands, (cmds) => runOn(() => h, (): ProcModel => ({ procs: [] }), cmds)),
      { numRuns: 200 },
    );
  });

  it('memory follows the model through mmap, munmap and exit, ENOMEM and the OOM killer included', () => {
    const pick = fc.nat({ max: 7 });
    // Equal sizes often, so that the OOM killer meets ties (the newest process goes first).
    const length = fc.oneof(
      { arbitrary: fc.constantFrom(8192, 16_384, 16_384, 20_000), weight: 4 },
      { arbitrary: fc.integer({ min: 1, max: MEM / 2 }), weight: 2 },
      { arbitrary: fc.constantFrom(MEM, MEM + 1, ALIGN - 1, ALIGN + 1), weight: 1 },
    );
    const commands = fc.commands(
      [
        fc.constant(new MemAttach()),
        fc.constant(new MemAttach()),
        fc.tuple(pick, length).map(([p, n]) => new Mmap(p, n)),
        fc.tuple(pick, length).map(([p, n]) => new Mmap(p, n)),
        fc.tuple(pick, pick, fc.constantFrom(0, 0, 0, 1, -1)).map(([p, w, s]) => new Munmap(p, w, s)),
        pick.map((p) => new MemExit(p)),
      ],
      { maxCommands: 40, size: 'max' },
    );
    fc.assert(
      fc.property(commands, (cmds) => runOn(() => small, (): MemModel => ({ procs: [] }), [new MemAttach(), ...cmds])),
      { numRuns: 200 },
    );
  });
});
