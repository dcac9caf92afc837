// Model-based test of the descriptor table (fast-check commands, shrinking to a minimal failing sequence),
// through harness processes and the real request path: console descriptors shared among processes (one open
// file, one input offset, one reference per descriptor), pipes (both ends, their bytes in order, end of file once
// the writers are gone, EAGAIN under O_NONBLOCK, a read that would wait parks), dup (the lowest free descriptor),
// dup2 (onto an open descriptor, onto itself, out of range), fcntl (close-on-exec per descriptor, O_NONBLOCK per
// open file, shared by dups), close and exit. Each run ends by killing its processes; the kernel must then hold
// nothing (checkQuiescent), and the invariant checker (IPC included) runs after every command.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY, OPEN_MAX, PAYLOAD_MAX,
} from '../dist/abi/index.js';
import { FrameHarness, type LocalProcess, type Reply } from '../dist/fuzz/harness.js';
import { checkInvariants } from '../dist/fuzz/invariants.js';
import { answered, assert, nth, runOn } from './fuzz-model-run.js';

const EBADF = 9;
const EAGAIN = 11;
const EINVAL = 22;

interface MPipe {
  /** Bytes written and not read yet. */
  readonly buf: number[];
  readers: boolean;
  writers: boolean;
}

interface MFile {
  /** Console input, console output, a pipe's read end or its write end. */
  readonly kind: 'in' | 'out' | 'pipe-r' | 'pipe-w';
  /** For console input: the bytes not read yet (shared by every descriptor of the open file). */
  input: Uint8Array;
  readonly pipe: MPipe | null;
  nonblock: boolean;
  refs: number;
}

interface Slot {
  readonly file: MFile;
  cloexec: boolean;
}

interface FdProc {
  readonly lp: LocalProcess;
  readonly fds: Map<number, Slot>;
  alive: boolean;
}

interface FdModel {
  readonly procs: FdProc[];
  readonly input: Uint8Array;
}

const fdLive = (m: FdModel): FdProc[] => m.procs.filter((p) => p.alive);

function lowestFree(p: FdProc): number {
  let fd = 0;
  while (p.fds.has(fd)) fd++;
  return fd;
}

function install(p: FdProc, file: MFile, fd: number, cloexec: boolean): number {
  file.refs++;
  p.fds.set(fd, { file, cloexec });
  return fd;
}

/** A descriptor goes; with the last one, the open file, and with it a pipe's end. */
function drop(p: FdProc, fd: number): void {
  const slot = p.fds.get(fd);
  if (slot === undefined) return;
  p.fds.delete(fd);
  const f = slot.file;
  if (--f.refs > 0 || f.pipe === null) return;
  if (f.kind === 'pipe-r') f.pipe.readers = false;
  else f.pipe.writers = false;
}

function exitModel(p: FdProc): void {
  p.alive = false;
  for (const fd of [...p.fds.keys()]) drop(p, fd);
}

/** The status flags F_GETFL answers: the access mode and O_NONBLOCK. */
function statusFlags(f: MFile): number {
  const mode = f.kind === 'in' || f.kind === 'pipe-r' ? O_RDONLY : O_WRONLY;
  return mode | (f.nonblock ? O_NONBLOCK : 0);
}

function compareFds(m: FdModel, h: FrameHarness): void {
  const files = new Map<MFile, unknown>();
  const reals = new Map<unknown, MFile>();
  for (const p of fdLive(m)) {
    const real = p.lp.fds();
    assert(real.map(([fd]) => fd).join(',') === [...p.fds.keys()].sort((a, b) => a - b).join(','),
      () => `pid ${p.lp.pid} has descriptors ${real.map(([fd]) => fd).join(',')}, the model ${[...p.fds.keys()].join(',')}`);
    for (const [fd, f, cloexec] of real) {
      const slot = p.fds.get(fd)!;
      const mf = slot.file;
      assert((files.get(mf) ?? f) === f && (reals.get(f) ?? mf) === mf, () => `pid ${p.lp.pid} fd ${fd}: the model and the kernel share open files differently`);
      files.set(mf, f);
      reals.set(f, mf);
      assert(f.refs === mf.refs, () => `pid ${p.lp.pid} fd ${fd}: refs ${f.refs}, the model ${mf.refs}`);
      assert(cloexec === slot.cloexec, () => `pid ${p.lp.pid} fd ${fd}: close-on-exec ${cloexec}, the model ${slot.cloexec}`);
      assert(f.flags === statusFlags(mf), () => `pid ${p.lp.pid} fd ${fd}: flags ${f.flags}, the model ${statusFlags(mf)}`);
    }
  }
  const problems = checkInvariants(h.kernel);
  assert(problems.length === 0, () => problems.join('; '));
}

abstract class FdCommand implements fc.Command<FdModel, FrameHarness> {
  protected desc = '';
  constructor(readonly pick: number) {}
  check(m: Readonly<FdModel>): boolean {
    return fdLive(m as FdModel).length > 0;
  }
  run(m: FdModel, h: FrameHarness): void {
    const p = nth(fdLive(m), this.pick);
    this.act(m, p);
    compareFds(m, h);
  }
  protected abstract act(m: FdModel, p: FdProc): void;
  /** Sends the call and holds its answer to the model's: a result (ret0), or a negative errno. */
  protected expect(r: Reply, want: number, ret1?: number): Extract<Reply, { kind: 'reply' }> {
    const a = answered(r, this.desc);
    const ok = want < 0 ? a.errno === -want : a.errno === 0 && a.ret0 === want && (ret1 === undefined || a.ret1 === ret1);
    assert(ok, () => `${this.desc} = ${a.error ?? `${a.ret0}, ${a.ret1}`}, the model expects ${want}${ret1 === undefined ? '' : `, ${ret1}`}`);
    return a;
  }
  abstract toString(): string;
}

class FdAttach implements fc.Command<FdModel, FrameHarness> {
  constructor(readonly parentPick: number | null) {}
  check(m: Readonly<FdModel>): boolean {
    return fdLive(m as FdModel).length < 6;
  }
  run(m: FdModel, h: FrameHarness): void {
    const live = fdLive(m);
    const parent = this.parentPick === null || live.length === 0 ? null : nth(live, this.parentPick);
    const proc: FdProc = {
      lp: parent === null ? h.attach({ stdio: { input: m.input } }) : h.attach({ parent: parent.lp, stdio: { share: parent.lp } }),
      fds: new Map(),
      alive: true,
    };
    if (parent === null) {
      const files: MFile[] = (['in', 'out', 'out'] as const).map((kind) => ({ kind, input: m.input, pipe: null, nonblock: false, refs: 0 }));
      files.forEach((f, fd) => install(proc, f, fd, false));
    } else {
      // Its descriptors are its parent's open files, at the same numbers, as a spawned child's are.
      for (const [fd, s] of parent.fds) install(proc, s.file, fd, false);
    }
    m.procs.push(proc);
    compareFds(m, h);
  }
  toString(): string {
    return `attach(${this.parentPick ?? 'fresh'})`;
  }
}

class Read extends FdCommand {
  constructor(pick: number, readonly fd: number, readonly count: number) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] read(${this.fd}, ${this.count})`;
    const r = p.lp.call('read', this.fd, this.count);
    const f = p.fds.get(this.fd)?.file;
    if (f === undefined || f.kind === 'out' || f.kind === 'pipe-w') {
      this.expect(r, -EBADF);
    } else if (f.kind === 'in') {
      const n = Math.min(this.count, f.input.length, PAYLOAD_MAX);
      const a = this.expect(r, n);
      assert(Buffer.from(a.payload).equals(Buffer.from(f.input.subarray(0, n))), () => `${this.desc}: other bytes than the model's`);
      f.input = f.input.subarray(n);
    } else {
      const pipe = f.pipe!;
      const n = Math.min(this.count, pipe.buf.length, PAYLOAD_MAX);
      if (n > 0 || this.count === 0 || !pipe.writers) {
        const a = this.expect(r, n);
        const want = pipe.buf.splice(0, n);
        assert(Buffer.from(a.payload).equals(Buffer.from(want)), () => `${this.desc}: other bytes than the model's`);
      } else if (f.nonblock) {
        this.expect(r, -EAGAIN);
      } else {
        // Empty, with a writer: it waits. Nothing in this model wakes it, so it is killed (a parked process
        // holds its descriptors like any other until then).
        assert(r.kind === 'parked', () => `${this.desc}: ${r.kind}, the model expects it to park`);
        p.lp.kill();
        exitModel(p);
      }
    }
  }
  toString(): string {
    return this.desc || `read(#${this.pick}, ${this.fd}, ${this.count})`;
  }
}

class Write extends FdCommand {
  constructor(pick: number, readonly fd: number, readonly data: Uint8Array) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] write(${this.fd}, ${this.data.length} bytes)`;
    const r = p.lp.call('write', this.fd, this.data);
    const f = p.fds.get(this.fd)?.file;
    if (f === undefined || f.kind === 'in' || f.kind === 'pipe-r') {
      this.expect(r, -EBADF);
    } else if (f.kind === 'out') {
      this.expect(r, this.data.length);
    } else if (!f.pipe!.readers) {
      // No reader: SIGPIPE, whose default action ends the writer before it sees EPIPE.
      assert(r.kind === 'dead', () => `${this.desc}: ${r.kind}, the model expects SIGPIPE to end it`);
      exitModel(p);
    } else {
      // Writes here are small and few: a pipe's ring (64 KiB) never fills, so none waits.
      this.expect(r, this.data.length);
      f.pipe!.buf.push(...this.data);
    }
  }
  toString(): string {
    return this.desc || `write(#${this.pick}, ${this.fd}, ${this.data.length})`;
  }
}

class Close extends FdCommand {
  constructor(pick: number, readonly fd: number) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] close(${this.fd})`;
    this.expect(p.lp.call('close', this.fd), p.fds.has(this.fd) ? 0 : -EBADF);
    drop(p, this.fd);
  }
  toString(): string {
    return this.desc || `close(#${this.pick}, ${this.fd})`;
  }
}

class Pipe extends FdCommand {
  /** flags null: pipe(); else pipe2(flags). */
  constructor(pick: number, readonly flags: number | null) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] ${this.flags === null ? 'pipe()' : `pipe2(${this.flags})`}`;
    const r = this.flags === null ? p.lp.call('pipe') : p.lp.call('pipe2', this.flags);
    const pipe: MPipe = { buf: [], readers: true, writers: true };
    const nonblock = ((this.flags ?? 0) & O_NONBLOCK) !== 0;
    const cloexec = ((this.flags ?? 0) & O_CLOEXEC) !== 0;
    const rfd = install(p, { kind: 'pipe-r', input: new Uint8Array(0), pipe, nonblock, refs: 0 }, lowestFree(p), cloexec);
    const wfd = install(p, { kind: 'pipe-w', input: new Uint8Array(0), pipe, nonblock, refs: 0 }, lowestFree(p), cloexec);
    this.expect(r, rfd, wfd);
  }
  toString(): string {
    return this.desc || `pipe(#${this.pick}, ${this.flags})`;
  }
}

class Dup extends FdCommand {
  constructor(pick: number, readonly fd: number) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] dup(${this.fd})`;
    const r = p.lp.call('dup', this.fd);
    const slot = p.fds.get(this.fd);
    this.expect(r, slot === undefined ? -EBADF : install(p, slot.file, lowestFree(p), false));
  }
  toString(): string {
    return this.desc || `dup(#${this.pick}, ${this.fd})`;
  }
}

class Dup2 extends FdCommand {
  constructor(pick: number, readonly oldfd: number, readonly newfd: number) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] dup2(${this.oldfd}, ${this.newfd})`;
    const r = p.lp.call('dup2', this.oldfd, this.newfd);
    const slot = p.fds.get(this.oldfd);
    // The validator first: an old descriptor out of range is EBADF, a new one out of range EINVAL.
    if (!(this.oldfd >= 0 && this.oldfd < OPEN_MAX)) this.expect(r, -EBADF);
    else if (!(this.newfd >= 0 && this.newfd < OPEN_MAX)) this.expect(r, -EINVAL);
    else if (slot === undefined) this.expect(r, -EBADF);
    else if (this.oldfd === this.newfd) this.expect(r, this.newfd);
    else {
      drop(p, this.newfd);
      this.expect(r, install(p, slot.file, this.newfd, false));
    }
  }
  toString(): string {
    return this.desc || `dup2(#${this.pick}, ${this.oldfd}, ${this.newfd})`;
  }
}

class Fcntl extends FdCommand {
  constructor(pick: number, readonly fd: number, readonly cmd: number, readonly arg: number) {
    super(pick);
  }
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] fcntl(${this.fd}, ${this.cmd}, ${this.arg})`;
    const r = p.lp.call('fcntl', this.fd, this.cmd, this.arg);
    const slot = p.fds.get(this.fd);
    if (!(this.fd >= 0 && this.fd < OPEN_MAX)) return void this.expect(r, -EBADF);
    if (!(this.cmd >= F_GETFD && this.cmd <= F_SETFL)) return void this.expect(r, -EINVAL);
    if (slot === undefined) return void this.expect(r, -EBADF);
    switch (this.cmd) {
      case F_GETFD:
        this.expect(r, slot.cloexec ? FD_CLOEXEC : 0);
        break;
      case F_SETFD:
        this.expect(r, 0);
        slot.cloexec = (this.arg & FD_CLOEXEC) !== 0;
        break;
      case F_GETFL:
        this.expect(r, statusFlags(slot.file));
        break;
      default:
        // Only O_NONBLOCK changes, and it belongs to the open file: every dup of it sees the change.
        this.expect(r, 0);
        slot.file.nonblock = (this.arg & O_NONBLOCK) !== 0;
    }
  }
  toString(): string {
    return this.desc || `fcntl(#${this.pick}, ${this.fd}, ${this.cmd}, ${this.arg})`;
  }
}

class FdExit extends FdCommand {
  protected act(_m: FdModel, p: FdProc): void {
    this.desc = `[${p.lp.pid}] exit(0)`;
    assert(p.lp.call('exit', 0).kind === 'dead', () => 'exit did not end the process');
    exitModel(p);
  }
  toString(): string {
    return this.desc || `exit(#${this.pick})`;
  }
}

/** A descriptor to act on: mostly one the process has (consoles, then pipes and dups), sometimes one it does
 *  not or cannot have. */
const fdArb = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 2), weight: 4 },
  { arbitrary: fc.integer({ min: 3, max: 8 }), weight: 4 },
  { arbitrary: fc.constantFrom(OPEN_MAX - 1, OPEN_MAX, -1), weight: 1 },
);

describe('model-based', () => {
  let h: FrameHarness;

  beforeAll(async () => {
    h = await FrameHarness.boot();
  });
  afterAll(async () => {
    await h.shutdown();
  });

  it('descriptor tables follow the model through pipes, read, write, dup, dup2, fcntl and close on shared open files, and exit', () => {
    const pick = fc.nat({ max: 7 });
    const count = fc.constantFrom(0, 1, 3, 5, 100, PAYLOAD_MAX, 2 ** 31 - 1);
    const cmd = fc.oneof({ arbitrary: fc.constantFrom(F_GETFD, F_SETFD, F_GETFL, F_SETFL), weight: 8 }, { arbitrary: fc.constantFrom(0, 5), weight: 1 });
    const arg = fc.constantFrom(0, FD_CLOEXEC, O_NONBLOCK, O_NONBLOCK | FD_CLOEXEC, 0x7fffffff);
    const commands = fc.commands(
      [
        fc.option(pick, { nil: null }).map((p) => new FdAttach(p)),
        fc.tuple(pick, fdArb, count).map(([p, fd, n]) => new Read(p, fd, n)),
        fc.tuple(pick, fdArb, count).map(([p, fd, n]) => new Read(p, fd, n)),
        fc.tuple(pick, fdArb, fc.uint8Array({ maxLength: 16 })).map(([p, fd, d]) => new Write(p, fd, d)),
        fc.tuple(pick, fdArb, fc.uint8Array({ maxLength: 16 })).map(([p, fd, d]) => new Write(p, fd, d)),
        fc.tuple(pick, fdArb).map(([p, fd]) => new Close(p, fd)),
        fc.tuple(pick, fc.constantFrom(null, 0, O_NONBLOCK, O_CLOEXEC, O_NONBLOCK | O_CLOEXEC)).map(([p, f]) => new Pipe(p, f)),
        fc.tuple(pick, fdArb).map(([p, fd]) => new Dup(p, fd)),
        fc.tuple(pick, fdArb, fdArb).map(([p, a, b]) => new Dup2(p, a, b)),
        fc.tuple(pick, fdArb, cmd, arg).map(([p, fd, c, a]) => new Fcntl(p, fd, c, a)),
        pick.map((p) => new FdExit(p)),
      ],
      { maxCommands: 30, size: 'max' },
    );
    // Fewer runs than the other models: every command here checks every invariant (IPC included), and a failure
    // must still leave time to shrink.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), commands, (input, cmds) =>
        runOn(() => h, (): FdModel => ({ procs: [], input }), [new FdAttach(null), ...cmds]),
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
