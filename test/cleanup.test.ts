// The resource orchestrator: however a process ends, what it still holds is released in exact reverse order of
// acquisition, every step is reported as a 'cleanup' event, and nothing of the process is left in the table.
// Whole-system checks through real workers first, then ResourceStack on its own.

import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type ProcessHandle, type Stamped } from '../dist/kernel/index.js';
import { ResourceStack, type CleanupStep } from '../dist/kernel/orchestrator.js';
import { untilBlocked } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

type CleanupEvent = Extract<Stamped, { kind: 'cleanup' }>;
type ExitEvent = Extract<Stamped, { kind: 'exit' }>;

interface Trace {
  /** The process's live resources at the moment it ended, oldest first, read from the kernel. */
  heldAtExit: { kind: string; label: string }[];
  exit: ExitEvent | undefined;
  cleanup: CleanupEvent[];
  reapId: number | undefined;
}

/** Records what the kernel reports about one process's end. Call `follow(pid)` right after spawning it. */
function tracer(k: Kernel): { trace: Trace; follow(pid: number): void; stop(): void } {
  let pid = -1;
  const trace: Trace = { heldAtExit: [], exit: undefined, cleanup: [], reapId: undefined };
  const stop = k.stream.on((e) => {
    if (e.pid !== pid) return;
    if (e.kind === 'exit') {
      // Events are synchronous: the 'exit' event comes after the process ended and before anything is released.
      trace.exit = e;
      trace.heldAtExit = (k.lookup(pid)?.resources.live() ?? []).map((r) => ({ kind: r.kind, label: r.label }));
    }
    if (e.kind === 'cleanup') trace.cleanup.push(e);
    if (e.kind === 'reap') trace.reapId = e.id;
  });
  return { trace, follow: (p) => (pid = p), stop: () => void stop() };
}

/** The release order a holder.js process must show: its child, fds 2, 1, 0, then its worker. */
const HOLDER_RELEASE = ['child', 'fd 2', 'fd 1', 'fd 0', 'worker'];
const BUSY_RELEASE = ['fd 2', 'fd 1', 'fd 0', 'worker'];

function expectReverseRelease(k: Kernel, pid: number, t: Trace, expected: readonly string[]): void {
  expect(t.exit, 'an exit event').toBeDefined();
  const labels = t.cleanup.map((c) => c.label);
  expect(labels).toEqual(t.heldAtExit.map((r) => r.label).reverse());
  const short = t.cleanup.map((c) => (c.resource === 'fd' ? c.label.slice(0, 4) : c.resource));
  expect(short).toEqual(expected);
  expect(t.cleanup.map((c) => c.order)).toEqual(expected.map((_, i) => i + 1));
  expect(t.cleanup.every((c) => c.ok && c.error === undefined)).toBe(true);
  // All of it happens between the exit and the reap.
  expect(t.cleanup.every((c) => c.id > t.exit!.id && (t.reapId === undefined || c.id < t.reapId))).toBe(true);
  expect(k.ps().some((p) => p.pid === pid)).toBe(false);
}


function untilOutput(stream: Readable | null, needle: string): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    if (stream === null) return reject(new Error('expected a piped stream'));
    stream.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      if (text.includes(needle)) resolve(text);
    });
    stream.on('end', () => reject(new Error(`stream ended without '${needle}': ${text}`)));
  });
}

function drain(h: ProcessHandle): void {
  h.stdout?.resume();
  h.stderr?.resume();
}

describe('cleanup on every kind of exit', () => {
  let k: Kernel;
  beforeAll(async () => {
    k = await Kernel.boot({ logLevel: 'silent' });
  });
  afterEach(async () => {
    // The holders' children outlive them as orphans; end them so that each test starts from an empty table.
    const left = k.ps().filter((p) => p.pid !== 1 && p.exit === null).map((p) => k.lookup(p.pid)!);
    const ended = left.map((p) => k.exited(p));
    for (const p of left) k.kill(p.pid, 'SIGKILL');
    await Promise.all(ended);
  });
  afterAll(async () => {
    expect(k.bugs).toBe(0);
    await k.shutdown();
  });

  /** Spawns holder.js in a mode, lets `end` finish it off (or not), and checks the release order. */
  async function holder(mode: string, end?: (h: ProcessHandle) => Promise<void>): Promise<{ trace: Trace; h: ProcessHandle }> {
    const t = tracer(k);
    try {
      const h = k.spawn(fixture('holder.js'), [mode], { stdin: 'ignore' });
      t.follow(h.pid);
      drain(h);
      if (end !== undefined) await end(h);
      await h.wait();
      expectReverseRelease(k, h.pid, t.trace, HOLDER_RELEASE);
      return { trace: t.trace, h };
    } finally {
      t.stop();
    }
  }

  const sleeping = async (h: ProcessHandle): Promise<void> => untilBlocked(k, h.pid, /nanosleep/);

  it('a return from main releases everything in reverse order (a timer released early is skipped)', async () => {
    const { trace, h } = await holder('return');
    expect(await h.wait()).toMatchObject({ code: 0 });
    expect(trace.exit).toMatchObject({ how: 'exit', code: 0 });
  });

  it('exit() called deep in the stack releases everything in reverse order', async () => {
    const { trace, h } = await holder('exit-deep');
    expect(await h.wait()).toMatchObject({ code: 3 });
    expect(trace.exit).toMatchObject({ how: 'exit', code: 3 });
  });

  it('an uncaught throw releases everything in reverse order', async () => {
    const { trace, h } = await holder('throw');
    expect(await h.wait()).toMatchObject({ code: 1 });
    expect(trace.exit).toMatchObject({ how: 'exit', code: 1 });
  });

  it('SIGKILL during a sleep releases everything in reverse order', async () => {
    const { trace } = await holder('sleep', async (h) => {
      await sleeping(h);
      h.kill('SIGKILL');
    });
    expect(trace.exit).toMatchObject({ how: 'signal', signal: 9 });
  });

  it("SIGTERM's default action releases everything in reverse order", async () => {
    const { trace } = await holder('sleep', async (h) => {
      await sleeping(h);
      h.kill('SIGTERM');
    });
    expect(trace.exit).toMatchObject({ how: 'signal', signal: 15 });
  });

  it('SIGKILL during a busy loop with no syscalls terminates its worker thread and releases in reverse order', async () => {
    const t = tracer(k);
    try {
      const h = k.spawn(fixture('busy.js'), [], { stdin: 'ignore' });
      t.follow(h.pid);
      await untilOutput(h.stdout, 'ready');
      // Reaching into the host's pool is the only way to see a thread end; the shape is piscina's public `threads`.
      const threads = (k as unknown as { host: { pool: { threads: Worker[] } } }).host.pool.threads;
      expect(threads.length).toBeGreaterThan(0);
      const aThreadExited = Promise.race(threads.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve()))));
      h.kill('SIGKILL');
      expect(await h.wait()).toEqual({ code: null, signal: 9, signalName: 'SIGKILL' });
      await aThreadExited;
      expectReverseRelease(k, h.pid, t.trace, BUSY_RELEASE);
      expect(t.trace.exit).toMatchObject({ how: 'signal', signal: 9 });
    } finally {
      t.stop();
    }
  });

  // The worker dies under the live process: an unhandled promise rejection is fatal to a Node worker thread by
  // default, and it comes while the process is parked in an async sleep.
  it('a worker crash releases everything in reverse order', async () => {
    const { trace } = await holder('crash');
    expect(trace.exit).toMatchObject({ how: 'crash' });
    expect(trace.exit?.signal).not.toBeNull();
  });

  // Known bug (reported): reap does not release the parent's 'child' resource, so a parent that spawns and reaps
  // children for ever grows its resource stack for ever, and at exit "releases" children long gone.
  it('a child reaped by waitpid is no longer among its parent\'s live resources', async () => {
    const h = k.spawn(fixture('reaper.js'), [], { stdin: 'ignore' });
    drain(h);
    await untilBlocked(k, h.pid, /nanosleep/);
    const held = k.lookup(h.pid)!.resources.live().map((r) => r.kind);
    h.kill('SIGKILL');
    await h.wait();
    expect(held).toEqual(['worker', 'fd', 'fd', 'fd', 'timer']);
  });

  // Exhausting the worker's heap is the other way to crash it; a kernel with a small per-process heap limit makes
  // that quick.
  it('a worker that runs out of heap is reported as a crash with SIGKILL', async () => {
    const small = await Kernel.boot({ heapMb: 32, warmWorkers: 1, logLevel: 'silent' });
    const t = tracer(small);
    try {
      const h = small.spawn(fixture('oom.js'), [], { stdin: 'ignore' });
      t.follow(h.pid);
      drain(h);
      expect(await h.wait()).toEqual({ code: null, signal: 9, signalName: 'SIGKILL' });
      expectReverseRelease(small, h.pid, t.trace, BUSY_RELEASE);
      expect(t.trace.exit).toMatchObject({ how: 'crash' });
    } finally {
      t.stop();
      await small.shutdown();
    }
  }, 60_000);
});

describe('cleanup at kernel shutdown', () => {
  it('a process still sleeping at shutdown releases everything in reverse order', async () => {
    const k = await Kernel.boot({ shutdownGraceMs: 200, logLevel: 'silent' });
    const t = tracer(k);
    try {
      const h = k.spawn(fixture('holder.js'), ['sleep'], { stdin: 'ignore' });
      t.follow(h.pid);
      drain(h);
      await untilBlocked(k, h.pid, /nanosleep/);
      await k.shutdown();
      expect(await h.wait()).toEqual({ code: null, signal: 15, signalName: 'SIGTERM' });
      expectReverseRelease(k, h.pid, t.trace, HOLDER_RELEASE);
      expect(k.ps().map((p) => p.pid)).toEqual([1]);
      expect(k.bugs).toBe(0);
    } finally {
      t.stop();
    }
  });
});

describe('ResourceStack', () => {
  /** A stack plus a log of which releases ran, in order. */
  function stackWithLog(): { stack: ResourceStack; log: string[]; steps: CleanupStep[] } {
    return { stack: new ResourceStack(), log: [], steps: [] };
  }

  it('releaseAll undoes resources newest first, numbering the steps from 1', () => {
    const { stack, log, steps } = stackWithLog();
    for (const name of ['a', 'b', 'c']) stack.acquire('fd', name, () => log.push(name));
    stack.releaseAll((s) => steps.push(s));
    expect(log).toEqual(['c', 'b', 'a']);
    expect(steps.map((s) => [s.resource.label, s.order, s.error])).toEqual([['c', 1, null], ['b', 2, null], ['a', 3, null]]);
    expect(stack.live()).toEqual([]);
    expect(stack.stats).toMatchObject({ acquired: 3, releasedEarly: 0, releasedAtExit: 3, failed: 0 });
  });

  it('a resource released early is released once, then skipped by releaseAll', () => {
    const { stack, log, steps } = stackWithLog();
    const [, b] = ['a', 'b', 'c'].map((name) => stack.acquire('timer', name, () => log.push(name)));
    stack.release(b!);
    stack.release(b!);
    expect(log).toEqual(['b']);
    expect(stack.live().map((r) => r.label)).toEqual(['a', 'c']);
    stack.releaseAll((s) => steps.push(s));
    expect(log).toEqual(['b', 'c', 'a']);
    expect(steps.map((s) => s.order)).toEqual([1, 2]);
    expect(stack.stats).toMatchObject({ acquired: 3, releasedEarly: 1, releasedAtExit: 2, failed: 0 });
  });

  it('a release that throws is reported and counted in stats.failed, and the others still run', () => {
    const { stack, log, steps } = stackWithLog();
    stack.acquire('fd', 'a', () => log.push('a'));
    stack.acquire('child', 'b', () => {
      log.push('b');
      throw new Error('b would not let go');
    });
    stack.acquire('worker', 'c', () => log.push('c'));
    stack.releaseAll((s) => steps.push(s));
    expect(log).toEqual(['c', 'b', 'a']);
    expect(steps.map((s) => s.error === null)).toEqual([true, false, true]);
    expect((steps[1]!.error as Error).message).toBe('b would not let go');
    expect(stack.stats).toMatchObject({ releasedAtExit: 2, failed: 1 });
  });

  it('a resource acquired after releaseAll is released at once, and releaseAll runs only once', () => {
    const { stack, log, steps } = stackWithLog();
    stack.acquire('fd', 'before', () => log.push('before'));
    stack.releaseAll((s) => steps.push(s));
    const late = stack.acquire('fd', 'late', () => log.push('late'));
    expect(log).toEqual(['before', 'late']);
    expect(late.live).toBe(false);
    expect(stack.live()).toEqual([]);
    stack.releaseAll((s) => steps.push(s));
    expect(steps).toHaveLength(1);
    expect(stack.stats.acquired).toBe(2);
  });

  it('for any sequence of acquires and early releases, releaseAll releases exactly the live ones, newest first', () => {
    const op = fc.oneof(
      { arbitrary: fc.constant({ op: 'acquire' as const }), weight: 3 },
      { arbitrary: fc.nat().map((n) => ({ op: 'release' as const, n })), weight: 2 },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const stack = new ResourceStack();
        const released: number[] = [];
        const handles: ReturnType<ResourceStack['acquire']>[] = [];
        const liveModel: number[] = [];
        for (const o of ops) {
          if (o.op === 'acquire') {
            const id = handles.length;
            handles.push(stack.acquire('fd', `r${id}`, () => released.push(id)));
            liveModel.push(id);
          } else if (handles.length > 0) {
            const id = o.n % handles.length;
            stack.release(handles[id]!);
            const at = liveModel.indexOf(id);
            if (at >= 0) liveModel.splice(at, 1);
          }
        }
        const early = released.length;
        const orders: number[] = [];
        stack.releaseAll((s) => orders.push(s.order));
        expect(released.slice(early)).toEqual([...liveModel].reverse());
        expect(orders).toEqual(liveModel.map((_, i) => i + 1));
        // Every resource was released exactly once, early or at the end.
        expect([...released].sort((a, b) => a - b)).toEqual(handles.map((_, i) => i));
      }),
      { numRuns: 300 },
    );
  });
});
