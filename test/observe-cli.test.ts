// agentix run's observability options end to end, one real CLI process per case: --trace (to stderr or a file,
// filtered), --events, --perfetto, --stats, and the kernel's logs. None of them may write to the program's
// stdout, which must stay exactly what the program printed.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJsonl } from '../dist/kernel/records.js';
import { CPU_TRACKS_PID, type ChromeTrace } from '../dist/kernel/perfetto.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/kernel/cli.js', import.meta.url));
const GREETING = 'Hello, world! I am pid 2, child of pid 1.\n';

function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dirs: string[] = [];
const tmp = (name: string): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentix-observe-'));
  dirs.push(dir);
  return path.join(dir, name);
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.concurrent('agentix run --trace', () => {
  it('prints every call as strace does to stderr, and leaves stdout to the program', async () => {
    const r = await cli(['run', '--trace', 'examples/hello.js']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(GREETING);
    expect(r.stderr).toMatch(/^\[pid 2\] getpid\(\) = 2 <\d+\.\d{3} ms>$/m);
    expect(r.stderr).toMatch(/^\[pid 2\] write\(1, "Hello, world! I am pid 2, child "\.\.\.\) = 42 <\d+\.\d{3} ms>$/m);
    expect(r.stderr).toMatch(/^\[pid 2\] exit\(0\) = \?\n\[pid 2\] \+\+\+ exited with 0 \+\+\+$/m);
  });

  it('--trace=FILTER shows only those calls; --trace-file sends the lines to a file', async () => {
    const file = tmp('trace.txt');
    const r = await cli(['run', '--trace=process', '--trace-file', file, 'examples/hello.js']);
    expect(r).toMatchObject({ code: 0, stdout: GREETING, stderr: '' });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.every((l) => /^\[pid 2\] (getpid|getppid|exit)\(|\+\+\+/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('[pid 2] +++ exited with 0 +++');
  });

  it('a filter naming neither a syscall nor a family exits 2 before the program runs', async () => {
    const r = await cli(['run', '--trace=read,nosuchcall', 'examples/hello.js']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/'nosuchcall' is neither a syscall nor a family .*\[ERR_USAGE\]/);
  });

  it('--deterministic traces show virtual durations, the same on every run', async () => {
    const args = ['run', '--deterministic', '--seed', '3', '--trace', 'examples/teaching/pipe-read.js'];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    // Only the boot call of the child (its worker's first frame) may land elsewhere. (Under load the watchdog may
    // also log that a process picked before its worker booted "runs without syscalls": not a trace line.)
    const stable = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('[pid') && !l.includes('sched_yield'));
    expect(stable(a.stderr)).toEqual(stable(b.stderr));
    expect(a.stderr).toContain('[pid 2] <... read resumed> = 2 "hi" <0.044 ms>');
  });
});

describe.concurrent('agentix run --events, --perfetto and --stats', () => {
  it('--events writes a header and then every event, one JSON object per line', async () => {
    const file = tmp('events.jsonl');
    const r = await cli(['run', '--events', file, 'examples/hello.js']);
    expect(r).toMatchObject({ code: 0, stdout: GREETING, stderr: '' });
    const { header, events } = parseJsonl(readFileSync(file, 'utf8'));
    expect(header).toMatchObject({ format: 'agentix-events', schema: 2, deterministic: false });
    expect(events[0]).toMatchObject({ kind: 'spawn', pid: 2, id: 1, cause: 0 });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const write = events.find((e) => e.kind === 'sys_enter' && e.name === 'write') as Extract<(typeof events)[number], { kind: 'sys_enter' }>;
    expect(new TextDecoder().decode(write.args[1] as Uint8Array)).toBe(GREETING);
    expect(events.at(-1)).toMatchObject({ kind: 'reap', pid: 2, by: 1 });
  });

  it('--perfetto writes Chrome Trace Event JSON with a track per CPU and per process', async () => {
    const file = tmp('trace.json');
    const r = await cli(['run', '--cpus', '2', '--perfetto', file, 'examples/pipeline.js', '10']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const t = JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace;
    const names = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === CPU_TRACKS_PID).map((e) => e.args!.name);
    expect(names).toEqual(['CPU 0', 'CPU 1']);
    const procs = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args!.name);
    expect(procs).toEqual(expect.arrayContaining(['pipeline.js (pid 2)', 'lines.js (pid 3)', 'upper.js (pid 4)', 'count.js (pid 5)']));
    expect(t.traceEvents.some((e) => e.ph === 'X' && e.name === 'spawn' && e.pid === 2)).toBe(true);
  });

  it('--stats prints every process of the run, syscall counts, memory, IPC objects and the run queue to stderr', async () => {
    const r = await cli(['run', '--stats', 'examples/pipeline.js', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('5 lines, 35 bytes, last: LINE 5\npipeline done: 3 of 3 stages succeeded\n');
    expect(r.stderr).toContain('agentix: the program exited with 0');
    expect(r.stderr).toMatch(/^PID\s+PPID\s+STATE\s+CPU_MS/m);
    for (const [pid, program] of [[2, 'pipeline.js'], [3, 'lines.js'], [4, 'upper.js'], [5, 'count.js']] as const) {
      expect(r.stderr).toMatch(new RegExp(`^\\s*${pid}\\s+\\d+\\s+exited 0\\s.*${program}$`, 'm'));
    }
    expect(r.stderr).toMatch(/^\s*\d+\.\d{2}\s+[\d.]+\s+[\d.]+\s+3\s+0\s+spawn$/m);
    expect(r.stderr).toMatch(/^memory: 256M total, 0 B used/m);
    expect(r.stderr).toMatch(/^ipc: 0 pipes, 0 shared memory objects, 0 message queues, 0 futex waiters$/m);
    expect(r.stderr).toMatch(/^runqueue: 0 of \d+ CPUs busy, 0 waiting$/m);
  });
});

describe.concurrent('the kernel log', () => {
  it('--log-level debug logs processes\' lives as JSON on stderr (--log-json), never on stdout', async () => {
    const r = await cli(['run', '--log-level', 'debug', '--log-json', 'examples/hello.js']);
    expect(r).toMatchObject({ code: 0, stdout: GREETING });
    const logs = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; pid?: number });
    expect(logs.find((l) => l.msg === 'process spawned')).toMatchObject({ level: 20, pid: 2 });
    expect(logs.find((l) => l.msg === 'process ended')).toMatchObject({ level: 20, pid: 2, code: 0, how: 'exit' });
  });

  it('--log-level trace also logs every syscall; --log-pretty makes readable lines', async () => {
    const r = await cli(['run', '--log-level', 'trace', '--log-pretty', 'examples/hello.js']);
    expect(r).toMatchObject({ code: 0, stdout: GREETING });
    expect(r.stderr).toMatch(/DEBUG.*process spawned/);
    expect(r.stderr).toMatch(/TRACE.*\[pid 2\] getppid\(\) = 1/);
    expect(r.stderr).not.toMatch(/^\{"level"/m);
  });

  it('--log-pretty with --log-json, or a bad --ui port, is a usage error', async () => {
    expect((await cli(['run', '--log-pretty', '--log-json', 'examples/hello.js'])).code).toBe(2);
    const r = await cli(['run', '--ui=http', 'examples/hello.js']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ui: expected a port');
  });
});
