// Waiting in place: a process whose pipe read or write, or futex wait, must wait sleeps on the shared word itself
// for a while before the kernel parks it (userland/fastio.ts, kWaitUs in abi/layout.ts). These kernels allow a
// 20 s sleep in place, so every scenario that relies on the kernel (or the other side) ending the sleep would
// outlast its test's time limit if that did not happen.

import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel } from '../dist/kernel/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/ipc/${name}`, import.meta.url));
const LONG = 20_000_000;

const kernels: Kernel[] = [];
async function boot(opts: Parameters<typeof Kernel.boot>[0]): Promise<Kernel> {
  const k = await Kernel.boot({ logLevel: 'silent', waitInPlaceUs: LONG, ...opts });
  kernels.push(k);
  return k;
}
afterAll(() => Promise.all(kernels.map((k) => k.shutdown())));

describe('waiting in place', () => {
  it('on one CPU, a process that wants the CPU ends the wait of the one sleeping in place on it', async () => {
    const k = await boot({ cpus: 1 });
    const r = await k.run(fixture('inplace.js'), ['reclaim']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('x\n');
  }, 10_000);

  it('the last write end closing ends a read waiting in place with end of file', async () => {
    const k = await boot({});
    const r = await k.run(fixture('inplace.js'), ['eof']);
    expect(r.stdout).toBe('eof 0\n');
  }, 10_000);

  it('a caught signal ends a read waiting in place: the handler runs and the read fails with EINTR', async () => {
    const k = await boot({});
    const h = k.spawn(fixture('inplace.js'), ['signal']);
    let out = '';
    const ready = new Promise<void>((resolve) => {
      h.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) resolve();
      });
    });
    await ready;
    // Give it time to reach the wait; whether it sleeps in place or in the kernel, the signal must end it.
    await new Promise((r) => setTimeout(r, 50));
    h.kill('SIGUSR1');
    const r = await h.wait();
    expect(r.code).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(out).toContain('EINTR caught 1');
  }, 10_000);

  it('O_NONBLOCK set by another process sharing the open file is seen at once: EAGAIN, no wait', async () => {
    const k = await boot({});
    const r = await k.run(fixture('inplace.js'), ['nonblock']);
    expect(r.stdout).toBe('EAGAIN\n');
  }, 10_000);

  it('futex_wake through the kernel wakes a process sleeping in place in futex_wait', async () => {
    const k = await boot({});
    const r = await k.run(fixture('inplace.js'), ['futex']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('woken 1\n');
  }, 10_000);

  it('readInto fills the caller\'s buffer from a pipe and from stdin, and returns 0 at end of file', async () => {
    const k = await boot({});
    const r = await k.run(fixture('inplace.js'), ['readinto'], { stdin: 'typed' });
    expect(JSON.parse(r.stdout)).toEqual(['hel', 'lo', 0, 'typed']);
  }, 10_000);

  it('in deterministic mode nothing waits in place: the same seed gives the same schedule', async () => {
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const k = await boot({ deterministic: true, seed: 7 });
      // The schedule (who was picked, at what virtual runtime) and each process's own calls in order: the moment a
      // worker's boot frame arrives is real time, so calls are compared per process, not interleaved.
      const picks: string[] = [];
      const calls = new Map<number, string[]>();
      k.stream.on((e) => {
        if (e.kind === 'sched') picks.push(`${e.pid}@${e.vruntime}`);
        if (e.kind === 'sys_enter') calls.set(e.pid, [...(calls.get(e.pid) ?? []), e.name]);
      });
      const r = await k.run(fixture('inplace.js'), ['reclaim']);
      expect(r.stdout).toBe('x\n');
      runs.push(JSON.stringify({ picks, calls: [...calls] }));
    }
    expect(JSON.parse(runs[0]!).picks.length).toBeGreaterThan(2);
    expect(runs[0]).toBe(runs[1]);
  }, 10_000);
});
