// IPC between real processes on workers: the SDK's pipe fast path, a shell-style pipeline moving 64 MiB, atomic
// writes from concurrent writers, descriptor inheritance, the examples, and killing any participant at any point.

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../dist/kernel/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/ipc/${name}`, import.meta.url));
const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

/** What produce.js writes, through filter.js (+1 per byte), as consume.js sums it: FNV-1a over the bytes. */
function expectedChecksum(total: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < total; i++) {
    const b = ((i * 31 + (i >>> 8)) + 1) & 0xff;
    h = Math.imul(h ^ b, 16777619);
  }
  return h >>> 0;
}

let k: Kernel;
let baseline: number;
beforeAll(async () => {
  k = await Kernel.boot({ mem: '64M', logLevel: 'silent' });
  baseline = k.meminfo().used;
});
afterAll(() => k.shutdown());

/** Nothing is left once every process has gone: no pipe, no named object, no futex waiter, memory as at boot. */
function expectNothingLeft(): void {
  expect(k.ipcs()).toEqual({ pipes: [], shm: [], mq: [], futexWaiters: 0 });
  expect(k.meminfo().used).toBe(baseline);
  expect(k.ps().filter((p) => p.pid !== 1)).toEqual([]);
}

describe('pipes between processes', () => {
  it('producer | filter | consumer moves 64 MiB intact, through the children\'s redirected stdin and stdout', async () => {
    const total = 64 * 1024 * 1024;
    const r = await k.run(fixture('pipeline.js'), [String(total)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${total} ${expectedChecksum(total)}`);
    expectNothingLeft();
  }, 60_000);

  it('small writes keep their order and content through the fast path, with odd write sizes', async () => {
    const total = 3_000_001;
    const r = await k.run(fixture('pipeline.js'), [String(total), '777']);
    expect(r.stdout.trim()).toBe(`${total} ${expectedChecksum(total)}`);
  }, 30_000);

  it('writes of PIPE_BUF bytes from concurrent writers are never interleaved', async () => {
    const r = await k.run(fixture('atomic.js'), ['4', '300']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ total: 4 * 300 * 4096, whole: { 1: 300, 2: 300, 3: 300, 4: 300 }, mixed: 0 });
    expectNothingLeft();
  }, 30_000);

  it('spawn\'s default descriptor map passes every descriptor but the close-on-exec ones, at the same numbers', async () => {
    const r = await k.run(fixture('inherit.js'));
    const [child, parent] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(parent).toEqual({ open: { rfd: 3, wfd: 4 }, closing: { rfd: 5, wfd: 6 } });
    expect(child).toEqual({ 3: 'open', 4: 'open', 5: 'EBADF', 6: 'EBADF' });
  });

  it('killing any stage at any point ends the pipeline cleanly: EOF downstream, SIGPIPE upstream, nothing left', async () => {
    const stages = ['produce', 'filter', 'consume'] as const;
    for (let round = 0; round < 6; round++) {
      const h = k.spawn(fixture('pipeline.js'), [String(256 * 1024 * 1024)], { stdout: 'ignore', stderr: 'ignore' });
      const victim = stages[round % 3]!;
      await new Promise((r) => setTimeout(r, 20 + ((round * 37) % 120)));
      const target = k.ps().find((p) => p.ppid === h.pid && p.argv[0] === victim && p.state !== 'zombie');
      if (target !== undefined) k.kill(target.pid, 'SIGKILL');
      const status = await h.wait();
      // The parent itself never dies: it reaps whatever happened to its children.
      expect(status.signal).toBeNull();
      expectNothingLeft();
    }
  }, 60_000);
});

describe('the examples', () => {
  it('pipeline.js: three stages, upper-cased, counted', async () => {
    const r = await k.run(example('pipeline.js'), ['500']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('500 lines, 4392 bytes, last: LINE 500');
    expect(r.stdout).toContain('3 of 3 stages succeeded');
    expectNothingLeft();
  });

  it('mq.js: urgent jobs are taken before routine ones, each exactly once', async () => {
    const r = await k.run(example('mq.js'));
    expect(r.code).toBe(0);
    const taken = r.stdout.split('\n').filter((l) => l.includes(' took '));
    expect(taken).toHaveLength(12);
    const jobs = taken.map((l) => /job (\d+)/.exec(l)![1]).map(Number).sort((a, b) => a - b);
    expect(jobs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // The queue was full before the consumers started: the three urgent jobs are the first three taken.
    const firstThree = taken.slice(0, 3).map((l) => l.includes('urgent'));
    expect(firstThree.filter(Boolean).length).toBeGreaterThanOrEqual(2); // two consumers print concurrently
    expectNothingLeft();
  });

  it('futex-counter.js: two processes, one counter, no lost update under the futex mutex', async () => {
    const r = await k.run(example('futex-counter.js'), ['20000']);
    expect(r.stdout.trim()).toBe('counter = 40000 (expected 40000)');
    expect(r.code).toBe(0);
    expectNothingLeft();
  }, 30_000);
});
