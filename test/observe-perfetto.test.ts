// The Perfetto exporter (kernel/perfetto.ts) on real runs: the output is well-formed Chrome Trace Event JSON
// (required fields, time never going back on a track, slices nested, flows paired and bound to slices), with a
// track per virtual CPU and per process, syscalls as slices, and wake-ups as flow arrows.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Kernel, type Stamped } from '../dist/kernel/index.js';
import { CPU_TRACKS_PID, toChromeTrace, type ChromeTrace, type TraceEvent } from '../dist/kernel/perfetto.js';

const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

async function recorded(program: string, opts: Parameters<typeof Kernel.boot>[0], args: string[] = []): Promise<{ events: Stamped[]; cpus: number }> {
  const k = await Kernel.boot({ logLevel: 'silent', ...opts });
  const events: Stamped[] = [];
  const off = k.stream.on((e) => events.push(e));
  try {
    const r = await k.run(program, args);
    expect(r.code).toBe(0);
    return { events, cpus: k.sched.ncpu };
  } finally {
    off();
    await k.shutdown();
  }
}

const track = (e: TraceEvent): string => `${e.pid}/${e.tid ?? '-'}`;

/** Every structural rule a viewer relies on; returns the problems found (none for a valid trace). */
function problems(t: ChromeTrace): string[] {
  const out: string[] = [];
  const json = JSON.parse(JSON.stringify(t)) as ChromeTrace;
  if (!Array.isArray(json.traceEvents)) return ['traceEvents is not an array'];
  const last = new Map<string, number>();
  const slices = new Map<string, { ts: number; end: number }[]>();
  for (const [i, e] of json.traceEvents.entries()) {
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || typeof e.pid !== 'number') out.push(`#${i}: needs name, ph and pid`);
    if (e.ph === 'M') continue;
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) out.push(`#${i} ${e.name}: bad ts ${String(e.ts)}`);
    if (e.ph !== 'C' && typeof e.tid !== 'number') out.push(`#${i} ${e.name}: needs a tid`);
    const before = last.get(track(e));
    if (before !== undefined && e.ts! < before) out.push(`#${i} ${e.name}: ts ${e.ts} goes back on track ${track(e)} (was ${before})`);
    last.set(track(e), e.ts!);
    if (e.ph === 'X') {
      if (typeof e.dur !== 'number' || e.dur < 0) out.push(`#${i} ${e.name}: an X event needs dur >= 0`);
      const list = slices.get(track(e)) ?? [];
      list.push({ ts: e.ts!, end: e.ts! + e.dur! });
      slices.set(track(e), list);
    }
  }
  // Slices on one track are nested or disjoint, never overlapping partly.
  for (const [tr, list] of slices) {
    const open: { ts: number; end: number }[] = [];
    for (const s of list) {
      while (open.length > 0 && open[open.length - 1]!.end <= s.ts) open.pop();
      const parent = open[open.length - 1];
      if (parent !== undefined && s.end > parent.end + 1e-6) out.push(`track ${tr}: slice at ${s.ts} overlaps the one at ${parent.ts}`);
      open.push(s);
    }
  }
  // Flows: each id once as 's' and once as 'f' (bp 'e'), each inside a slice of its own track.
  const inside = (e: TraceEvent): boolean => (slices.get(track(e)) ?? []).some((s) => s.ts <= e.ts! && e.ts! < s.end);
  const flows = new Map<number, TraceEvent[]>();
  for (const e of json.traceEvents) {
    if (e.ph !== 's' && e.ph !== 'f') continue;
    if (typeof e.id !== 'number') out.push(`flow ${e.name} without an id`);
    flows.set(e.id!, [...(flows.get(e.id!) ?? []), e]);
    if (!inside(e)) out.push(`flow ${e.id} '${e.ph}' at ${e.ts} on ${track(e)} is inside no slice`);
  }
  for (const [id, pair] of flows) {
    const phases = pair.map((e) => e.ph).sort().join('');
    if (phases !== 'fs') out.push(`flow ${id} is not one 's' and one 'f': ${phases}`);
    const f = pair.find((e) => e.ph === 'f');
    if (f !== undefined && f.bp !== 'e') out.push(`flow ${id}: its 'f' should bind to the enclosing slice (bp 'e')`);
  }
  return out;
}

const named = (t: ChromeTrace, kind: string, pid: number, tid?: number): string | undefined =>
  t.traceEvents.find((e) => e.ph === 'M' && e.name === kind && e.pid === pid && (tid === undefined || e.tid === tid))?.args?.name as string | undefined;

describe('Chrome Trace Event JSON from a real run', () => {
  it('a read on an empty pipe: valid, with CPU and process tracks, and a wake arrow from the futex_wake to the read', async () => {
    const { events, cpus } = await recorded(example('teaching/pipe-read.js'), { deterministic: true, seed: 1 });
    const t = toChromeTrace(events, cpus);
    expect(problems(t)).toEqual([]);
    expect(cpus).toBe(1);
    expect(named(t, 'process_name', CPU_TRACKS_PID)).toBe('virtual CPUs');
    expect(named(t, 'thread_name', CPU_TRACKS_PID, 1)).toBe('CPU 0');
    expect(named(t, 'process_name', 2)).toBe('pipe-read.js (pid 2)');
    expect(named(t, 'process_name', 3)).toBe('pipe-read.js (pid 3)');
    const read = t.traceEvents.find((e) => e.ph === 'X' && e.pid === 2 && e.name === 'read')!;
    expect(read).toMatchObject({ cat: 'fd', tid: 2, args: { args: [3, 100], result: 2 } });
    const futexWake = t.traceEvents.find((e) => e.ph === 'X' && e.pid === 3 && e.name === 'futex_wake')!;
    const flows = t.traceEvents.filter((e) => e.ph === 's' || e.ph === 'f');
    expect(flows.map((e) => [e.ph, e.pid])).toEqual([['s', 3], ['f', 2]]);
    const [s, f] = flows as [TraceEvent, TraceEvent];
    expect(s.ts!).toBeGreaterThanOrEqual(futexWake.ts!);
    expect(s.ts!).toBeLessThan(futexWake.ts! + futexWake.dur!);
    expect(f.ts!).toBeGreaterThanOrEqual(read.ts!);
    expect(f.ts!).toBeLessThan(read.ts! + read.dur!);
    // Who ran on the CPU: both processes, each stretch saying why it ended.
    const runs = t.traceEvents.filter((e) => e.ph === 'X' && e.pid === CPU_TRACKS_PID);
    expect(new Set(runs.map((e) => e.args!.pid))).toEqual(new Set([2, 3]));
    expect(runs.find((e) => e.args!.pid === 2)!.args!.ended).toBe('blocked');
    // exit never returns: its slice lasts until the last event it caused, so the wake of its parent fits in it.
    expect(t.traceEvents.find((e) => e.ph === 'X' && e.pid === 3 && e.name === 'exit')!.args).toMatchObject({ unfinished: true });
  });

  it('a pipeline on two CPUs: a track per CPU, a track per process, every syscall a slice', async () => {
    const { events, cpus } = await recorded(example('pipeline.js'), { cpus: 2 }, ['20']);
    const t = toChromeTrace(events, cpus);
    expect(problems(t)).toEqual([]);
    expect([named(t, 'thread_name', CPU_TRACKS_PID, 1), named(t, 'thread_name', CPU_TRACKS_PID, 2)]).toEqual(['CPU 0', 'CPU 1']);
    const spawned = events.filter((e) => e.kind === 'spawn').map((e) => e.pid);
    expect(spawned).toHaveLength(4);
    for (const pid of spawned) expect(named(t, 'process_name', pid)).toMatch(new RegExp(`\\.js \\(pid ${pid}\\)$`));
    const exits = events.filter((e) => e.kind === 'sys_exit').length;
    const noReturn = events.filter((e) => e.kind === 'sys_enter' && e.name === 'exit').length;
    expect(t.traceEvents.filter((e) => e.ph === 'X' && e.pid !== CPU_TRACKS_PID)).toHaveLength(exits + noReturn);
    expect(t.traceEvents.some((e) => e.ph === 'C' && e.name === 'memory used')).toBe(true);
    expect(t.otherData).toMatchObject({ generator: 'agentix', cpus: 2, events: events.length });
  });

  it('a trace built mid-run closes what is still open at the last event', async () => {
    const { events, cpus } = await recorded(example('teaching/pipe-read.js'), { deterministic: true, seed: 1 });
    const enter = events.findIndex((e) => e.kind === 'sys_enter' && e.name === 'read');
    const t = toChromeTrace(events.slice(0, enter + 3), cpus);
    expect(problems(t)).toEqual([]);
    expect(t.traceEvents.find((e) => e.ph === 'X' && e.name === 'read')!.args).toMatchObject({ unfinished: true });
  });
});
