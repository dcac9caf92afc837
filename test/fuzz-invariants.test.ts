// The fuzzers' invariant checker (fuzz/invariants.ts): silent on a healthy kernel, and each check fires when the
// state it guards is broken. The breakage is done by hand on a throwaway kernel, as a bug would leave it.

import { afterEach, describe, expect, it } from 'vitest';
import { baseline, checkInvariants, checkQuiescent } from '../dist/fuzz/invariants.js';
import { FrameHarness, type LocalProcess } from '../dist/fuzz/harness.js';

let h: FrameHarness | null = null;

afterEach(async () => {
  await h?.shutdown();
  h = null;
});

async function boot(): Promise<FrameHarness> {
  h = await FrameHarness.boot({ mem: 1024 * 1024 });
  return h;
}

/** A harness process past its first call (so it holds a virtual CPU), optionally a child of another. */
function started(hh: FrameHarness, parent?: LocalProcess): LocalProcess {
  const p = hh.attach(parent === undefined ? {} : { parent, stdio: { share: parent } });
  expect(p.call('getpid')).toMatchObject({ kind: 'reply', errno: 0 });
  return p;
}

describe('checkInvariants', () => {
  it('finds nothing wrong with processes that are running, blocked, zombies, or hold memory', async () => {
    const hh = await boot();
    const parent = started(hh);
    const child = started(hh, parent);
    const sleeper = started(hh);
    expect(parent.call('mmap', 10_000)).toMatchObject({ kind: 'reply', errno: 0 });
    expect(sleeper.call('nanosleep', 100, 0).kind).toBe('parked');
    expect(child.call('exit', 3).kind).toBe('dead');
    expect(hh.kernel.ps().find((e) => e.pid === child.pid)?.state).toBe('zombie');
    expect(checkInvariants(hh.kernel)).toEqual([]);
  });

  it('reports an open file whose reference count disagrees with the descriptors that refer to it', async () => {
    const hh = await boot();
    const p = started(hh);
    p.fds()[0]![1].refs++;
    expect(checkInvariants(hh.kernel)).toEqual([expect.stringMatching(/open file console input has refs 2, but 1 descriptors refer to it/)]);
  });

  it('reports a child its parent does not list, and a running process that holds no CPU', async () => {
    const hh = await boot();
    const parent = started(hh);
    const child = started(hh, parent);
    parent.proc.children.delete(child.proc);
    // Only the scheduler sets an entity's CPU (a getter over its record): forge it with an own property.
    Object.defineProperty(child.proc.sched, 'cpu', { value: -1 });
    const problems = checkInvariants(hh.kernel);
    expect(problems).toContainEqual(expect.stringMatching(`pid ${child.pid} is listed as a child by 0 processes`));
    expect(problems).toContainEqual(expect.stringMatching(`pid ${child.pid} is running but holds no CPU`));
  });

  it('reports memory charged to a process that its mappings do not account for', async () => {
    const hh = await boot();
    const p = started(hh);
    expect(p.call('mmap', 4096)).toMatchObject({ kind: 'reply', errno: 0 });
    p.proc.memBytes += 16;
    expect(checkInvariants(hh.kernel)).toContainEqual(expect.stringMatching(`pid ${p.pid} is charged 4112 bytes, its mappings total 4096`));
  });
});

describe('checkQuiescent', () => {
  it('finds nothing left once every process has been killed', async () => {
    const hh = await boot();
    const base = baseline(hh.kernel);
    const parent = started(hh);
    const child = started(hh, parent);
    expect(parent.call('mmap', 50_000)).toMatchObject({ kind: 'reply', errno: 0 });
    const files = [...parent.fds(), ...child.fds()].map(([, f]) => f);
    child.kill();
    parent.kill();
    expect(checkQuiescent(hh.kernel, base, files)).toEqual([]);
  });

  it('reports a process still alive and an open file still referenced', async () => {
    const hh = await boot();
    const base = baseline(hh.kernel);
    const p = started(hh);
    const files = p.fds().map(([, f]) => f);
    const problems = checkQuiescent(hh.kernel, base, files);
    expect(problems).toContainEqual(`processes left: ${p.pid} (running)`);
    expect(problems).toContainEqual('open file console input still has 1 references');
  });
});
