// Memory through real workers: mmap/munmap, RLIMIT_AS, the OOM killer's policy, pressure events, memory returned
// on every kind of exit, and isolation of what a process can reach.

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type ProcessHandle, type Stamped } from '../dist/kernel/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/mem/${name}`, import.meta.url));
const KiB = 1024;

/** Resolves with the first stdout line of a process (and keeps draining the rest). */
function firstLine(h: ProcessHandle): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    h.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    h.stdout!.on('end', () => reject(new Error(`no line from pid ${h.pid}`)));
  });
}

describe('mmap and munmap', () => {
  let k: Kernel;
  beforeAll(async () => {
    k = await Kernel.boot({ mem: '1M', logLevel: 'silent' });
  });
  afterAll(() => k.shutdown());

  it('a mapping is a view of a buffer of its own: nothing beyond it is reachable, and its constructors are the sandbox\'s', async () => {
    const r = await k.run(fixture('isolation.js'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      aBuffer: 1000, bBuffer: 3000, distinct: true, bUntouched: true, widen: 'RangeError', hostProcessVisible: 'undefined',
    });
  });

  it('RLIMIT_AS: a mapping past the limit fails with ENOMEM, one under it succeeds', async () => {
    const over = await k.run(fixture('take.js'), [String(64 * KiB)], { memLimit: 32 * KiB });
    expect(JSON.parse(over.stdout)).toEqual({ ok: false, code: 'ENOMEM' });
    const under = await k.run(fixture('take.js'), [String(16 * KiB)], { memLimit: '32K' });
    expect(JSON.parse(under.stdout)).toEqual({ ok: true, length: 16 * KiB });
  });

  it('a mapping larger than all memory fails with ENOMEM and kills nobody', async () => {
    const r = await k.run(fixture('take.js'), [String(4 * 1024 * KiB)]);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, code: 'ENOMEM' });
  });

  it('an unprivileged process cannot give a child more memory or a lower oom_score_adj than its own', async () => {
    const r = await k.run(fixture('spawner.js'), [], { memLimit: 64 * KiB, oomScoreAdj: 0 });
    // The child it may spawn prints a line of its own, before or after the parent's report.
    const report = r.stdout.split('\n').find((l) => l.includes('moreMemory'));
    expect(JSON.parse(report ?? 'null')).toEqual({ moreMemory: 'EPERM', lowerOom: 'EPERM', lessMemory: 'ok' });
  });

  it('meminfo reports totals, size classes and per-process usage', async () => {
    const h = k.spawn(fixture('hog.js'), [String(100 * KiB)], { stdin: 'ignore' });
    await firstLine(h);
    const m = k.meminfo();
    expect(m.total).toBe(1024 * KiB);
    expect(m.used).toBe(100 * KiB);
    expect(m.used + m.free).toBe(m.total);
    expect(m.regions).toBe(1);
    expect(m.byProcess.find((p) => p.pid === h.pid)).toMatchObject({ bytes: 100 * KiB, proportional: 100 * KiB });
    expect(m.classes.length).toBeGreaterThan(10);
    expect(k.ps().find((p) => p.pid === h.pid)?.memBytes).toBe(100 * KiB);
    h.kill('SIGKILL');
    await h.wait();
    expect(k.meminfo()).toMatchObject({ used: 0, regions: 0 });
  });
});

describe('memory comes back on every kind of exit', () => {
  let k: Kernel;
  beforeAll(async () => {
    k = await Kernel.boot({ mem: '1M', shutdownGraceMs: 200, logLevel: 'silent' });
  });
  afterAll(() => k.shutdown());

  for (const how of ['return', 'exit', 'throw'] as const) {
    it(`after ${how}`, async () => {
      const r = await k.run(fixture('exits.js'), [how]);
      expect(r.stdout).toContain('mapped');
      expect(k.meminfo()).toMatchObject({ used: 0, regions: 0 });
    });
  }

  for (const [how, sig] of [['sleep', 'SIGKILL'], ['sleep', 'SIGTERM'], ['busy', 'SIGKILL']] as const) {
    it(`after ${sig} while ${how === 'sleep' ? 'sleeping' : 'computing without syscalls'}`, async () => {
      const h = k.spawn(fixture('exits.js'), [how], { stdin: 'ignore' });
      expect(await firstLine(h)).toBe('mapped');
      expect(k.meminfo().used).toBeGreaterThan(0);
      h.kill(sig);
      await h.wait();
      expect(k.meminfo()).toMatchObject({ used: 0, regions: 0 });
    });
  }

  it('after kernel shutdown', async () => {
    const k2 = await Kernel.boot({ mem: '1M', shutdownGraceMs: 100, logLevel: 'silent' });
    const h = k2.spawn(fixture('exits.js'), ['sleep'], { stdin: 'ignore' });
    await firstLine(h);
    await k2.shutdown();
    expect(k2.meminfo()).toMatchObject({ used: 0, regions: 0 });
  });
});

describe('shared regions', () => {
  it('a region several processes use is accounted once, charged to each, and freed when the last lets go', async () => {
    const k = await Kernel.boot({ mem: '1M', warmWorkers: 0, logLevel: 'silent' });
    try {
      const a = k.attachLocal('a');
      const b = k.attachLocal('b');
      if (typeof a === 'number' || typeof b === 'number') throw new Error('attachLocal failed');
      const r = k.memory.map(a, 100 * KiB, 'shm', 'test segment');
      if (typeof r === 'number') throw new Error(`map failed: ${r}`);
      const vb = k.memory.attach(r, b);
      expect(k.meminfo()).toMatchObject({ used: 100 * KiB, regions: 1 });
      expect(k.meminfo().byProcess.filter((p) => p.pid === a.pid || p.pid === b.pid)).toEqual([
        { pid: a.pid, bytes: 100 * KiB, proportional: 50 * KiB, limit: null },
        { pid: b.pid, bytes: 100 * KiB, proportional: 50 * KiB, limit: null },
      ]);
      // The first user's exit leaves the region to the second; the second's munmap frees it.
      k.kill(a.pid, 'SIGKILL');
      expect(k.meminfo()).toMatchObject({ used: 100 * KiB, regions: 1 });
      expect(k.memory.unmap(b, vb, 100 * KiB)).toBe(0);
      expect(k.meminfo()).toMatchObject({ used: 0, regions: 0 });
      expect(k.memory.unmap(b, vb, 100 * KiB)).toBe(-22); // EINVAL: already unmapped
    } finally {
      await k.shutdown();
    }
  });
});

describe('compaction', () => {
  it('free memory in pieces is compacted, not paid for with a process: nobody is killed', async () => {
    const k = await Kernel.boot({ mem: '1M', logLevel: 'silent' });
    const events: string[] = [];
    k.stream.on((e) => {
      if (e.kind === 'oom' || e.kind === 'mem_compact') events.push(e.kind);
    });
    try {
      // Three 300 KiB regions in a row; freeing the middle one leaves 300 KiB there and 124 KiB at the top.
      const a = k.spawn(fixture('hog.js'), [String(300 * KiB)], { stdin: 'ignore' });
      await firstLine(a);
      const b = k.spawn(fixture('hog.js'), [String(300 * KiB)], { stdin: 'ignore' });
      await firstLine(b);
      const c = k.spawn(fixture('hog.js'), [String(300 * KiB)], { stdin: 'ignore' });
      await firstLine(c);
      b.kill('SIGKILL');
      await b.wait();
      expect(k.meminfo().largestFree).toBeLessThan(400 * KiB);
      const r = await k.run(fixture('take.js'), [String(400 * KiB)]);
      expect(JSON.parse(r.stdout)).toEqual({ ok: true, length: 400 * KiB });
      expect(events).toEqual(['mem_compact']);
      expect(k.meminfo().compactions).toBe(1);
      for (const h of [a, c]) expect(k.ps().find((p) => p.pid === h.pid)).toMatchObject({ exit: null, memBytes: 300 * KiB });
      a.kill('SIGKILL');
      c.kill('SIGKILL');
      await Promise.all([a.wait(), c.wait()]);
    } finally {
      await k.shutdown();
    }
  });
});

describe('the OOM killer', () => {
  it('kills the process with the largest footprint, so that the request succeeds', async () => {
    const k = await Kernel.boot({ mem: '1M', logLevel: 'silent' });
    const ooms: Stamped[] = [];
    k.stream.on((e) => {
      if (e.kind === 'oom') ooms.push(e);
    });
    try {
      const small = k.spawn(fixture('hog.js'), [String(100 * KiB)], { stdin: 'ignore' });
      const big = k.spawn(fixture('hog.js'), [String(500 * KiB)], { stdin: 'ignore' });
      await Promise.all([firstLine(small), firstLine(big)]);
      const r = await k.run(fixture('take.js'), [String(600 * KiB)]);
      expect(JSON.parse(r.stdout)).toEqual({ ok: true, length: 600 * KiB });
      expect(await big.wait()).toMatchObject({ signalName: 'SIGKILL' });
      expect(ooms).toHaveLength(1);
      expect(ooms[0]).toMatchObject({ kind: 'oom', victim: big.pid, requested: 600 * KiB });
      const o = ooms[0] as Extract<Stamped, { kind: 'oom' }>;
      expect(o.candidates[0]).toMatchObject({ pid: big.pid, footprint: 500 * KiB });
      expect(k.ps().find((p) => p.pid === small.pid)?.state).not.toBe('zombie');
      small.kill('SIGKILL');
      await small.wait();
    } finally {
      await k.shutdown();
    }
  });

  it('follows oom_score_adj: a favoured large process is spared, -1000 is never chosen', async () => {
    const k = await Kernel.boot({ mem: '1M', logLevel: 'silent' });
    try {
      const spared = k.spawn(fixture('hog.js'), [String(500 * KiB)], { stdin: 'ignore', oomScoreAdj: -1000 });
      const chosen = k.spawn(fixture('hog.js'), [String(100 * KiB)], { stdin: 'ignore', oomScoreAdj: 500 });
      await Promise.all([firstLine(spared), firstLine(chosen)]);
      const r = await k.run(fixture('take.js'), [String(450 * KiB)]);
      expect(JSON.parse(r.stdout)).toEqual({ ok: true, length: 450 * KiB });
      expect(await chosen.wait()).toMatchObject({ signalName: 'SIGKILL' });
      // Now only the exempt process holds memory: a request that needs its memory fails instead of killing it.
      const denied = await k.run(fixture('take.js'), [String(600 * KiB)]);
      expect(JSON.parse(denied.stdout)).toEqual({ ok: false, code: 'ENOMEM' });
      expect(k.ps().find((p) => p.pid === spared.pid)).toMatchObject({ exit: null, memBytes: 500 * KiB });
      spared.kill('SIGKILL');
      await spared.wait();
    } finally {
      await k.shutdown();
    }
  });

  it('may choose the requester itself, which then dies with SIGKILL', async () => {
    const k = await Kernel.boot({ mem: '1M', logLevel: 'silent' });
    try {
      const other = k.spawn(fixture('hog.js'), [String(300 * KiB)], { stdin: 'ignore' });
      await firstLine(other);
      // It holds 600 KiB, the largest footprint, when it asks for 200 KiB more than is free: it is the victim.
      const r = await k.run(fixture('greedy.js'), [String(600 * KiB), String(200 * KiB)]);
      expect(r).toMatchObject({ code: null, signalName: 'SIGKILL', stdout: 'first mapped\n' });
      expect(k.ps().find((p) => p.pid === other.pid)).toMatchObject({ exit: null, memBytes: 300 * KiB });
      other.kill('SIGKILL');
      await other.wait();
    } finally {
      await k.shutdown();
    }
  });
});

describe('memory pressure', () => {
  it('emits an event when usage crosses each threshold, rising and falling', async () => {
    const k = await Kernel.boot({ mem: '1M', memPressure: [0.5, 0.75], logLevel: 'silent' });
    const seen: { threshold: number; rising: boolean }[] = [];
    k.stream.on((e) => {
      if (e.kind === 'mem_pressure') seen.push({ threshold: e.threshold, rising: e.rising });
    });
    try {
      const a = k.spawn(fixture('hog.js'), [String(600 * KiB)], { stdin: 'ignore' });
      await firstLine(a);
      const b = k.spawn(fixture('hog.js'), [String(200 * KiB)], { stdin: 'ignore' });
      await firstLine(b);
      a.kill('SIGKILL');
      await a.wait();
      b.kill('SIGKILL');
      await b.wait();
      expect(seen).toEqual([
        { threshold: 0.5, rising: true },
        { threshold: 0.75, rising: true },
        { threshold: 0, rising: false },
      ]);
    } finally {
      await k.shutdown();
    }
  });
});
