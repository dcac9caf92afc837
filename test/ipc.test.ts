// IPC through the kernel's own path, driven by the frame harness (no workers): pipes, poll, shared memory, futexes
// and message queues, their errnos, and that what they hold goes when the last holder does. The SDK's fast path
// over pipe rings is exercised by test/ipc-system.test.ts with real workers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '@msgpack/msgpack';
import {
  kFutexParked,
  F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_CLOEXEC, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY,
  PIPE_BUF, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, RING_HEAD, RING_TAIL, RING_WLOCK, SIG_IGN, SIGNALS,
} from '../dist/abi/index.js';
import { FrameHarness, type LocalProcess, type Reply } from '../dist/fuzz/harness.js';
import type { OpenFile } from '../dist/kernel/fd.js';

let h: FrameHarness;
const PIPE = 64 * 1024;

beforeAll(async () => {
  h = await FrameHarness.boot({ mem: '16M' });
});
afterAll(() => h.shutdown());

function ok(r: Reply): Extract<Reply, { kind: 'reply' }> {
  if (r.kind !== 'reply') throw new Error(`expected an answer, got ${r.kind}`);
  if (r.errno !== 0) throw new Error(`expected success, got ${r.error}`);
  return r;
}

function err(r: Reply): string | null {
  if (r.kind !== 'reply') throw new Error(`expected an answer, got ${r.kind}`);
  return r.error;
}

const text = (r: Reply): string => new TextDecoder().decode(ok(r).payload);
const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

/** A second process holding the same open files at the same descriptors (as a spawned child would). */
function sharing(p: LocalProcess): LocalProcess {
  const files: (OpenFile | undefined)[] = [];
  for (const [fd, f] of p.fds()) files[fd] = f;
  return h.attach({ stdio: { files } });
}

function pipe(p: LocalProcess, flags = 0): { rfd: number; wfd: number } {
  const r = ok(flags === 0 ? p.call('pipe') : p.call('pipe2', flags));
  return { rfd: r.ret0, wfd: r.ret1 };
}

function exitAll(...ps: LocalProcess[]): void {
  for (const p of ps) if (p.alive) p.kill();
}

describe('pipes', () => {
  it('bytes written to a pipe are read back in order; the ends are one-way', () => {
    const p = h.attach();
    const { rfd, wfd } = pipe(p);
    expect(rfd).toBe(3);
    expect(wfd).toBe(4);
    expect(ok(p.call('write', wfd, 'hello ')).ret0).toBe(6);
    expect(ok(p.call('write', wfd, 'pipe')).ret0).toBe(4);
    expect(text(p.call('read', rfd, 3))).toBe('hel');
    expect(text(p.call('read', rfd, 100))).toBe('lo pipe');
    expect(err(p.call('read', wfd, 1))).toBe('EBADF');
    expect(err(p.call('write', rfd, 'x'))).toBe('EBADF');
    exitAll(p);
  });

  it('read on an empty pipe parks until another process writes, and returns what that write put in', async () => {
    const reader = h.attach();
    const { rfd, wfd } = pipe(reader);
    const writer = sharing(reader);
    expect(reader.call('read', rfd, 100).kind).toBe('parked');
    expect(reader.proc.wait?.reason).toMatch(/read from pipe/);
    expect(ok(writer.call('write', wfd, 'wake up')).ret0).toBe(7);
    expect(text(await reader.settle())).toBe('wake up');
    exitAll(reader, writer);
  });

  it('read returns 0 (end of file) once every write end is closed, in every process', async () => {
    const reader = h.attach();
    const { rfd, wfd } = pipe(reader);
    const writer = sharing(reader);
    ok(reader.call('close', wfd));
    expect(reader.call('read', rfd, 10).kind).toBe('parked'); // the writer still holds an end
    ok(writer.call('write', wfd, 'last'));
    expect(text(await reader.settle())).toBe('last');
    expect(reader.call('read', rfd, 10).kind).toBe('parked');
    writer.kill(); // its descriptors go with it
    const eof = ok(await reader.settle());
    expect(eof.replyLen).toBe(0);
    expect(ok(reader.call('read', rfd, 10)).replyLen).toBe(0);
    exitAll(reader);
  });

  it('write with no read end raises SIGPIPE (fatal by default) and fails with EPIPE when it is ignored', () => {
    const p = h.attach();
    const { rfd, wfd } = pipe(p);
    ok(p.call('close', rfd));
    expect(p.call('write', wfd, 'x').kind).toBe('dead');
    expect(p.proc.status).toEqual({ code: null, signal: SIGNALS.SIGPIPE.no });

    const q = h.attach();
    ok(q.call('sigaction', SIGNALS.SIGPIPE.no, SIG_IGN));
    const e = pipe(q);
    ok(q.call('close', e.rfd));
    expect(err(q.call('write', e.wfd, 'x'))).toBe('EPIPE');
    exitAll(q);
  });

  it('O_NONBLOCK: EAGAIN on an empty read and a full write; a long write returns what fitted', () => {
    const p = h.attach();
    const { rfd, wfd } = pipe(p, O_NONBLOCK);
    expect(err(p.call('read', rfd, 10))).toBe('EAGAIN');
    expect(ok(p.call('write', wfd, bytes(PIPE - 100, 1))).ret0).toBe(PIPE - 100);
    expect(err(p.call('write', wfd, bytes(200, 2)))).toBe('EAGAIN'); // <= PIPE_BUF: whole or not at all
    expect(ok(p.call('write', wfd, bytes(PIPE_BUF + 1, 3))).ret0).toBe(100); // > PIPE_BUF: what fits
    expect(err(p.call('write', wfd, bytes(PIPE_BUF + 1, 3)))).toBe('EAGAIN');
    exitAll(p);
  });

  it('a write of at most PIPE_BUF bytes goes in whole: on a nearly full pipe it waits, it is never split', async () => {
    const w = h.attach();
    const { rfd, wfd } = pipe(w);
    const r = sharing(w);
    ok(w.call('write', wfd, bytes(PIPE - 10, 1)));
    expect(w.call('write', wfd, bytes(PIPE_BUF, 2)).kind).toBe('parked');
    expect(ok(r.call('read', rfd, 100)).replyLen).toBe(100); // 110 free: still not enough for 4096
    expect(w.parked).toBe(true);
    let got = 0;
    while (got < PIPE - 10 - 100) got += ok(r.call('read', rfd, 65536)).replyLen;
    expect(ok(await w.settle()).ret0).toBe(PIPE_BUF);
    const rest = ok(r.call('read', rfd, 65536)).payload;
    expect(rest.length).toBe(PIPE_BUF);
    expect(rest.every((b) => b === 2)).toBe(true);
    exitAll(w, r);
  });

  it('a blocking write longer than the pipe completes in pieces as the reader drains it', async () => {
    const w = h.attach();
    const { rfd, wfd } = pipe(w);
    const r = sharing(w);
    const big = new Uint8Array(PIPE + 5000).map((_, i) => i % 251);
    // One payload is at most 64 KiB: write what a single call can carry, more than the ring holds after a prefill.
    ok(w.call('write', wfd, big.subarray(0, 5000)));
    expect(w.call('write', wfd, big.subarray(5000, 5000 + PIPE)).kind).toBe('parked');
    const got: number[] = [];
    while (got.length < PIPE + 5000) got.push(...ok(r.call('read', rfd, 65536)).payload);
    expect(ok(await w.settle()).ret0).toBe(PIPE);
    expect(Buffer.from(got).equals(Buffer.from(big.subarray(0, PIPE + 5000)))).toBe(true);
    exitAll(w, r);
  });

  it('a signal cuts a parked write short with the count it already moved', async () => {
    const w = h.attach();
    ok(w.call('sigaction', SIGNALS.SIGUSR1.no, 2));
    const { rfd, wfd } = pipe(w);
    const r = sharing(w);
    ok(w.call('write', wfd, bytes(PIPE - 1000, 1)));
    expect(w.call('write', wfd, bytes(5000, 2)).kind).toBe('parked');
    h.kernel.kill(w.pid, 'SIGUSR1');
    const cut = ok(await w.settle());
    expect(cut.ret0).toBe(1000);
    expect(cut.signals).toBe(1 << SIGNALS.SIGUSR1.no);
    expect(r.call('read', rfd, 1).kind).toBe('reply');
    exitAll(w, r);
  });

  it('dup and dup2 share the open file; the pipe stays open until the last descriptor closes', () => {
    const p = h.attach();
    const { rfd, wfd } = pipe(p);
    const d = ok(p.call('dup', wfd)).ret0;
    expect(d).toBe(5);
    ok(p.call('close', wfd));
    ok(p.call('write', d, 'via dup'));
    expect(text(p.call('read', rfd, 100))).toBe('via dup');
    expect(ok(p.call('dup2', d, 1)).ret0).toBe(1); // stdout replaced, as a shell redirects
    ok(p.call('write', 1, 'via stdout'));
    expect(text(p.call('read', rfd, 100))).toBe('via stdout');
    expect(ok(p.call('dup2', 1, 1)).ret0).toBe(1);
    expect(err(p.call('dup2', 9, 1))).toBe('EBADF');
    ok(p.call('close', d));
    ok(p.call('close', 1));
    expect(ok(p.call('read', rfd, 100)).replyLen).toBe(0);
    exitAll(p);
  });

  it('fcntl: FD_CLOEXEC belongs to the descriptor, O_NONBLOCK to the open file that dup shares', () => {
    const p = h.attach();
    const { rfd, wfd } = pipe(p, O_CLOEXEC);
    expect(ok(p.call('fcntl', rfd, F_GETFD, 0)).ret0).toBe(FD_CLOEXEC);
    const d = ok(p.call('dup', rfd)).ret0;
    expect(ok(p.call('fcntl', d, F_GETFD, 0)).ret0).toBe(0);
    ok(p.call('fcntl', rfd, F_SETFD, 0));
    expect(ok(p.call('fcntl', rfd, F_GETFD, 0)).ret0).toBe(0);
    expect(ok(p.call('fcntl', rfd, F_GETFL, 0)).ret0).toBe(O_RDONLY);
    expect(ok(p.call('fcntl', wfd, F_GETFL, 0)).ret0).toBe(O_WRONLY);
    ok(p.call('fcntl', d, F_SETFL, O_NONBLOCK));
    expect(ok(p.call('fcntl', rfd, F_GETFL, 0)).ret0).toBe(O_RDONLY | O_NONBLOCK);
    expect(err(p.call('read', rfd, 1))).toBe('EAGAIN');
    expect(err(p.call('fcntl', 99, F_GETFD, 0))).toBe('EBADF');
    exitAll(p);
  });

  it('a pipe\'s ring is charged to every process holding it and comes back when the last one goes', () => {
    const base = h.kernel.meminfo().used;
    const a = h.attach();
    pipe(a);
    const b = sharing(a);
    const used = h.kernel.meminfo().used;
    expect(used).toBeGreaterThanOrEqual(base + PIPE);
    expect(a.proc.memBytes).toBeGreaterThanOrEqual(PIPE);
    expect(b.proc.memBytes).toBe(a.proc.memBytes);
    expect(h.kernel.ipcs().pipes).toHaveLength(1);
    a.kill();
    expect(h.kernel.meminfo().used).toBe(used);
    b.kill();
    expect(h.kernel.meminfo().used).toBe(base);
    expect(h.kernel.ipcs().pipes).toHaveLength(0);
  });

  it('spawn with a null descriptor map takes the default map (found by the sequence fuzzer: it threw)', () => {
    const p = h.attach();
    expect(err(p.call('spawn', { path: '/nowhere/at/all.js', fds: null } as unknown as { path: string }))).toBe('ENOENT');
    expect(h.kernel.bugs).toBe(0);
    exitAll(p);
  });

  it('RLIMIT_AS covers what a child inherits: a pipe it cannot hold fails the spawn with ENOMEM (found by the fuzzer)', () => {
    const p = h.attach();
    pipe(p);
    const hello = new URL('../examples/hello.js', import.meta.url).pathname;
    expect(err(p.call('spawn', { path: hello, memLimit: 1000 }))).toBe('ENOMEM');
    const ok2 = ok(p.call('spawn', { path: hello, memLimit: 1000, fds: [0, 1, 2] }));
    h.kernel.kill(ok2.ret0, 'SIGKILL');
    expect(h.kernel.bugs).toBe(0);
    exitAll(p);
  });

  it('pipe_ring hands over the ring; other descriptors answer ENODEV', () => {
    const p = h.attach();
    const { rfd } = pipe(p);
    const m = ok(p.call('pipe_ring', rfd));
    expect(m.ret1).toBe(O_RDONLY);
    const sab = p.proc.localGrants.shift()!;
    expect(sab.byteLength).toBe(64 + PIPE);
    expect(err(p.call('pipe_ring', 0))).toBe('ENODEV');
    expect(err(p.call('pipe_ring', 77))).toBe('EBADF');
    exitAll(p);
  });

  it('a ring whose counters a holder corrupted answers EIO to the kernel path; other pipes are untouched', () => {
    const p = h.attach();
    const bad = pipe(p);
    const good = pipe(p);
    ok(p.call('pipe_ring', bad.rfd));
    const i32 = new Int32Array(p.proc.localGrants.shift()!, 0, 16);
    i32[RING_HEAD] = 5;
    i32[RING_TAIL] = 5 + 10 * PIPE;
    expect(err(p.call('read', bad.rfd, 10))).toBe('EIO');
    expect(err(p.call('write', bad.wfd, 'x'))).toBe('EIO');
    const r = ok(p.call('poll', 0, [{ fd: bad.rfd, events: POLLIN }]));
    expect(decode(r.payload)).toEqual([POLLERR]);
    ok(p.call('write', good.wfd, 'fine'));
    expect(text(p.call('read', good.rfd, 10))).toBe('fine');
    expect(h.kernel.bugs).toBe(0);
    exitAll(p);
  });

  it('a write lock left by a process that died mid-write is freed, and a forged one is broken', () => {
    const a = h.attach();
    const { rfd, wfd } = pipe(a);
    const b = sharing(a);
    ok(b.call('pipe_ring', wfd));
    const i32 = new Int32Array(b.proc.localGrants.shift()!, 0, 16);
    Atomics.store(i32, RING_WLOCK, b.pid); // b "dies while copying"
    b.kill();
    expect(Atomics.load(i32, RING_WLOCK)).toBe(0);
    Atomics.store(i32, RING_WLOCK, 31337); // a pid that holds no end
    expect(ok(a.call('write', wfd, 'still works')).ret0).toBe(11);
    expect(text(a.call('read', rfd, 100))).toBe('still works');
    exitAll(a);
  });
});

describe('poll', () => {
  const revents = (r: Reply): number[] => decode(ok(r).payload) as number[];

  it('reports readiness of pipe ends, POLLNVAL for closed descriptors, and skips negative ones', () => {
    const p = h.attach();
    const { rfd, wfd } = pipe(p);
    const all = POLLIN | POLLOUT;
    expect(revents(p.call('poll', 0, [{ fd: rfd, events: all }, { fd: wfd, events: all }]))).toEqual([0, POLLOUT]);
    ok(p.call('write', wfd, 'x'));
    expect(revents(p.call('poll', 0, [{ fd: rfd, events: POLLIN }, { fd: 42, events: POLLIN }, { fd: -1, events: POLLIN }])))
      .toEqual([POLLIN, POLLNVAL, 0]);
    ok(p.call('close', wfd));
    expect(revents(p.call('poll', 0, [{ fd: rfd, events: POLLIN }]))).toEqual([POLLIN | POLLHUP]);
    const e = pipe(p);
    ok(p.call('close', e.rfd));
    expect(revents(p.call('poll', 0, [{ fd: e.wfd, events: 0 }]))).toEqual([POLLERR]); // reported unasked
    exitAll(p);
  });

  it('waits on several inputs at once and wakes when any becomes ready', async () => {
    const p = h.attach();
    const a = pipe(p);
    const b = pipe(p);
    const mq = ok(p.call('mq_open', O_RDWR | O_CREAT, 0o600, 4, 64, '/poll-q')).ret0;
    const other = sharing(p);
    expect(p.call('poll', -1, [{ fd: a.rfd, events: POLLIN }, { fd: b.rfd, events: POLLIN }, { fd: mq, events: POLLIN }]).kind)
      .toBe('parked');
    ok(other.call('mq_send', mq, 1, -1, 'm'));
    expect(revents(await p.settle())).toEqual([0, 0, POLLIN]);
    expect(p.call('poll', -1, [{ fd: a.rfd, events: POLLIN }, { fd: b.rfd, events: POLLIN }]).kind).toBe('parked');
    ok(other.call('write', b.wfd, 'y'));
    expect(revents(await p.settle())).toEqual([0, POLLIN]);
    ok(p.call('mq_unlink', '/poll-q'));
    exitAll(p, other);
  });

  it('a timeout answers with nothing ready', async () => {
    const p = h.attach();
    const { rfd } = pipe(p);
    expect(p.call('poll', 20, [{ fd: rfd, events: POLLIN }]).kind).toBe('parked');
    expect(revents(await p.settle())).toEqual([0]);
    exitAll(p);
  });
});

describe('shared memory', () => {
  it('two processes that open the same name map the same bytes; memory is accounted once, charged to each', () => {
    const base = h.kernel.meminfo().used;
    const a = h.attach();
    const fa = ok(a.call('shm_open', O_RDWR | O_CREAT | O_EXCL, 0o600, '/seg')).ret0;
    expect(err(a.call('fdmap', fa))).toBe('EINVAL'); // no size yet
    ok(a.call('ftruncate', fa, 8192));
    ok(a.call('ftruncate', fa, 8192)); // the size it has: a no-op
    expect(err(a.call('ftruncate', fa, 4096))).toBe('EINVAL');
    const ma = ok(a.call('fdmap', fa));
    expect(ma.ret1).toBe(O_RDWR);
    const va = new Int32Array(a.proc.localGrants.shift()!);
    const b = h.attach();
    const fb = ok(b.call('shm_open', O_RDWR, 0, '/seg')).ret0;
    ok(b.call('fdmap', fb));
    const vb = new Int32Array(b.proc.localGrants.shift()!);
    va[7] = 1234;
    expect(vb[7]).toBe(1234);
    expect(h.kernel.meminfo().used - base).toBe(8192);
    expect(a.proc.memBytes).toBe(8192);
    expect(b.proc.memBytes).toBe(8192);
    expect(ok(a.call('munmap', ma.ret0, 8192)).errno).toBe(0);
    expect(err(a.call('munmap', ma.ret0, 8192))).toBe('EINVAL'); // double munmap
    ok(a.call('shm_unlink', '/seg'));
    expect(err(a.call('shm_open', O_RDWR, 0, '/seg'))).toBe('ENOENT');
    exitAll(a);
    expect(h.kernel.meminfo().used - base).toBe(8192); // b still maps it
    b.kill();
    expect(h.kernel.meminfo().used).toBe(base);
  });

  it('a named object outlives its creator until shm_unlink, as POSIX has it', () => {
    const base = h.kernel.meminfo().used;
    const a = h.attach();
    const fd = ok(a.call('shm_open', O_RDWR | O_CREAT, 0o600, '/persist')).ret0;
    ok(a.call('ftruncate', fd, 4096));
    a.kill();
    expect(h.kernel.ipcs().shm.map((s) => s.name)).toContain('/persist');
    expect(h.kernel.meminfo().used).toBe(base + 4096);
    const b = h.attach();
    ok(b.call('shm_unlink', '/persist'));
    expect(h.kernel.meminfo().used).toBe(base);
    exitAll(b);
  });

  it('names, modes and flags are checked: ENOENT, EEXIST, EACCES, EINVAL, ENAMETOOLONG', () => {
    const p = h.attach();
    expect(err(p.call('shm_open', O_RDWR, 0, '/missing'))).toBe('ENOENT');
    ok(p.call('shm_open', O_RDWR | O_CREAT, 0o400, '/ro'));
    expect(err(p.call('shm_open', O_RDWR | O_CREAT | O_EXCL, 0o600, '/ro'))).toBe('EEXIST');
    expect(err(p.call('shm_open', O_RDWR, 0, '/ro'))).toBe('EACCES');
    const ro = ok(p.call('shm_open', O_RDONLY, 0, '/ro')).ret0;
    expect(err(p.call('ftruncate', ro, 4096))).toBe('EINVAL');
    expect(err(p.call('fdmap', ro))).toBe('EACCES');
    for (const bad of ['', '/', 'noslash', '/a/b', '/nul\0']) expect(err(p.call('shm_open', O_RDWR | O_CREAT, 0o600, bad))).toBe('EINVAL');
    expect(err(p.call('shm_open', O_RDWR | O_CREAT, 0o600, `/${'x'.repeat(256)}`))).toBe('ENAMETOOLONG');
    expect(err(p.call('fdmap', 0))).toBe('ENODEV');
    expect(err(p.call('read', ro, 4))).toBe('EINVAL');
    ok(p.call('shm_unlink', '/ro'));
    expect(err(p.call('shm_unlink', '/ro'))).toBe('ENOENT');
    exitAll(p);
  });

  it('a segment past RLIMIT_AS or past memory fails with ENOMEM', () => {
    const p = h.attach();
    const fd = ok(p.call('shm_open', O_RDWR | O_CREAT, 0o600, '/huge')).ret0;
    expect(err(p.call('ftruncate', fd, 2 ** 30))).toBe('ENOMEM');
    ok(p.call('shm_unlink', '/huge'));
    exitAll(p);
  });
});

describe('futexes', () => {
  function segment(p: LocalProcess, name: string): { addr: number; i32: Int32Array } {
    const fd = ok(p.call('shm_open', O_RDWR | O_CREAT, 0o600, name)).ret0;
    ok(p.call('ftruncate', fd, 4096));
    const addr = ok(p.call('fdmap', fd)).ret0;
    return { addr, i32: new Int32Array(p.proc.localGrants.shift()!) };
  }

  it('wait parks only while the word holds the expected value; wake wakes up to count, oldest first', async () => {
    const a = h.attach();
    const seg = segment(a, '/futex');
    const waiters = [h.attach(), h.attach(), h.attach()].map((w) => ({ w, seg: segment(w, '/futex') }));
    expect(err(a.call('futex_wait', seg.addr, 1, -1))).toBe('EAGAIN');
    for (const { w, seg: s } of waiters) expect(w.call('futex_wait', s.addr + 8, 0, -1).kind).toBe('parked');
    expect(h.kernel.ipcs().futexWaiters).toBe(3);
    // Every process mapping the segment is told how many wait in the kernel (its userland wakes call the kernel
    // only then), and the count follows the waiters out.
    const parked = (p: LocalProcess): number => p.proc.channel.i32[kFutexParked]!;
    expect([a, ...waiters.map((x) => x.w)].map(parked)).toEqual([3, 3, 3, 3]);
    expect(ok(a.call('futex_wake', seg.addr + 8, 2)).ret0).toBe(2);
    expect((await waiters[0]!.w.settle()).kind).toBe('reply');
    expect((await waiters[1]!.w.settle()).kind).toBe('reply');
    expect(waiters[2]!.w.parked).toBe(true);
    expect(ok(a.call('futex_wake', seg.addr + 8, 5)).ret0).toBe(1);
    expect(ok(await waiters[2]!.w.settle()).errno).toBe(0);
    expect(ok(a.call('futex_wake', seg.addr + 8, 5)).ret0).toBe(0);
    expect([a, ...waiters.map((x) => x.w)].map(parked)).toEqual([0, 0, 0, 0]);
    ok(a.call('shm_unlink', '/futex'));
    exitAll(a, ...waiters.map((x) => x.w));
  });

  it('a timed wait ends with ETIMEDOUT; a killed waiter leaves no waiter behind', async () => {
    const a = h.attach();
    const seg = segment(a, '/futex-t');
    expect(a.call('futex_wait', seg.addr, 0, 15).kind).toBe('parked');
    expect(err(await a.settle())).toBe('ETIMEDOUT');
    expect(err(a.call('futex_wait', seg.addr, 0, 0))).toBe('ETIMEDOUT');
    const b = h.attach();
    const sb = segment(b, '/futex-t');
    expect(b.call('futex_wait', sb.addr, 0, -1).kind).toBe('parked');
    expect(a.proc.channel.i32[kFutexParked]).toBe(1);
    b.kill();
    expect(h.kernel.ipcs().futexWaiters).toBe(0);
    expect(a.proc.channel.i32[kFutexParked]).toBe(0);
    // A process that maps the segment while someone waits there is told at once.
    expect(b.proc.alive).toBe(false);
    const c = h.attach();
    expect(a.call('futex_wait', seg.addr, 0, -1).kind).toBe('parked');
    const sc = segment(c, '/futex-t');
    expect(c.proc.channel.i32[kFutexParked]).toBe(1);
    expect(ok(c.call('futex_wake', sc.addr, 1)).ret0).toBe(1);
    ok(await a.settle());
    expect(c.proc.channel.i32[kFutexParked]).toBe(0);
    exitAll(c);
    ok(a.call('shm_unlink', '/futex-t'));
    exitAll(a);
  });

  it('an unaligned address is EINVAL, one outside every mapping EFAULT', () => {
    const a = h.attach();
    const seg = segment(a, '/futex-e');
    expect(err(a.call('futex_wait', seg.addr + 2, 0, 0))).toBe('EINVAL');
    expect(err(a.call('futex_wake', seg.addr + 4096, 1))).toBe('EFAULT');
    expect(err(a.call('futex_wait', 8, 0, 0))).toBe('EFAULT');
    ok(a.call('shm_unlink', '/futex-e'));
    exitAll(a);
  });
});

describe('message queues', () => {
  const msg = (r: Reply): [string, number] => [text(r), ok(r).ret1];

  it('receives the highest priority first, oldest first within a priority', () => {
    const p = h.attach();
    const q = ok(p.call('mq_open', O_RDWR | O_CREAT, 0o600, 8, 32, '/prio')).ret0;
    for (const [m, prio] of [['a', 1], ['b', 5], ['c', 3], ['d', 5], ['e', 0]] as const) ok(p.call('mq_send', q, prio, -1, m));
    expect(decode(ok(p.call('mq_getattr', q)).payload)).toEqual({ flags: 0, maxmsg: 8, msgsize: 32, curmsgs: 5 });
    const got = [1, 2, 3, 4, 5].map(() => msg(p.call('mq_receive', q, -1)));
    expect(got).toEqual([['b', 5], ['d', 5], ['c', 3], ['a', 1], ['e', 0]]);
    ok(p.call('mq_unlink', '/prio'));
    exitAll(p);
  });

  it('EMSGSIZE, EAGAIN under O_NONBLOCK, ETIMEDOUT for a timed call, EBADF for the wrong direction or kind', async () => {
    const p = h.attach();
    const q = ok(p.call('mq_open', O_RDWR | O_CREAT | O_NONBLOCK, 0o600, 2, 8, '/errs')).ret0;
    expect(err(p.call('mq_send', q, 0, -1, '123456789'))).toBe('EMSGSIZE');
    expect(err(p.call('mq_receive', q, -1))).toBe('EAGAIN');
    ok(p.call('mq_send', q, 0, -1, 'x'));
    ok(p.call('mq_send', q, 0, -1, 'y'));
    expect(err(p.call('mq_send', q, 0, -1, 'z'))).toBe('EAGAIN');
    const blocking = ok(p.call('mq_open', O_RDWR, 0, 0, 0, '/errs')).ret0;
    expect(p.call('mq_send', blocking, 0, 10, 'z').kind).toBe('parked');
    expect(err(await p.settle())).toBe('ETIMEDOUT');
    const wr = ok(p.call('mq_open', O_WRONLY, 0, 0, 0, '/errs')).ret0;
    expect(err(p.call('mq_receive', wr, 0))).toBe('EBADF');
    const rd = ok(p.call('mq_open', O_RDONLY, 0, 0, 0, '/errs')).ret0;
    expect(err(p.call('mq_send', rd, 0, 0, 'q'))).toBe('EBADF');
    expect(err(p.call('mq_send', 1, 0, 0, 'q'))).toBe('EBADF');
    expect(err(p.call('mq_open', O_RDWR | O_WRONLY, 0, 0, 0, '/errs'))).toBe('EINVAL');
    expect(err(p.call('mq_open', O_RDWR | O_CREAT | O_EXCL, 0o600, 0, 0, '/errs'))).toBe('EEXIST');
    expect(err(p.call('mq_open', O_RDWR | O_CREAT, 0o600, 65536, 65536, '/too-big'))).toBe('ENOMEM');
    ok(p.call('mq_unlink', '/errs'));
    exitAll(p);
  });

  it('a blocked receive is woken by a send from another process; a blocked send by a receive', async () => {
    const a = h.attach();
    const q = ok(a.call('mq_open', O_RDWR | O_CREAT, 0o600, 1, 16, '/wake')).ret0;
    const b = sharing(a);
    expect(a.call('mq_receive', q, -1).kind).toBe('parked');
    ok(b.call('mq_send', q, 7, -1, 'hi'));
    expect(msg(await a.settle())).toEqual(['hi', 7]);
    ok(b.call('mq_send', q, 1, -1, 'one'));
    expect(b.call('mq_send', q, 2, -1, 'two').kind).toBe('parked');
    expect(msg(a.call('mq_receive', q, -1))).toEqual(['one', 1]);
    expect(ok(await b.settle()).errno).toBe(0);
    expect(msg(a.call('mq_receive', q, -1))).toEqual(['two', 2]);
    ok(a.call('mq_unlink', '/wake'));
    exitAll(a, b);
  });

  it('a queue and its storage go when it is unlinked and its last descriptor closes', () => {
    const base = h.kernel.meminfo().used;
    const a = h.attach();
    const q = ok(a.call('mq_open', O_RDWR | O_CREAT, 0o600, 4, 1024, '/life')).ret0;
    expect(h.kernel.meminfo().used - base).toBe(4096);
    ok(a.call('mq_send', q, 0, -1, 'kept'));
    ok(a.call('mq_unlink', '/life'));
    expect(msg(a.call('mq_receive', q, 0))).toEqual(['kept', 0]); // still usable through the descriptor
    ok(a.call('close', q));
    expect(h.kernel.meminfo().used).toBe(base);
    expect(h.kernel.ipcs().mq).toHaveLength(0);
    exitAll(a);
  });
});
