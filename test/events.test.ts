// The event stream: syscall enter/exit events with cause links, filtered async readers, lost counts for readers
// that fall behind, and nothing recorded when nobody listens.

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KINDS, Kernel, type Lost, type Stamped } from '../dist/kernel/index.js';
import { FrameHarness } from '../dist/fuzz/harness.js';

const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

describe('syscall events through the harness', () => {
  let h: FrameHarness;
  beforeAll(async () => {
    h = await FrameHarness.boot();
  });
  afterAll(() => h.shutdown());

  it('a read that blocks on an empty pipe: enter, park, the write that wakes it, the wake, then the exit', async () => {
    const seen: Stamped[] = [];
    const off = h.kernel.stream.on((e) => seen.push(e));
    const reader = h.attach();
    const pr = reader.call('pipe');
    if (pr.kind !== 'reply') throw new Error('pipe failed');
    const writer = h.attach({ stdio: { files: reader.fds().map(([, f]) => f) } });
    expect(reader.call('read', pr.ret0, 16).kind).toBe('parked');
    writer.call('write', pr.ret1, 'hi');
    await reader.settle();
    off();
    type Enter = Extract<Stamped, { kind: 'sys_enter' }>;
    const enterRead = seen.find((e): e is Enter => e.kind === 'sys_enter' && e.name === 'read' && e.pid === reader.pid)!;
    const enterWrite = seen.find((e) => e.kind === 'sys_enter' && e.name === 'write' && e.pid === writer.pid)!;
    const blocked = seen.find((e) => e.kind === 'proc_state' && e.pid === reader.pid && e.to === 'blocked')!;
    const wake = seen.find((e) => e.kind === 'wake' && e.pid === reader.pid)!;
    const exitRead = seen.find((e) => e.kind === 'sys_exit' && e.name === 'read' && e.pid === reader.pid)!;
    expect(enterRead.args).toEqual([pr.ret0, 16]);
    expect(blocked.cause).toBe(enterRead.id); // it parked because of its read
    expect(wake.cause).toBe(enterWrite.id); // the write woke it
    expect(exitRead.cause).toBe(wake.id);
    expect(exitRead).toMatchObject({ enter: enterRead.id, result: 2, errno: 0 });
    expect(new TextDecoder().decode((exitRead as Extract<Stamped, { kind: 'sys_exit' }>).data!)).toBe('hi');
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((a, b) => a - b));
    reader.kill();
    writer.kill();
  });

  it('a frame that fails validation has an exit with its errno and no enter', () => {
    const seen: Stamped[] = [];
    const off = h.kernel.stream.on((e) => seen.push(e));
    const p = h.attach();
    p.call('kill', -5, 0);
    off();
    expect(seen.some((e) => e.kind === 'sys_enter' && e.name === 'kill')).toBe(false);
    expect(seen.find((e) => e.kind === 'sys_exit' && e.name === 'kill')).toMatchObject({ errno: 22, enter: null });
    p.kill();
  });

  it('an async reader sees only what its filter passes, and is told how many events it lost when it falls behind', async () => {
    const stream = h.kernel.stream;
    const reader = stream.subscribe({ kind: 'sys_exit', syscall: 'getpid' });
    const p = h.attach();
    p.call('getpid');
    p.call('getppid');
    p.call('getpid');
    const a = await reader.next();
    const b = await reader.next();
    expect([a.value, b.value].map((e) => (e as Stamped).kind)).toEqual(['sys_exit', 'sys_exit']);
    expect([a.value, b.value].every((e) => (e as Extract<Stamped, { kind: 'sys_exit' }>).name === 'getpid')).toBe(true);
    await reader.return!();
    const slow = stream.subscribe();
    for (let i = 0; i < stream.capacity + 10; i++) p.call('getpid');
    const first = (await slow.next()).value as Lost;
    expect(first.kind).toBe('lost');
    expect(first.count).toBeGreaterThan(10);
    const next = (await slow.next()).value as Stamped;
    expect(next.id).toBeGreaterThan(0);
    await slow.return!();
    expect(stream.active).toBe(false);
    p.kill();
  });

  it('ipc events name their object: a pipe\'s create and destroy carry the same objectId', () => {
    const seen: Stamped[] = [];
    const off = h.kernel.stream.on((e) => seen.push(e));
    const p = h.attach();
    const pr = p.call('pipe');
    if (pr.kind !== 'reply') throw new Error('pipe failed');
    p.call('close', pr.ret0);
    p.call('close', pr.ret1);
    off();
    const ipc = seen.filter((e): e is Extract<Stamped, { kind: 'ipc' }> => e.kind === 'ipc');
    expect(ipc.map((e) => e.op)).toEqual(['create', 'destroy']);
    expect(ipc[0]!.objectId).toBe(ipc[1]!.objectId);
    expect(ipc[0]!.id).not.toBe(ipc[1]!.id);
    p.kill();
  });

  it('sys_exit carries both result slots, record results as data, and a wall-clock duration for calls that do not park', () => {
    const seen: Stamped[] = [];
    const off = h.kernel.stream.on((e) => seen.push(e));
    const p = h.attach();
    const pr = p.call('pipe');
    p.call('getrusage', 0);
    for (let i = 0; i < 50; i++) p.call('getppid');
    off();
    type Exit = Extract<Stamped, { kind: 'sys_exit' }>;
    const exits = seen.filter((e): e is Exit => e.kind === 'sys_exit');
    const pipeExit = exits.find((e) => e.name === 'pipe')!;
    expect(pr.kind === 'reply' && [pipeExit.result, pipeExit.ret1]).toEqual([pr.kind === 'reply' ? pr.ret0 : -1, pr.kind === 'reply' ? pr.ret1 : -1]);
    expect(exits.find((e) => e.name === 'getrusage')!.data!.length).toBeGreaterThan(0);
    expect(exits.filter((e) => e.name === 'getppid').some((e) => e.durationNs > 0)).toBe(true);
    p.kill();
  });

  it('with nobody listening nothing is stamped or kept', () => {
    const before = h.kernel.stream.next;
    const p = h.attach();
    for (let i = 0; i < 100; i++) p.call('getpid');
    p.kill();
    expect(h.kernel.stream.next).toBe(before);
  });
});

describe('Kernel.events()', () => {
  it('streams a real program\'s events, filtered by kind, as an async iterator', async () => {
    const k = await Kernel.boot({ logLevel: 'silent' });
    try {
      const all = k.events({ kind: ['spawn', 'exit'] });
      const h = k.spawn(example('hello.js'), [], { stdout: 'ignore' });
      await h.wait();
      const got: string[] = [];
      for await (const e of all) {
        got.push(`${e.kind}`);
        if (e.kind === 'exit') break;
      }
      expect(got).toEqual(['spawn', 'exit']);
    } finally {
      await k.shutdown();
    }
  });

  it('every event kind has a line in docs', () => {
    expect(Object.keys(EVENT_KINDS).length).toBeGreaterThan(15);
    for (const doc of Object.values(EVENT_KINDS)) expect(doc.length).toBeGreaterThan(10);
  });
});
