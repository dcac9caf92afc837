// The scheduler through real workers: which process holds the one virtual CPU, read from the kernel's 'sched'
// and 'proc_state' events and from ps(); priority syscalls and their privilege rules; RLIMIT_CPU and the
// watchdog; deterministic mode. Programs are in fixtures/sched/.
//
// CPU shares and latencies are measured on a real machine, so those assertions carry margins; the precise claims
// (who gets the CPU at the next decision) are checked on the event stream, where timing plays no part.

import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Kernel, type KernelOptions, type Stamped } from '../dist/kernel/index.js';
import { weightOf } from '../dist/kernel/sched.js';
import { untilBlocked } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/sched/${name}`, import.meta.url));
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const QUIET = { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' } as const;

type SchedEvent = Extract<Stamped, { kind: 'sched' }>;
type StateEvent = Extract<Stamped, { kind: 'proc_state' }>;
type RlimitEvent = Extract<Stamped, { kind: 'rlimit' }>;

let kernels: Kernel[] = [];
afterEach(async () => {
  await Promise.all(kernels.map((k) => k.shutdown()));
  kernels = [];
});

async function boot(opts: KernelOptions): Promise<Kernel> {
  const k = await Kernel.boot({ logLevel: 'silent', ...opts });
  kernels.push(k);
  return k;
}

/**
 * Every event from now on, in order, and the CPU time charged to any process at the moment of any event
 * (sampled synchronously: events are emitted from inside the kernel as things happen).
 */
function trace(k: Kernel): { events: Stamped[]; charged: (eventId: number, pid: number) => number } {
  const events: Stamped[] = [];
  const samples = new Map<number, Map<number, number>>();
  k.stream.on((e) => {
    events.push(e);
    const at = new Map<number, number>();
    for (const p of k.procs.values()) at.set(p.pid, p.sched.runtimeNs);
    samples.set(e.id, at);
  });
  const charged = (eventId: number, pid: number): number => {
    const v = samples.get(eventId)?.get(pid);
    if (v === undefined) throw new Error(`no sample of pid ${pid} at event ${eventId}`);
    return v;
  };
  return { events, charged };
}

/** Every event from now on, in order. */
function record(k: Kernel): Stamped[] {
  const events: Stamped[] = [];
  k.stream.on((e) => events.push(e));
  return events;
}

async function collect(r: Readable | null): Promise<string> {
  const chunks: Buffer[] = [];
  if (r !== null) for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function lastJson(text: string): Record<string, unknown> {
  const line = text.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no JSON line in output: ${JSON.stringify(text)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

function runtimeMs(k: Kernel, pid: number): number {
  const p = k.ps().find((x) => x.pid === pid);
  if (p === undefined) throw new Error(`pid ${pid} is gone`);
  return p.runtimeMs;
}

/** Resolves once every pid has run userland code (polling ps: no timing assumption). */
async function untilRunning(k: Kernel, pids: readonly number[]): Promise<void> {
  while (!pids.every((pid) => runtimeMs(k, pid) > 0)) await pause(5);
}


/**
 * For each time pid became ready (coming from one of the states in `from`), the first event of `kind` after it:
 * with 'sched', the scheduling decision that followed; with 'preempt', who gave up the CPU and for whom.
 */
function firstAfterReady<K extends Stamped['kind']>(
  events: readonly Stamped[], pid: number, from: readonly string[], kind: K,
): Extract<Stamped, { kind: K }>[] {
  const out: Extract<Stamped, { kind: K }>[] = [];
  events.forEach((e, i) => {
    if (e.kind !== 'proc_state' || e.pid !== pid || e.to !== 'ready' || !from.includes(e.from)) return;
    const next = events.slice(i + 1).find((x): x is Extract<Stamped, { kind: K }> => x.kind === kind);
    if (next !== undefined) out.push(next);
  });
  return out;
}

/** The spans during which pid was runnable: from becoming ready until it blocked or ended. */
function runnableSpans(events: readonly Stamped[], pid: number): { ready: StateEvent; dispatched: SchedEvent | undefined; left: StateEvent }[] {
  const spans: { ready: StateEvent; dispatched: SchedEvent | undefined; left: StateEvent }[] = [];
  let ready: StateEvent | undefined;
  let dispatched: SchedEvent | undefined;
  for (const e of events) {
    if (e.pid !== pid) continue;
    if (e.kind === 'sched' && ready !== undefined && dispatched === undefined) dispatched = e;
    if (e.kind !== 'proc_state') continue;
    if (e.to === 'ready' && ready === undefined) {
      ready = e;
      dispatched = undefined;
    } else if ((e.to === 'blocked' || e.to === 'zombie') && ready !== undefined) {
      spans.push({ ready, dispatched, left: e });
      ready = undefined;
    }
  }
  return spans;
}

describe('fair class', () => {
  it('three CPU-bound processes at nice 0, 0 and 5 on one CPU get within 10% of their weight shares', async () => {
    const k = await boot({ cpus: 1 });
    const nices = [0, 0, 5];
    const hogs = nices.map((nice) => k.spawn(fixture('share.js'), [], { nice, stdout: 'ignore', stderr: 'ignore' }));
    const pids = hogs.map((h) => h.pid);
    for (const pid of pids) await untilBlocked(k, pid, /^read/);
    // CLOCK_MONOTONIC is the host's performance.now() outside deterministic mode. The window is measured
    // from 100 ms after the start, so that every process has been runnable for a while.
    const start = performance.now() + 100;
    const end = start + 2000;
    for (const h of hogs) h.stdin!.end(`${end + 100}\n`);
    await pause(start - performance.now());
    const before = pids.map((pid) => runtimeMs(k, pid));
    await pause(end - performance.now());
    const used = pids.map((pid, i) => runtimeMs(k, pid) - before[i]!);
    const switches = k.ps().filter((p) => pids.includes(p.pid)).map((p) => p.switches.involuntary);
    await Promise.all(hogs.map((h) => h.wait()));

    const weights = nices.map(weightOf);
    const weightSum = weights.reduce((a, b) => a + b, 0);
    const total = used.reduce((a, b) => a + b, 0);
    const deviations = used.map((x, i) => x / total / (weights[i]! / weightSum) - 1);
    const report = deviations.map((d, i) => `nice ${nices[i]}: ${(100 * d).toFixed(1)}%`).join(', ');
    expect(total, 'the CPU was busy for most of the window').toBeGreaterThan(1500);
    for (const d of deviations) expect(Math.abs(d), `CPU time off its weight share by ${report}`).toBeLessThan(0.1);
    for (const n of switches) expect(n, 'each was preempted many times').toBeGreaterThan(10);
  });

  it('a sleeper that wakes among CPU hogs gets the CPU at the next decision, within the target latency', async () => {
    const targetLatencyMs = 6;
    const k = await boot({ cpus: 1, targetLatencyMs });
    const events = record(k);
    const hogs = [0, 1].map(() => k.spawn(fixture('hog.js'), [], QUIET));
    await untilRunning(k, hogs.map((h) => h.pid));
    const sleeper = k.spawn(fixture('latency.js'), ['10', '20'], { stdin: 'ignore' });
    const [out, status] = await Promise.all([collect(sleeper.stdout), sleeper.wait()]);
    expect(status.code).toBe(0);
    const decisions = firstAfterReady(events, sleeper.pid, ['blocked'], 'sched');
    expect(decisions).toHaveLength(10);
    // The precise claim: every time it woke, the very next scheduling decision gave it the CPU.
    for (const d of decisions) expect({ pid: d.pid, cls: d.cls }).toEqual({ pid: sleeper.pid, cls: 'fair' });
    // ... because the hog on the CPU was preempted for it, at its first syscall after its slice.
    const hogPids = hogs.map((h) => h.pid);
    for (const e of firstAfterReady(events, sleeper.pid, ['blocked'], 'preempt')) {
      expect({ hog: hogPids.includes(e.pid), reason: e.reason, next: e.next?.pid }).toEqual({ hog: true, reason: 'slice', next: sleeper.pid });
      expect(e.vruntime).toBeGreaterThan(e.next!.vruntime);
    }
    // From waking to running: at most the rest of one slice of the hog on the CPU (targetLatency / 3 runnable =
    // 2 ms) and a thread wake-up. The machine may be running other work and deschedule a hog's thread while it
    // holds the virtual CPU, so the claim is on the median of ten wake-ups, with room for a loaded machine. (How
    // late the sleep itself ended is not asserted: that is the host timer's lateness under load, not the
    // scheduler's; the program reports it, and so does the failure message below.)
    const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const overshootMs = lastJson(out).overshootMs as number[];
    const waits = runnableSpans(events, sleeper.pid).filter((s) => s.ready.from === 'blocked').map((s) => s.dispatched!.ts - s.ready.ts);
    expect(median(waits), `waits for the CPU after waking: ${waits.map((x) => x.toFixed(2)).join(', ')} ms (sleeps overshot by ${overshootMs.map((x) => x.toFixed(2)).join(', ')} ms)`).toBeLessThanOrEqual(targetLatencyMs + 9);
  });
});

describe('real-time class', () => {
  it('a SCHED_FIFO process that becomes runnable gets the CPU at the next decision and keeps it until it blocks', async () => {
    const k = await boot({ cpus: 1 });
    const { events, charged } = trace(k);
    const hogs = [0, 1].map(() => k.spawn(fixture('hog.js'), [], QUIET));
    const hogPids = hogs.map((h) => h.pid);
    await untilRunning(k, hogPids);
    const rt = k.spawn(fixture('burst.js'), ['3', '30', '30'], { privileged: true, policy: 'fifo', rtPriority: 10, stdin: 'ignore' });
    const [, status] = await Promise.all([collect(rt.stdout), rt.wait()]);
    expect(status.code).toBe(0);
    const decisions = firstAfterReady(events, rt.pid, ['new', 'blocked'], 'sched');
    expect(decisions).toHaveLength(4); // booted, then woke from each of its 3 sleeps
    for (const d of decisions) expect({ pid: d.pid, cls: d.cls }).toEqual({ pid: rt.pid, cls: 'rt' });
    for (const e of firstAfterReady(events, rt.pid, ['new', 'blocked'], 'preempt')) {
      expect({ hog: hogPids.includes(e.pid), reason: e.reason, next: e.next?.pid, rtPriority: e.next?.rtPriority }).toEqual({ hog: true, reason: 'priority', next: rt.pid, rtPriority: 10 });
    }
    const spans = runnableSpans(events, rt.pid);
    expect(spans).toHaveLength(4);
    for (const s of spans) {
      const others = events.filter((e) => e.kind === 'sched' && e.id > s.ready.id && e.id < s.left.id && e.pid !== rt.pid);
      expect(others, 'no fair process is dispatched while the real-time one is runnable').toEqual([]);
      // All of the CPU is its own from its dispatch until it blocks: the hogs are charged nothing in between.
      for (const pid of hogPids) expect(charged(s.left.id, pid)).toBe(charged(s.dispatched!.id, pid));
    }
    // The hogs were preempted for it, and ran again once it slept.
    expect(events.some((e) => e.kind === 'sched' && hogPids.includes(e.pid) && e.id > spans[0]!.left.id)).toBe(true);
  });
});

describe('class changes', () => {
  // CFS places a task that joins the fair class at the queue's min_vruntime. A process spawned SCHED_FIFO has
  // no vruntime (real-time time is not charged to it); if it switches to SCHED_OTHER with vruntime 0 while the
  // fair processes are at hundreds of ms, it runs alone until it catches up: the hogs starve for that long.
  it('a process that leaves SCHED_FIFO for SCHED_OTHER does not lock fair processes out', async () => {
    const k = await boot({ cpus: 1, targetLatencyMs: 6 });
    const { events, charged } = trace(k);
    const hogs = [0, 1].map(() => k.spawn(fixture('hog.js'), [], QUIET));
    const hogPids = hogs.map((h) => h.pid);
    await untilRunning(k, hogPids);
    await pause(500); // the hogs build up vruntime
    const leaver = k.spawn(fixture('leave-rt.js'), ['300'], { privileged: true, policy: 'fifo', rtPriority: 5, ...QUIET });
    expect((await leaver.wait()).code).toBe(0);
    const first = events.find((e) => e.kind === 'sched' && e.pid === leaver.pid)!;
    const exit = events.find((e) => e.kind === 'exit' && e.pid === leaver.pid)!;
    // The first hog dispatch after the leaver got the CPU, or its exit if it ran alone to the end.
    const hogBack = events.find((e) => e.kind === 'sched' && hogPids.includes(e.pid) && e.id > first.id && e.id < exit.id) ?? exit;
    expect(charged(hogBack.id, leaver.pid) / 1e6, 'CPU ms the leaver used before a hog ran again').toBeLessThan(50);
  });
});

describe('idle class', () => {
  it('a SCHED_IDLE hog gets no CPU while a fair process is runnable, and runs while it sleeps', async () => {
    const k = await boot({ cpus: 1 });
    const { events, charged } = trace(k);
    const idle = k.spawn(fixture('hog.js'), [], { policy: 'idle', ...QUIET });
    await untilRunning(k, [idle.pid]);
    const fair = k.spawn(fixture('burst.js'), ['3', '60', '60'], { stdin: 'ignore' });
    const [, status] = await Promise.all([collect(fair.stdout), fair.wait()]);
    expect(status.code).toBe(0);

    const spans = runnableSpans(events, fair.pid);
    expect(spans).toHaveLength(4); // booted, then woke from each of its 3 sleeps
    for (const s of spans) {
      const idlePicks = events.filter((e) => e.kind === 'sched' && e.pid === idle.pid && e.id > s.ready.id && e.id < s.left.id);
      expect(idlePicks, 'the idle hog is never dispatched while the fair process is runnable').toEqual([]);
      // The idle hog may finish the stretch it was in when the fair process woke; from the fair process's
      // dispatch until it blocks, it is charged nothing.
      expect(charged(s.left.id, idle.pid)).toBe(charged(s.dispatched!.id, idle.pid));
    }
    let idleWhileAsleepNs = 0;
    let asleepMs = 0;
    for (let i = 0; i + 1 < spans.length; i++) {
      const slept = spans[i]!.left;
      const woke = spans[i + 1]!.ready;
      const got = charged(woke.id, idle.pid) - charged(slept.id, idle.pid);
      expect(got, 'the idle hog runs while the fair process sleeps').toBeGreaterThan(0);
      idleWhileAsleepNs += got;
      asleepMs += woke.ts - slept.ts;
    }
    expect(idleWhileAsleepNs / 1e6, `idle hog CPU (ms) in ${asleepMs.toFixed(0)} ms of the fair process's sleeps`).toBeGreaterThan(0.5 * asleepMs);
    expect(events.some((e) => e.kind === 'sched' && e.pid === idle.pid && e.cls === 'idle')).toBe(true);
  });
});

describe('priority syscalls and privilege', () => {
  async function probe(k: Kernel, opts: Parameters<Kernel['spawn']>[2]): Promise<Record<string, unknown>> {
    const r = await k.run(fixture('prio.js'), [], opts);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return lastJson(r.stdout);
  }
  type Usage = { cpuNs: number; waitNs: number; nvcsw: number; nivcsw: number };

  it('an unprivileged process cannot raise its priority or start a child with more: EPERM, EACCES for setpriority', async () => {
    const k = await boot({ cpus: 1 });
    const out = await probe(k, { nice: 2 });
    expect(out).toMatchObject({
      policy: 0, prio: 18,
      spawnPrivileged: 'EPERM', spawnLowerNice: 'EPERM', spawnFifo: 'EPERM', spawnHigherNice: 'ok',
      niceDown: 'EPERM', prioAfterNiceDown: 18, niceUp: 'ok', prioAfterNiceUp: 16,
      setpriorityDown: 'EACCES', setpriorityUp: 'ok', prioAfterSetpriority: 15,
      setFifo: 'EPERM', policyAfterSetFifo: 0, setRr: 'EPERM', policyAfterSetRr: 0, setOther: 'ok', policyAfterSetOther: 0,
    });
    expect(k.bugs).toBe(0);
  });

  it('a privileged process may raise priorities, enter the real-time classes and grant both to children', async () => {
    const k = await boot({ cpus: 1 });
    const out = await probe(k, { nice: 2, privileged: true });
    expect(out).toMatchObject({
      policy: 0, prio: 18,
      spawnPrivileged: 'ok', spawnLowerNice: 'ok', spawnFifo: 'ok', spawnHigherNice: 'ok',
      niceDown: 'ok', prioAfterNiceDown: 19, niceUp: 'ok', prioAfterNiceUp: 17,
      setpriorityDown: 'ok', setpriorityUp: 'ok', prioAfterSetpriority: 16,
      setFifo: 'ok', policyAfterSetFifo: 1, setRr: 'ok', policyAfterSetRr: 2, setOther: 'ok', policyAfterSetOther: 0,
    });
  });

  it('getpriority returns 20 - nice and sched_getscheduler the policy a process was spawned with', async () => {
    const k = await boot({ cpus: 1 });
    expect(await probe(k, { nice: 7 })).toMatchObject({ prio: 13, policy: 0 });
    expect(await probe(k, { policy: 'idle' })).toMatchObject({ prio: 20, policy: 5, setOther: 'EPERM' });
    expect(await probe(k, { policy: 'rr', rtPriority: 3, privileged: true })).toMatchObject({ prio: 20, policy: 2 });
    expect(await probe(k, { policy: 'fifo', rtPriority: 3, privileged: true })).toMatchObject({ policy: 1 });
  });

  it('getrusage reports the caller\'s CPU time and switches, and reaped children\'s CPU time under RUSAGE_CHILDREN', async () => {
    const k = await boot({ cpus: 1 });
    const out = await probe(k, { nice: 2 });
    const self = out.self as Usage;
    expect(self.cpuNs).toBeGreaterThan(0);
    expect(self.waitNs).toBeGreaterThanOrEqual(0);
    // It slept three times before reading: at least three voluntary switches.
    expect(self.nvcsw).toBeGreaterThanOrEqual(3);
    expect(self.nvcsw).toBeLessThan(1000);
    expect(self.nivcsw).toBeGreaterThanOrEqual(0);
    expect(self.nivcsw).toBeLessThan(1000);
    const before = out.childrenBefore as Usage;
    const beforeReap = out.childrenBeforeReap as Usage;
    const after = out.childrenAfter as Usage;
    expect(beforeReap, 'a child counts only once reaped').toEqual(before);
    // The busy child ran 20 ms of CPU (its own CLOCK_PROCESS_CPUTIME_ID) before exiting.
    expect(after.cpuNs - before.cpuNs).toBeGreaterThanOrEqual(20e6);
    expect(after.nvcsw + after.nivcsw).toBeGreaterThanOrEqual(before.nvcsw + before.nivcsw);
  });
});

describe('CPU limits and the watchdog', () => {
  it('a process past its RLIMIT_CPU gets SIGXCPU, whose default action ends it', async () => {
    const k = await boot({ cpus: 1 });
    const events = record(k);
    const h = k.spawn(fixture('xcpu.js'), [], { cpuLimitMs: 200, ...QUIET });
    const status = await h.wait();
    expect(status).toEqual({ code: null, signal: 24, signalName: 'SIGXCPU' });
    const limits = events.filter((e): e is RlimitEvent => e.kind === 'rlimit' && e.pid === h.pid);
    expect(limits.map((e) => e.action)).toEqual(['SIGXCPU']);
  });

  it('a process that catches SIGXCPU is killed with SIGKILL once the grace period has passed', async () => {
    const graceMs = 150;
    const k = await boot({ cpus: 1, cpuLimitGraceMs: graceMs });
    const events = record(k);
    const h = k.spawn(fixture('xcpu.js'), ['catch'], { cpuLimitMs: 200, stdin: 'ignore' });
    const [out, status] = await Promise.all([collect(h.stdout), h.wait()]);
    expect(out).toContain('caught SIGXCPU');
    expect(status).toEqual({ code: null, signal: 9, signalName: 'SIGKILL' });
    const limits = events.filter((e): e is RlimitEvent => e.kind === 'rlimit' && e.pid === h.pid);
    expect(limits.map((e) => e.action)).toEqual(['SIGXCPU', 'SIGKILL']);
    expect(limits[1]!.ts - limits[0]!.ts).toBeGreaterThanOrEqual(graceMs - 1);
  });

  it('RLIMIT_CPU also stops a process that makes no syscalls', async () => {
    const k = await boot({ cpus: 1 });
    const h = k.spawn(fixture('spin.js'), ['10000'], { cpuLimitMs: 200, ...QUIET });
    expect(await h.wait()).toEqual({ code: null, signal: 24, signalName: 'SIGXCPU' });
  });

  it('a process that runs longer than watchdogMs without a syscall is reported by a watchdog event', async () => {
    const k = await boot({ cpus: 1, watchdogMs: 100 });
    const events = record(k);
    const h = k.spawn(fixture('spin.js'), ['400'], QUIET);
    expect((await h.wait()).code).toBe(0);
    const reports = events.filter((e): e is Extract<Stamped, { kind: 'watchdog' }> => e.kind === 'watchdog' && e.pid === h.pid);
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports[0]!.ms).toBeGreaterThanOrEqual(100);
  });

  it('a process making regular syscalls is never reported by the watchdog', async () => {
    // Its syscalls are tens of microseconds apart; 250 ms leaves room for the machine to deschedule it a while.
    const k = await boot({ cpus: 1, watchdogMs: 250 });
    const events = record(k);
    const h = k.spawn(fixture('hog.js'), ['300'], QUIET);
    expect((await h.wait()).code).toBe(0);
    expect(events.filter((e) => e.kind === 'watchdog')).toEqual([]);
  });
});

describe('deterministic mode', () => {
  interface Decision {
    readonly pid: number;
    readonly cls: string;
    readonly vruntime: number;
  }

  /** One run of det-parent.js: the schedule as (pid, class, vruntime) and everything the programs printed. */
  async function detRun(seed: number): Promise<{ schedule: Decision[]; stdout: string }> {
    const k = await boot({ deterministic: true, seed });
    const schedule: Decision[] = [];
    k.stream.on((e) => {
      if (e.kind === 'sched') schedule.push({ pid: e.pid, cls: e.cls, vruntime: e.vruntime });
    });
    const r = await k.run(fixture('det-parent.js'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await k.shutdown();
    return { schedule, stdout: r.stdout };
  }

  it('two runs with the same seed give the same schedule and the same clock readings', async () => {
    const a = await detRun(7);
    const b = await detRun(7);
    expect(a.schedule.length).toBeGreaterThan(10);
    expect(b.schedule).toEqual(a.schedule);
    expect(b.stdout).toEqual(a.stdout);
    const lines = a.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    // Virtual time: CLOCK_REALTIME starts at 2000-01-01T00:00:00Z.
    expect(lines[5]).toMatch(/^parent reaped (\d+,){4}\d+ at 0\.\d{9} realtime 946684800\.\d{9}$/);
  });

  it('equal-nice children spawned at the same virtual instant are ordered by the seed', async () => {
    const base = await detRun(7);
    // The design gives ties: the children's first picks share one vruntime (each starts at min_vruntime).
    const first = new Map<number, number>();
    for (const d of base.schedule) if (!first.has(d.pid)) first.set(d.pid, d.vruntime);
    const children = [...first].filter(([pid]) => pid !== 2).map(([, v]) => v);
    expect(children).toHaveLength(5);
    expect(new Set(children).size, 'children tie on vruntime at their first pick').toBeLessThan(children.length);
    const others = [];
    for (const seed of [1, 2, 3]) others.push(await detRun(seed));
    expect(others.some((o) => JSON.stringify(o.schedule) !== JSON.stringify(base.schedule)), 'some seed gives another schedule').toBe(true);
  });
});
