// Taps (EventStream.tap): lossless, batched consumers that run after the kernel answered, reading the ring's
// columns. Order and losslessness across batch boundaries, a tap that throws, strace lines identical whether made
// from event objects or from the columns, and a kernel booted with events off.

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type Stamped } from '../dist/kernel/index.js';
import { CATCH_UP_EVENTS, eachEvent, EventRing, EventStream, TAP_RING_EVENTS } from '../dist/kernel/events.js';
import { ByteLines } from '../dist/kernel/records.js';
import { Strace } from '../dist/kernel/trace.js';
import { FrameHarness, type LocalProcess } from '../dist/fuzz/harness.js';

/** Emits `n` reap events (an object kind) and, between them, getpid calls in columns: enter then exit. */
function emitMixed(s: EventStream, n: number): void {
  const payload = new Uint8Array(8);
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) s.emit({ kind: 'reap', pid: 7, by: i });
    else if (i % 3 === 1) s.sysEnter(7, 0, [], 0, 1);
    else s.sysExit(7, 0, 7, 0, 0, 10, s.next - 1, payload, -1, 2);
  }
}

const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

/** The `code` of what `f` throws (undefined if it does not throw). */
function codeOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e: unknown) {
    return (e as { code?: unknown }).code;
  }
  return undefined;
}

const microtask = (): Promise<void> => new Promise((resolve) => queueMicrotask(resolve));

describe('EventStream.tap', () => {
  it('gets every event once, in id order, in batches no bigger than the ring, even when the ring wraps many times', () => {
    const s = new EventStream(16);
    const batches: [number, number][] = [];
    const ids: number[] = [];
    const untap = s.tap((ring, from, to) => {
      batches.push([from, to]);
      for (let id = from; id < to; id++) ids.push(ring.event(id).id);
    });
    emitMixed(s, 100); // synchronously: no microtask runs, so the ring forces the batches
    untap(); // hands over what is pending
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const [from, to] of batches) expect(to - from).toBeLessThanOrEqual(16);
    for (let i = 1; i < batches.length; i++) expect(batches[i]![0]).toBe(batches[i - 1]![1]);
    expect(s.active).toBe(false);
  });

  it('loses nothing while the ring grows for a reader that subscribes and shrinks when it leaves', async () => {
    const s = new EventStream(4096);
    const ids: number[] = [];
    const untap = s.tap((ring, from, to) => {
      for (let id = from; id < to; id++) ids.push(ring.event(id).id);
    });
    emitMixed(s, 1500); // more than a tap-only ring holds: it hands batches over as it wraps
    const reader = s.subscribe({ kind: 'reap' });
    emitMixed(s, 3); // a reap (id 1501), then a call
    expect(((await reader.next()).value as Stamped).id).toBe(1501);
    await reader.return!();
    emitMixed(s, 10);
    untap();
    expect(ids).toEqual(Array.from({ length: 1513 }, (_, i) => i + 1));
  });

  it('runs after the emitting code, not inside it: one batch per turn of the microtask queue', async () => {
    const s = new EventStream(1024);
    const batches: number[] = [];
    const untap = s.tap((_ring, from, to) => batches.push(to - from));
    emitMixed(s, 10);
    expect(batches).toEqual([]);
    await microtask();
    expect(batches).toEqual([10]);
    emitMixed(s, 5);
    await microtask();
    expect(batches).toEqual([10, 5]);
    untap();
  });

  it('when the ring must reuse a slot a tap has not had, the tap gets the oldest few events, not all of them', () => {
    const s = new EventStream();
    const batches: number[] = [];
    const ids: number[] = [];
    const untap = s.tap((_ring, from, to) => {
      batches.push(to - from);
      for (let id = from; id < to; id++) ids.push(id);
    });
    emitMixed(s, TAP_RING_EVENTS * 3); // synchronously: only a full ring makes the tap run
    expect(batches.length).toBeGreaterThan(1);
    for (const n of batches) expect(n).toBeLessThanOrEqual(CATCH_UP_EVENTS);
    untap();
    expect(ids).toEqual(Array.from({ length: TAP_RING_EVENTS * 3 }, (_, i) => i + 1));
  });

  it('drainSome hands each tap at most that many events, oldest first, and says whether any tap is behind', () => {
    const s = new EventStream(64);
    const a: number[] = [];
    const b: number[] = [];
    const untapA = s.tap((_ring, from, to) => {
      for (let id = from; id < to; id++) a.push(id);
    });
    emitMixed(s, 3);
    const untapB = s.tap((_ring, from, to) => {
      for (let id = from; id < to; id++) b.push(id);
    });
    emitMixed(s, 4); // ids 4..7
    expect(s.tapsBehind).toBe(true);
    expect(s.drainSome(2)).toBe(true);
    expect(a).toEqual([1, 2]);
    expect(b).toEqual([4, 5]);
    expect(s.drainSome(3)).toBe(true); // b has all it will get; a has not
    expect(a).toEqual([1, 2, 3, 4, 5]);
    expect(b).toEqual([4, 5, 6, 7]);
    expect(s.drainSome(100)).toBe(false);
    expect(s.tapsBehind).toBe(false);
    expect(a).toEqual([1, 2, 3, 4, 5, 6, 7]);
    untapA();
    untapB();
  });

  it('a ring holds a power of two of events, so that a slot is a mask of the id', () => {
    expect(new EventRing(8).capacity).toBe(8);
    for (const bad of [0, 1, 3, 1000, 1.5, -4, 2 ** 25]) expect(() => new EventRing(bad)).toThrow(RangeError);
  });

  it('builds the same event objects a listener gets', () => {
    const s = new EventStream(64);
    const heard: Stamped[] = [];
    const tapped: Stamped[] = [];
    const off = s.on((e) => heard.push(e));
    const untap = s.tap(eachEvent((e) => tapped.push(e)));
    s.sysEnter(3, 41, [1, new Uint8Array([104, 105])], 2, 5);
    s.sysExit(3, 41, 2, 0, 0, 1500, s.next - 1, new Uint8Array([9, 9, 9]), 2, 6);
    s.emit({ kind: 'signal', pid: 3, sig: 15, from: 0, action: 'term' });
    untap();
    off();
    expect(tapped).toEqual(heard);
    expect(tapped[0]).toMatchObject({ kind: 'sys_enter', pid: 3, nr: 41, name: 'write', args: [1, new Uint8Array([104, 105])], id: 1, cause: 0 });
    expect(tapped[1]).toMatchObject({ kind: 'sys_exit', result: 2, errno: 0, durationNs: 1500, enter: 1, data: new Uint8Array([9, 9]) });
  });

  it('a tap that throws is detached and reported; the stream and the other taps go on', () => {
    const s = new EventStream(8);
    const errors: Error[] = [];
    let good = 0;
    let bad = 0;
    const untapBad = s.tap(() => {
      bad++;
      throw new Error('broken sink');
    }, (e) => errors.push(e));
    const untapGood = s.tap((_ring, from, to) => {
      good += to - from;
    });
    expect(() => emitMixed(s, 40)).not.toThrow();
    untapGood();
    untapBad(); // already detached: nothing happens
    expect(bad).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['broken sink']);
    expect(good).toBe(40);
    expect(s.active).toBe(false);
  });
});

describe('strace from the columns', () => {
  let h: FrameHarness;
  beforeAll(async () => {
    h = await FrameHarness.boot();
  });
  afterAll(() => h.shutdown());

  it('a tap prints exactly the lines a listener feeding event objects prints', async () => {
    const fromObjects: string[] = [];
    const fromColumns: string[] = [];
    const a = new Strace((l) => fromObjects.push(l), null, 'kernel');
    const b = new Strace((l) => fromColumns.push(l), null, 'kernel');
    const off = h.kernel.stream.on((e) => a.feed(e));
    const untap = h.kernel.stream.tap(b.consume);
    const p: LocalProcess = h.attach();
    p.call('sched_yield');
    const pr = p.call('pipe');
    if (pr.kind !== 'reply') throw new Error('pipe failed');
    p.call('write', pr.ret1, 'x'.repeat(100));
    p.call('read', pr.ret0, 4096);
    p.call('clock_gettime', 1);
    p.call('getrusage', 0);
    p.call('close', 99);
    p.frame({ nr: 4, slots: [1, 2, 3] });
    const child = h.attach({ stdio: { share: p } });
    child.call('sched_yield');
    expect(child.call('read', pr.ret0, 8).kind).toBe('parked');
    p.call('write', pr.ret1, 'hi');
    await child.settle();
    p.call('exit', 0);
    child.kill();
    untap();
    off();
    expect(fromColumns.length).toBeGreaterThan(10);
    expect(fromColumns).toEqual(fromObjects);
  });

  it('lines written as bytes (ByteLines) are the string lines, each ended by a newline', () => {
    const strings: string[] = [];
    const chunks: Uint8Array[] = [];
    const a = new Strace((l) => strings.push(l), null, 'kernel');
    const out = new ByteLines((chunk) => chunks.push(chunk.slice()));
    const b = new Strace(out, null, 'kernel');
    const untapA = h.kernel.stream.tap(a.consume);
    const untapB = h.kernel.stream.tap(b.consume);
    const p: LocalProcess = h.attach();
    p.call('sched_yield');
    const pr = p.call('pipe');
    if (pr.kind !== 'reply') throw new Error('pipe failed');
    p.call('write', pr.ret1, 'caf\u00e9 \x00\x01 "quoted"\n');
    p.call('read', pr.ret0, 4096);
    p.call('close', 99);
    p.call('clock_gettime', 1);
    p.call('exit', 0);
    untapA();
    untapB();
    out.flush();
    expect(strings.length).toBeGreaterThan(5);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(strings.map((l) => `${l}\n`).join(''));
  });

  it('a sys_exit keeps the data its reply carried, though the process writes its next request over the channel', async () => {
    const k = await Kernel.boot({ logLevel: 'silent', warmWorkers: 1 });
    try {
      const reads: string[] = [];
      const off = k.stream.on((e) => {
        if (e.kind === 'sys_exit' && e.name === 'read' && e.data !== null) reads.push(Buffer.from(e.data).toString('latin1'));
      });
      // upper.js writes each chunk it reads at once, in upper case: the write's payload lands where the read's
      // answer was, as soon as the process has that answer.
      const h = k.spawn(example('stages/upper.js'), [], { stdin: 'pipe', stdout: 'pipe' });
      let echoed = '';
      h.stdout!.on('data', (c: Buffer) => (echoed += c.toString('latin1')));
      h.stdin!.end('first line\nsecond\n');
      expect((await h.wait()).code).toBe(0);
      off();
      expect(echoed).toBe('FIRST LINE\nSECOND\n');
      expect(reads.join('')).toBe('first line\nsecond\n');
    } finally {
      await k.shutdown();
    }
  });

  it('lines keep their own pid when many processes make the same calls (the line starts kept per call and pid)', () => {
    const s = new EventStream(64);
    const lines: string[] = [];
    const strace = new Strace((l) => lines.push(l), null, 'kernel');
    const untap = s.tap(strace.consume);
    const payload = new Uint8Array(8);
    // 1, 17, 33 and 49 share a place in a cache of 16; 2 does not.
    const pids = [1, 17, 33, 1, 49, 2, 17, 1];
    for (const pid of pids) {
      s.sysEnter(pid, 4, [], 0, 1); // getpid()
      s.sysExit(pid, 4, pid, 0, 0, 0, s.next - 1, payload, -1, 1);
      s.sysEnter(pid, 42, [pid + 2], 1, 1); // close(fd)
      s.sysExit(pid, 42, -1, 0, 9, 0, s.next - 1, payload, -1, 1);
    }
    untap();
    expect(lines).toEqual(pids.flatMap((pid) => [
      `[pid ${pid}] getpid() = ${pid} <0.000 ms>`,
      `[pid ${pid}] close(${pid + 2}) = -1 EBADF (Bad file descriptor) <0.000 ms>`,
    ]));
  });

  it('a process that dies inside a parked call prints <unfinished ...> once', () => {
    const lines: string[] = [];
    const strace = new Strace((l) => lines.push(l), null, 'kernel');
    const base = { ts: 0, cause: 0 };
    strace.feed({ ...base, id: 1, kind: 'sys_enter', pid: 5, nr: 40, name: 'read', args: [3, 8] });
    strace.feed({ ...base, id: 2, kind: 'exit', pid: 5, code: null, signal: 9, how: 'crash' });
    expect(lines).toEqual(['[pid 5] read(3, 8 <unfinished ...>', '[pid 5] +++ killed by SIGKILL (its worker crashed) +++']);
  });
});

describe('a kernel booted with events off', () => {
  it('runs programs, and refuses subscribers with ERR_EVENTS_OFF', async () => {
    const k = await Kernel.boot({ events: false, logLevel: 'silent', warmWorkers: 1 });
    try {
      expect(codeOf(() => k.events())).toBe('ERR_EVENTS_OFF');
      expect(codeOf(() => k.stream.on(() => {}))).toBe('ERR_EVENTS_OFF');
      expect(codeOf(() => k.stream.tap(() => {}))).toBe('ERR_EVENTS_OFF');
      expect(k.stream.active).toBe(false);
      const r = await k.run(example('hello.js'));
      expect(r.code).toBe(0);
    } finally {
      await k.shutdown();
    }
  });
});
