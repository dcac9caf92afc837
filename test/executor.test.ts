// The executor under bad frames, driven through the frame harness (fuzz/harness.ts): no workers, every frame
// written as userland's trap writes it, served synchronously by the kernel's real request path.
//
// Harness processes get 'null' stdio unless a test says otherwise: fd 0 is console input already at end of file,
// fds 1 and 2 discard. So no valid call can wait forever on I/O (read answers 0, write never meets backpressure)
// and every call stays in the "valid value" branch of the properties, exit and nanosleep included: a call that
// parks or ends its process is a legitimate outcome, checked for consistency like any other, and the next frame
// goes to a fresh process (FrameHarness.renew kills a parked one, so no timer or wait outlives its iteration).
// Valid spawn requests name a path under a directory that does not exist, so spawn fails with ENOENT (or EBADF
// for an unopened descriptor in fds) and never starts a worker.

import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ARG_SLOTS, ARGV_MAX, CHANNEL_BYTES, ENV_KEY_MAX, ENV_MAX, kArgc, kArgsByte, kNr, kPayloadByte, kPayloadLen,
  NSIG, OPEN_MAX, PATH_MAX, PAYLOAD_MAX, PID_MAX, SIG_CATCH, SIG_DFL, SIG_IGN, SIGNALS, STATE_IDLE, SYSCALLS, WNOHANG,
  signalName, slotCount, type PayloadArg, type Schema, type SlotArg, type SyscallDef,
} from '../dist/abi/index.js';
import { ConsoleOut } from '../dist/kernel/console.js';
import type { Stamped } from '../dist/kernel/index.js';
import {
  encode, FrameHarness, nrOf, replyProblems, type AttachOptions, type LocalProcess, type RawFrame, type Reply,
} from '../dist/fuzz/harness.js';

const TABLE: readonly SyscallDef[] = SYSCALLS;
const { SIGKILL, SIGSTOP, SIGTERM, SIGUSR1 } = SIGNALS;
/** Spawn paths live here: the directory does not exist, so a valid spawn request ends in ENOENT, not a worker. */
const NOWHERE = '/nonexistent-agentix-harness/';
const SIGNAL_GAPS = Array.from({ length: NSIG }, (_, i) => i + 1).filter((n) => signalName(n) === undefined);

let h: FrameHarness;
/** Processes the current test attached; each test's are killed after it so that none keeps a virtual CPU. */
const attached: LocalProcess[] = [];

beforeAll(async () => {
  h = await FrameHarness.boot();
});
afterEach(() => {
  for (const p of attached.splice(0)) p.kill();
  expect(h.kernel.bugs).toBe(0);
});
afterAll(async () => {
  await h.shutdown();
});

function attach(opts: AttachOptions = {}): LocalProcess {
  const p = h.attach(opts);
  attached.push(p);
  return p;
}

/** h.renew, keeping track of the replacement so that afterEach kills it. */
function renew(p: LocalProcess, opts: AttachOptions = {}): LocalProcess {
  const q = h.renew(p, opts);
  if (q !== p) attached.push(q);
  return q;
}

/** A process past its first frame: it holds a virtual CPU, so each later frame is answered inside serve(). */
function started(opts: AttachOptions = {}): LocalProcess {
  const p = attach(opts);
  expect(p.call('getpid')).toMatchObject({ kind: 'reply', errno: 0, ret0: p.pid });
  return p;
}

/** Asserts that the frame was answered with this errno (0: success) and that the process lives on. */
function expectErrno(p: LocalProcess, r: Reply, error: string | null): void {
  expect(r).toMatchObject({ kind: 'reply', error });
  expect(replyProblems(p, r)).toEqual([]);
}

/** Slot values that pass validation for def without doing anything lasting, to vary one slot against. */
function validSlots(def: SyscallDef, self: number): number[] {
  return def.args.flatMap((a): number[] => {
    switch (a.kind) {
      case 'int':
        return [a.min];
      case 'fd':
        return [0];
      case 'pid':
        return [self];
      case 'signal':
        return [a.zero ? 0 : SIGUSR1.no];
      case 'flags':
        return [0];
      case 'bytes':
      case 'record':
        return [];
      default: {
        const never: never = a;
        return never;
      }
    }
  });
}

const spawn = (p: LocalProcess, payload: Uint8Array): Reply => p.frame({ nr: nrOf('spawn'), payload });

describe('frames the executor rejects', () => {
  it('an unknown syscall number fails with ENOSYS', () => {
    const p = started();
    const used = new Set(TABLE.map((d) => d.nr));
    const nrMax = Math.max(...used);
    const unknown = [-1, -(2 ** 31), 2 ** 31 - 1, 1000, nrMax + 1];
    for (let nr = 0; nr <= nrMax; nr++) if (!used.has(nr)) unknown.push(nr);
    for (const nr of unknown) expectErrno(p, p.frame({ nr }), 'ENOSYS');
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s with the wrong argc fails with EINVAL', (_name, def) => {
    const p = started();
    const n = slotCount(def);
    const slots = validSlots(def, p.pid);
    for (const argc of [n + 1, n - 1, -1, ARG_SLOTS + 1, 2 ** 31 - 1]) {
      if (argc !== n) expectErrno(p, p.frame({ nr: def.nr, argc, slots }), 'EINVAL');
    }
  });

  it.each(
    TABLE.flatMap((d) => d.args.flatMap((a, i) => (a.kind === 'int' ? [[`${d.name}(${a.name})`, d, i, a] as const] : []))),
  )('%s: a NaN, infinite, fractional or out-of-range value fails with EINVAL', (_name, def, i, arg) => {
    const p = started();
    for (const bad of [NaN, Infinity, -Infinity, arg.min - 1, arg.max + 1, arg.min + 0.5, arg.max - 0.5, 2 ** 53 + 2]) {
      const slots = validSlots(def, p.pid);
      slots[i] = bad;
      expectErrno(p, p.frame({ nr: def.nr, slots }), 'EINVAL');
    }
  });

  it.each(['read', 'write', 'close'] as const)(
    '%s on a negative, non-integer, too large or unopened descriptor fails with EBADF',
    (name) => {
      const p = started();
      const def = TABLE.find((d) => d.name === name)!;
      for (const fd of [-1, -0.5, 1.5, NaN, Infinity, OPEN_MAX, OPEN_MAX + 1, 2 ** 31, 7, OPEN_MAX - 1]) {
        const slots = validSlots(def, p.pid);
        slots[0] = fd;
        const payload = name === 'write' ? new TextEncoder().encode('x') : undefined;
        expectErrno(p, p.frame({ nr: def.nr, slots, ...(payload === undefined ? {} : { payload }) }), 'EBADF');
      }
    },
  );

  it('a process without descriptors gets EBADF for fds 0, 1 and 2', () => {
    const p = started({ stdio: 'none' });
    expectErrno(p, p.call('read', 0, 16), 'EBADF');
    expectErrno(p, p.call('write', 1, 'x'), 'EBADF');
    expectErrno(p, p.call('close', 2), 'EBADF');
  });

  it('kill with pid 0 or a negative pid fails with EINVAL, with a pid above PID_MAX with ESRCH', () => {
    const p = started();
    for (const pid of [0, -0, -1, -p.pid, -(2 ** 31), 1.5, NaN, -Infinity, Infinity]) {
      expectErrno(p, p.call('kill', pid, 0), 'EINVAL');
    }
    for (const pid of [PID_MAX + 1, 2 ** 31, 2 ** 53]) expectErrno(p, p.call('kill', pid, 0), 'ESRCH');
  });

  it('a signal number the table does not define fails with EINVAL', () => {
    const p = started();
    for (const sig of [-1, 1.5, NaN, NSIG + 1, 32, 64, ...SIGNAL_GAPS]) {
      expectErrno(p, p.call('kill', p.pid, sig), 'EINVAL');
      expectErrno(p, p.call('sigaction', sig, SIG_CATCH), 'EINVAL');
    }
    // Signal 0 is kill's existence probe, not a signal sigaction can set.
    expectErrno(p, p.call('sigaction', 0, SIG_DFL), 'EINVAL');
    expectErrno(p, p.call('kill', p.pid, 0), null);
  });

  it('waitpid options with bits outside WNOHANG fail with EINVAL', () => {
    const p = started();
    for (const options of [2, WNOHANG | 2, 1 << 30, -1, 2 ** 31, 2 ** 32 + 1, 0.5, NaN]) {
      expectErrno(p, p.call('waitpid', -1, options), 'EINVAL');
    }
  });

  it.each(TABLE.map((d) => [d.name, d] as const))(
    '%s with a payload length below 0 or above PAYLOAD_MAX fails with EFAULT',
    (_name, def) => {
      const p = started();
      for (const payloadLen of [-1, -(2 ** 31), PAYLOAD_MAX + 1, 2 ** 31 - 1]) {
        expectErrno(p, p.frame({ nr: def.nr, slots: validSlots(def, p.pid), payloadLen }), 'EFAULT');
      }
    },
  );

  it.each(TABLE.filter((d) => slotCount(d) === d.args.length).map((d) => [d.name, d] as const))(
    '%s, which takes no payload, fails with EINVAL when a frame carries one',
    (_name, def) => {
      const p = started();
      for (const payloadLen of [1, PAYLOAD_MAX]) {
        expectErrno(p, p.frame({ nr: def.nr, slots: validSlots(def, p.pid), payloadLen }), 'EINVAL');
      }
    },
  );

  it('a spawn payload that is not exactly one well-formed msgpack value fails with EINVAL', () => {
    const p = started();
    const valid = encode({ path: `${NOWHERE}x` });
    const malformed: Uint8Array[] = [
      new Uint8Array(0), // no value at all
      Uint8Array.of(0xc1), // the one byte msgpack never uses
      Uint8Array.of(0x81, 0xa4, 0x70, 0x61, 0x74, 0x68), // a map of one entry, cut after the key
      Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff), // a str 32 claiming 4 GiB
      Uint8Array.of(0xdd, 0x7f, 0xff, 0xff, 0xff), // an array 32 claiming 2^31 - 1 elements
      Uint8Array.of(0x81, 0xc0, 0xc0), // a map keyed by nil
      Uint8Array.of(0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0xc0), // prototype pollution attempt
      Uint8Array.of(...valid, 0xc0), // a valid request followed by a stray byte
      Uint8Array.of(...valid, ...valid), // two values
    ];
    for (const payload of malformed) expectErrno(p, spawn(p, payload), 'EINVAL');
    expectErrno(p, spawn(p, valid), 'ENOENT');
  });

  it('a spawn request of the wrong shape fails with EINVAL', () => {
    const p = started();
    const path = `${NOWHERE}x`;
    const wrong: unknown[] = [
      null, 'path', 42, true, [path], new Uint8Array(4),
      {}, { argv: [path] }, { path: null }, { path: 42 }, { path: [path] },
      { path, extra: 1 }, { path, argv: path }, { path, argv: [1] }, { path, argv: { 0: path } },
      { path, env: [] }, { path, env: 'A=1' }, { path, env: { A: 1 } }, { path, env: { A: null } }, { path, env: { A: ['x'] } },
      { path, fds: 0 }, { path, fds: [0.5] }, { path, fds: [-2] }, { path, fds: [OPEN_MAX] }, { path, fds: ['0'] },
    ];
    for (const req of wrong) expect(spawn(p, encode(req)), JSON.stringify(req)).toMatchObject({ kind: 'reply', error: 'EINVAL' });
  });

  it('spawn strings and lists past their limits fail with E2BIG; at the limit they pass validation', () => {
    const p = started();
    const long = (n: number): string => `${NOWHERE}${'a'.repeat(n - NOWHERE.length)}`;
    const manyKeys = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, '']));
    const tooBig: unknown[] = [
      { path: long(PATH_MAX + 1) },
      { path: 'x', argv: new Array<string>(ARGV_MAX + 1).fill('') },
      { path: 'x', argv: ['a'.repeat(PATH_MAX + 1)] },
      { path: 'x', env: { ['K'.repeat(ENV_KEY_MAX + 1)]: '' } },
      { path: 'x', env: { K: 'v'.repeat(PATH_MAX + 1) } },
      { path: 'x', env: manyKeys(ENV_MAX + 1) },
      { path: 'x', fds: new Array<number>(OPEN_MAX + 1).fill(-1) },
    ];
    for (const req of tooBig) expectErrno(p, p.call('spawn', req as { path: string }), 'E2BIG');
    const atLimit = {
      path: long(PATH_MAX), argv: new Array<string>(ARGV_MAX).fill(''), env: { ['K'.repeat(ENV_KEY_MAX)]: '' },
      fds: new Array<number>(OPEN_MAX).fill(-1),
    };
    expectErrno(p, p.call('spawn', atLimit), 'ENOENT');
  });

  it('spawn naming an unopened descriptor in fds fails with EBADF', () => {
    const p = started();
    expectErrno(p, p.call('spawn', { path: `${NOWHERE}x`, fds: [0, 1, 9] }), 'EBADF');
  });

  it('kill of a pid that no process holds fails with ESRCH', () => {
    const p = started();
    const gone = started();
    const pid = gone.pid;
    gone.kill();
    expect(h.kernel.ps().some((e) => e.pid === pid)).toBe(false);
    expectErrno(p, p.call('kill', pid, 0), 'ESRCH');
    expectErrno(p, p.call('kill', pid, SIGTERM.no), 'ESRCH');
    expectErrno(p, p.call('kill', PID_MAX, SIGKILL.no), 'ESRCH');
  });

  it('kill of init fails with EPERM', () => {
    const p = started();
    expectErrno(p, p.call('kill', 1, SIGKILL.no), 'EPERM');
  });

  it('waitpid with no children fails with ECHILD, with or without WNOHANG, for any pid or a non-child', () => {
    const p = started();
    const other = started();
    for (const pid of [-1, other.pid, p.pid, PID_MAX]) {
      expectErrno(p, p.call('waitpid', pid, 0), 'ECHILD');
      expectErrno(p, p.call('waitpid', pid, WNOHANG), 'ECHILD');
    }
  });

  it('close of a descriptor that is not open fails with EBADF, also the second close of one that was', () => {
    const p = started();
    expectErrno(p, p.call('close', 5), 'EBADF');
    expectErrno(p, p.call('close', 0), null);
    expectErrno(p, p.call('close', 0), 'EBADF');
    expect(p.fds().map(([fd]) => fd)).toEqual([1, 2]);
  });

  it('sigaction cannot catch or ignore SIGKILL or SIGSTOP (EINVAL) and leaves them at their default', () => {
    const p = started();
    for (const sig of [SIGKILL.no, SIGSTOP.no]) {
      expectErrno(p, p.call('sigaction', sig, SIG_CATCH), 'EINVAL');
      expectErrno(p, p.call('sigaction', sig, SIG_IGN), 'EINVAL');
      expect(p.proc.disposition[sig]).toBe(SIG_DFL);
    }
  });

  it('exit with a code outside 0..255 fails with EINVAL and the process lives on', () => {
    const p = started();
    for (const code of [256, -1, 0.5, NaN]) expectErrno(p, p.call('exit', code), 'EINVAL');
    expect(p.call('getpid')).toMatchObject({ kind: 'reply', ret0: p.pid });
  });
});

describe('well-formed calls through the harness', () => {
  it('getpid and getppid answer the caller\'s pid and its parent\'s', () => {
    const parent = started();
    const child = started({ parent });
    expect(child.call('getppid')).toMatchObject({ kind: 'reply', errno: 0, ret0: parent.pid });
    expect(parent.call('getppid')).toMatchObject({ kind: 'reply', errno: 0, ret0: 1 });
  });

  it('write answers the count it accepted and read at end of file answers no bytes', () => {
    const p = started();
    expect(p.call('write', 1, 'hello')).toMatchObject({ kind: 'reply', errno: 0, ret0: 5, replyLen: 0 });
    expect(p.call('read', 0, 100)).toMatchObject({ kind: 'reply', errno: 0, ret0: 0, replyLen: 0 });
  });

  it('read answers the input bytes in the reply payload', () => {
    const p = started({ stdio: { input: new TextEncoder().encode('hello') } });
    const r = p.call('read', 0, 3);
    expect(r).toMatchObject({ kind: 'reply', errno: 0, ret0: 3, replyLen: 3 });
    if (r.kind === 'reply') expect(new TextDecoder().decode(r.payload)).toBe('hel');
  });

  it('clock_gettime answers seconds in ret0 and nanoseconds below 1e9 in ret1', () => {
    const p = started();
    for (const clock of [0, 1, 2]) {
      const r = p.call('clock_gettime', clock);
      expect(r).toMatchObject({ kind: 'reply', errno: 0 });
      if (r.kind === 'reply') {
        expect(Number.isInteger(r.ret0) && r.ret0 >= 0).toBe(true);
        expect(Number.isInteger(r.ret1) && r.ret1 >= 0 && r.ret1 < 1e9).toBe(true);
      }
    }
  });

  it('a caught signal sent to oneself is delivered with the reply of the kill', () => {
    const p = started();
    expect(p.call('sigaction', SIGUSR1.no, SIG_CATCH)).toMatchObject({ kind: 'reply', errno: 0, ret0: SIG_DFL });
    expect(p.call('kill', p.pid, SIGUSR1.no)).toMatchObject({ kind: 'reply', errno: 0, signals: 1 << SIGUSR1.no });
    expect(p.call('getpid')).toMatchObject({ kind: 'reply', signals: 0 });
  });
});

describe('parked calls', () => {
  it('waitpid parks the parent until its child exits, then answers the child\'s pid and status', () => {
    const parent = started();
    const child = started({ parent });
    expect(parent.call('waitpid', -1, 0)).toMatchObject({ kind: 'parked', blocked: true });
    expect(parent.state).toBe('blocked');
    expect(child.call('exit', 7)).toMatchObject({ kind: 'dead' });
    expect(parent.poll()).toMatchObject({ kind: 'reply', errno: 0, ret0: child.pid, ret1: 7 << 8 });
    expect(h.kernel.ps().some((e) => e.pid === child.pid)).toBe(false);
  });

  it('a frame rewritten while its call is parked is not served; the parked call is answered', () => {
    const parent = started();
    const child = started({ parent });
    expect(parent.call('waitpid', child.pid, 0).kind).toBe('parked');
    expect(parent.frame({ nr: nrOf('getpid') }).kind).toBe('parked');
    expect(parent.rawBytes(new Uint8Array(kPayloadByte).fill(0xff)).kind).toBe('parked');
    expect(child.call('exit', 0).kind).toBe('dead');
    expect(parent.poll()).toMatchObject({ kind: 'reply', errno: 0, ret0: child.pid });
  });

  it('nanosleep parks the caller and answers 0 once the time is up', async () => {
    const p = started();
    expect(p.call('nanosleep', 0, 1_000_000).kind).toBe('parked');
    expect(await p.settle()).toMatchObject({ kind: 'reply', errno: 0, ret0: 0 });
  });

  it('a caught signal cuts a parked call short with EINTR and is delivered with that reply', () => {
    const p = started();
    const sender = started();
    p.call('sigaction', SIGUSR1.no, SIG_CATCH);
    expect(p.call('nanosleep', 3600, 0).kind).toBe('parked');
    expect(sender.call('kill', p.pid, SIGUSR1.no)).toMatchObject({ kind: 'reply', errno: 0 });
    expect(p.poll()).toMatchObject({ kind: 'reply', error: 'EINTR', signals: 1 << SIGUSR1.no });
    expect(p.proc.resources.live().filter((r) => r.kind === 'timer')).toEqual([]);
  });

  it('the first frame of a new process waits for a free virtual CPU', async () => {
    const one = await FrameHarness.boot({ cpus: 1 });
    try {
      const a = one.attach();
      expect(a.call('getpid').kind).toBe('reply'); // a now holds the only CPU
      const b = one.attach();
      expect(b.call('getpid')).toMatchObject({ kind: 'parked', blocked: true });
      expect(b.state).toBe('ready');
      expect(a.call('nanosleep', 3600, 0).kind).toBe('parked'); // a gives the CPU up
      expect(b.poll()).toMatchObject({ kind: 'reply', errno: 0, ret0: b.pid });
      expect(b.state).toBe('running');
    } finally {
      await one.shutdown();
    }
  });
});

describe('exit', () => {
  it('an exit frame ends the process, releases its resources newest first, and init reaps it', () => {
    const p = started();
    const pid = p.pid;
    const events: Stamped[] = [];
    const off = h.kernel.stream.on((e) => {
      if (e.pid === pid) events.push(e);
    });
    try {
      expect(p.call('exit', 3)).toMatchObject({ kind: 'dead', state: 3 });
    } finally {
      off();
    }
    expect(p.alive).toBe(false);
    expect(events.filter((e) => e.kind === 'exit')).toMatchObject([{ code: 3, signal: null, how: 'exit' }]);
    const cleanup = events.flatMap((e) => (e.kind === 'cleanup' ? [e] : []));
    expect(cleanup.map((e) => [e.order, e.resource, e.ok])).toEqual([
      [1, 'fd', true], [2, 'fd', true], [3, 'fd', true], [4, 'worker', true],
    ]);
    expect(cleanup.slice(0, 3).map((e) => e.label.split(':')[0])).toEqual(['fd 2', 'fd 1', 'fd 0']);
    expect(events.filter((e) => e.kind === 'proc_state').map((e) => e.kind === 'proc_state' && [e.from, e.to])).toEqual([
      ['running', 'zombie'], ['zombie', 'reaped'],
    ]);
    expect(events.filter((e) => e.kind === 'reap')).toMatchObject([{ by: 1 }]);
    expect(h.kernel.ps().some((e) => e.pid === pid)).toBe(false);
    expect(p.proc.resources.live()).toEqual([]);
  });

  it('an exited child of a harness process stays a zombie until its parent reaps it', () => {
    const parent = started();
    const child = started({ parent });
    expect(child.call('exit', 0).kind).toBe('dead');
    expect(h.kernel.ps().find((e) => e.pid === child.pid)).toMatchObject({ state: 'zombie', exit: { code: 0 } });
    expect(parent.call('waitpid', child.pid, WNOHANG)).toMatchObject({ kind: 'reply', ret0: child.pid, ret1: 0 });
    expect(h.kernel.ps().some((e) => e.pid === child.pid)).toBe(false);
  });
});

// ---- properties ------------------------------------------------------------------------------------------------

/** A slot value, or a pid resolved when the frame is sent: the sender's own, or the bystander's in (c). */
type SlotValue = number | 'self' | 'other';

interface TypedFrame {
  readonly def: SyscallDef;
  readonly slots: readonly SlotValue[];
  readonly payload: Uint8Array | null;
}

const HOSTILE_NUMBERS: readonly number[] = [
  NaN, Infinity, -Infinity, -0, 0.5, -0.5, Number.EPSILON, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE,
  -Number.MAX_VALUE, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2,
  -(2 ** 53), 1e300,
];
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.double(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);
const SIGNAL_NUMBERS = Object.values(SIGNALS).map((s) => s.no);

/** An argument's values: at the edges of its type (valid or just outside), and well inside it. */
function slotValues(a: SlotArg): { edges: SlotValue[]; valid: fc.Arbitrary<SlotValue> } {
  switch (a.kind) {
    case 'int': {
      const inRange = fc.integer({ min: a.min, max: a.max });
      return {
        edges: [a.min, a.max, a.min - 1, a.max + 1, a.min + 0.5, 0, -1, 1],
        valid: a.name === 'pid' ? fc.oneof(inRange, fc.constantFrom<SlotValue>('self', 'other')) : inRange,
      };
    }
    case 'fd':
      return { edges: [0, 1, 2, 3, OPEN_MAX - 1, OPEN_MAX, -1], valid: fc.integer({ min: 0, max: 3 }) };
    case 'pid':
      return {
        edges: [1, PID_MAX, PID_MAX + 1, 0, -1],
        valid: fc.oneof(fc.constantFrom<SlotValue>('self', 'other'), fc.integer({ min: 1, max: PID_MAX })),
      };
    case 'signal':
      return {
        edges: [0, 1, NSIG, NSIG + 1, 32, -1, ...SIGNAL_GAPS],
        valid: fc.constantFrom(...(a.zero ? [0, ...SIGNAL_NUMBERS] : SIGNAL_NUMBERS)),
      };
    case 'flags': {
      const bits = Object.values(a.bits);
      const all = bits.reduce((x, b) => x | b, 0);
      return {
        edges: [0, all, all + 1, all << 1, -1, 2 ** 31, 2 ** 31 - 1],
        valid: fc.subarray(bits).map((bs) => bs.reduce((x, b) => x | b, 0)),
      };
    }
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** Edges, valid values, and numbers no integer type accepts (NaN, ±Infinity, -0, fractions, huge values). */
function slotArb(a: SlotArg): fc.Arbitrary<SlotValue> {
  const { edges, valid } = slotValues(a);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...edges) },
    { weight: 3, arbitrary: valid },
    { weight: 2, arbitrary: hostileNumber },
  );
}

/** Values that satisfy a schema (kept small: bounds are the business of the E2BIG tests). */
function schemaValue(s: Schema): fc.Arbitrary<unknown> {
  switch (s.t) {
    case 'str':
      return fc.string({ maxLength: Math.min(s.max, 12) });
    case 'int':
      return fc.integer({ min: s.min, max: s.max });
    case 'bool':
      return fc.boolean();
    case 'list':
      return fc.array(schemaValue(s.of), { maxLength: Math.min(s.max, 4) });
    case 'dict':
      return fc.dictionary(fc.string({ maxLength: Math.min(s.keyMax, 8) }), schemaValue(s.of), { maxKeys: Math.min(s.max, 4) });
    case 'record': {
      const model = Object.fromEntries(Object.entries(s.fields).map(([k, f]) => [k, schemaValue(f)]));
      const requiredKeys = Object.keys(s.fields).filter((k) => !s.optional.includes(k));
      return fc.record(model, { requiredKeys });
    }
    default: {
      const never: never = s;
      return never;
    }
  }
}

/** msgpack of anything fast-check makes; what the encoder refuses (a symbol, say) becomes nil. */
function encodeAnything(v: unknown): Uint8Array {
  try {
    const bytes = encode(v);
    return bytes.length <= PAYLOAD_MAX ? bytes : bytes.subarray(0, PAYLOAD_MAX);
  } catch {
    return encode(null);
  }
}

const anythingEncoded = fc
  .anything({ withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true })
  .map(encodeAnything);
const arbitraryBytes = fc.uint8Array({ maxLength: 256 });

/** A payload for def: a valid value, msgpack of anything, or raw bytes; for calls without one, mostly nothing. */
function payloadArb(def: SyscallDef): fc.Arbitrary<Uint8Array | null> {
  const last = def.args[def.args.length - 1];
  if (last === undefined || (last.kind !== 'bytes' && last.kind !== 'record')) {
    return fc.oneof(
      { weight: 7, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
    );
  }
  const arg: PayloadArg = last;
  const valid: fc.Arbitrary<Uint8Array> =
    arg.kind === 'bytes'
      ? fc.oneof(arbitraryBytes, fc.integer({ min: 0, max: PAYLOAD_MAX }).map((n) => new Uint8Array(n).fill(0x2e)))
      : schemaValue(arg.schema).map((v) => {
          // Only spawn takes a record; its path goes under NOWHERE so that no worker starts.
          const req = v as { path?: unknown };
          return encode(typeof req.path === 'string' ? { ...req, path: NOWHERE + req.path } : req);
        });
  return fc.oneof(valid, anythingEncoded, arbitraryBytes);
}

/** Gives a generated value the short rendering fast-check prints for a counterexample. */
function printable<T extends object>(v: T, show: () => string): T {
  return Object.defineProperty(v, fc.toStringMethod, { value: show, enumerable: false });
}

/** A frame for def: slots mixed from slotArb, or (one time in three) all valid, so that the chance of reaching
 *  the handler does not shrink with every argument a call takes. */
function typedFrameArb(def: SyscallDef): fc.Arbitrary<TypedFrame> {
  const slotArgs = def.args.filter((a): a is SlotArg => a.kind !== 'bytes' && a.kind !== 'record');
  const slots = fc.oneof(
    { weight: 2, arbitrary: fc.tuple(...slotArgs.map(slotArb)) },
    { weight: 1, arbitrary: fc.tuple(...slotArgs.map((a) => slotValues(a).valid)) },
  );
  return fc.tuple(slots, payloadArb(def)).map(([s, payload]) =>
    printable<TypedFrame>({ def, slots: s, payload }, () => {
      const args = s.map((v) => (typeof v === 'number' && Object.is(v, -0) ? '-0' : String(v))).join(', ');
      return `${def.name}(${args})${payload === null ? '' : ` + payload ${JSON.stringify([...payload.subarray(0, 32)])}${payload.length > 32 ? `… (${payload.length} bytes)` : ''}`}`;
    }),
  );
}

function rawFrame(f: TypedFrame, self: number, other: number): RawFrame {
  const slots = f.slots.map((v) => (v === 'self' ? self : v === 'other' ? other : v));
  return { nr: f.def.nr, slots, ...(f.payload === null ? {} : { payload: f.payload }) };
}

/** Garbage for the whole channel: a header and a payload prefix, sometimes tiled over all CHANNEL_BYTES, and
 *  sometimes with a real syscall number, a plausible argc or a small payload length patched in, so that the
 *  garbage also reaches the checks behind the ENOSYS, EINVAL and EFAULT gates. */
const scribble: fc.Arbitrary<Uint8Array> = fc
  .record({
    head: fc.uint8Array({ minLength: kPayloadByte, maxLength: kPayloadByte }),
    body: fc.uint8Array({ maxLength: 512 }),
    tile: fc.boolean(),
    nr: fc.option(fc.constantFrom(...TABLE.map((d) => d.nr)), { freq: 2 }),
    argc: fc.option(fc.integer({ min: 0, max: ARG_SLOTS }), { freq: 2 }),
    payloadLen: fc.option(fc.integer({ min: 0, max: 600 }), { freq: 2 }),
  })
  .map(({ head, body, tile, nr, argc, payloadLen }) => {
    const unit = Uint8Array.of(...head, ...body);
    const buf = new Uint8Array(tile ? CHANNEL_BYTES : unit.length);
    for (let at = 0; at < buf.length; at += unit.length) buf.set(unit.subarray(0, buf.length - at), at);
    // The channel's Int32 words are in platform byte order, and so is this view.
    const words = new Int32Array(buf.buffer, 0, kPayloadByte / 4);
    if (nr !== null) words[kNr] = nr;
    if (argc !== null) words[kArgc] = argc;
    if (payloadLen !== null) words[kPayloadLen] = payloadLen;
    return buf;
  });

interface Family {
  readonly parent: LocalProcess;
  readonly child: LocalProcess;
}

/** The family if its parent can take a frame now; else a new parent with a new child (the old pair is killed). */
function renewFamily(f: Family | null): Family {
  if (f !== null && f.parent.usable) return f;
  f?.parent.kill();
  f?.child.kill();
  const parent = started({ name: 'parent' });
  return { parent, child: started({ name: 'child', parent }) };
}

/** Whether garbage happens to spell a valid kill of pid `bystander` with a real signal (the header is whole). */
function signalsBystander(buf: Uint8Array, bystander: number): boolean {
  const words = new Int32Array(buf.buffer, buf.byteOffset, kPayloadByte / 4);
  const slots = new Float64Array(buf.buffer, buf.byteOffset + kArgsByte, 2);
  return words[kNr] === nrOf('kill') && words[kArgc] === 2 && slots[0] === bystander && slots[1] !== 0;
}

/** The property behind (a), (b) and (c): a reply the ABI allows, and no kernel bug. */
function expectWellFormed(p: LocalProcess, r: Reply, bugsBefore: number): void {
  expect(r.state).not.toBe(STATE_IDLE);
  expect(replyProblems(p, r)).toEqual([]);
  // Counted per frame, not since boot: once a bug is counted, every later run would fail too, and fast-check
  // would shrink to whichever frame ran first instead of the one that broke the kernel.
  expect(h.kernel.bugs - bugsBefore, 'handler exceptions (kernel.bugs)').toBe(0);
}

/** Sends one frame and checks its reply. */
function sendChecked(p: LocalProcess, send: (p: LocalProcess) => Reply): void {
  const bugsBefore = h.kernel.bugs;
  expectWellFormed(p, send(p), bugsBefore);
}

describe('properties of the executor under hostile frames', () => {
  it('(a) garbage over the whole channel gets a well-formed reply, parks, or ends the process', () => {
    let p = attach();
    fc.assert(
      fc.property(scribble, (buf) => {
        p = renew(p);
        sendChecked(p, (q) => q.rawBytes(buf));
      }),
      { numRuns: 1000 },
    );
  });

  it.each(TABLE.map((d) => [d.name, d] as const))(
    '(b) %s with arbitrary typed values gets a well-formed reply, parks, or ends the process',
    (_name, def) => {
      // The sender has a child, and 'other' is that child: waitpid, kill and SIGCHLD then have someone to act on.
      let family: Family | null = null;
      fc.assert(
        fc.property(fc.array(typedFrameArb(def), { minLength: 1, maxLength: 4 }), (frames) => {
          for (const f of frames) {
            family = renewFamily(family);
            const { parent, child } = family;
            sendChecked(parent, (q) => q.frame(rawFrame(f, parent.pid, child.pid)));
          }
        }),
        { numRuns: 200 },
      );
    },
  );

  it('(c) hostile frames from one process leave another\'s pid, descriptors and dispositions unchanged', () => {
    const hostile = fc.oneof(
      scribble.map((buf) => ({ raw: buf }) as const),
      fc.oneof(...TABLE.map(typedFrameArb)).map((typed) => ({ typed }) as const),
    );
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 1, maxLength: 12 }), (frames) => {
        const b = started({ name: 'bystander' });
        const fdsBefore = b.fds();
        const dispositionBefore = [...b.proc.disposition];
        // The attacker shares b's open files, as siblings share their parent's stdio: closing its descriptors or
        // dying must drop only its own references.
        const attacker: AttachOptions = { name: 'attacker', stdio: { share: b } };
        let a = attach(attacker);
        try {
          for (const f of frames) {
            a = renew(a, attacker);
            // Any process may signal another; a real signal to b is b's business, not a breach of isolation.
            // (Probing b with signal 0, or waitpid on it, stays in.)
            if ('raw' in f) {
              if (signalsBystander(f.raw, b.pid)) continue;
              sendChecked(a, (q) => q.rawBytes(f.raw));
            } else {
              const frame = rawFrame(f.typed, a.pid, b.pid);
              if (f.typed.def.name === 'kill' && frame.slots?.[0] === b.pid && frame.slots[1] !== 0) continue;
              sendChecked(a, (q) => q.frame(frame));
            }
          }
          expect(b.call('getpid')).toMatchObject({ kind: 'reply', errno: 0, ret0: b.pid });
          const fdsAfter = b.fds();
          expect(fdsAfter.map(([fd]) => fd)).toEqual(fdsBefore.map(([fd]) => fd));
          fdsAfter.forEach(([, file], i) => expect(file).toBe(fdsBefore[i]![1]));
          expect([...b.proc.disposition]).toEqual(dispositionBefore);
          expect(b.call('write', 1, 'still here')).toMatchObject({ kind: 'reply', errno: 0, ret0: 10 });
        } finally {
          // A failed run must not leave its processes holding virtual CPUs while fast-check shrinks.
          a.kill();
          b.kill();
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---- regressions: each was a kernel bug found by these tests ----------------------------------------------------

describe('regressions', () => {
  it('kill with signal 0 of a zombie child succeeds (POSIX: a zombie exists until it is reaped)', () => {
    const parent = started();
    const child = started({ parent });
    expect(child.call('exit', 0).kind).toBe('dead');
    expect(h.kernel.ps().find((e) => e.pid === child.pid)?.state).toBe('zombie');
    expect(parent.call('kill', child.pid, 0)).toMatchObject({ kind: 'reply', errno: 0 });
  });

  it('a reply to a call that answers no payload has replyLen 0, after a read that answered bytes', () => {
    const p = started({ stdio: { input: new TextEncoder().encode('hello') } });
    expect(p.call('read', 0, 100)).toMatchObject({ kind: 'reply', replyLen: 5 });
    expect(p.call('getpid')).toMatchObject({ kind: 'reply', replyLen: 0 });
  });

  it('a write cut short by a caught signal after its bytes were accepted answers their count, not EINTR', () => {
    const accepted: string[] = [];
    // A host stream that takes the bytes but never drains: the writer parks on backpressure with its data sent.
    const sink = new Writable({ highWaterMark: 1, write: (chunk: Buffer) => void accepted.push(String(chunk)) });
    const p = started({ stdio: { files: [undefined, new ConsoleOut('stdout', sink, true, h.kernel)] } });
    const sender = started();
    p.call('sigaction', SIGUSR1.no, SIG_CATCH);
    expect(p.call('write', 1, 'hello').kind).toBe('parked');
    expect(accepted).toEqual(['hello']);
    sender.call('kill', p.pid, SIGUSR1.no);
    expect(p.poll()).toMatchObject({ kind: 'reply', errno: 0, ret0: 5 });
  });

  it('waitpid(-1) with SIGCHLD ignored fails with ECHILD once the last child has exited (POSIX)', () => {
    const parent = started();
    const child = started({ parent });
    parent.call('sigaction', SIGNALS.SIGCHLD.no, SIG_IGN);
    expect(parent.call('waitpid', -1, 0).kind).toBe('parked');
    expect(child.call('exit', 0).kind).toBe('dead');
    expect(parent.proc.children.size).toBe(0);
    expect(parent.poll()).toMatchObject({ kind: 'reply', error: 'ECHILD' });
  });
});
