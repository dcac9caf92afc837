// The agentix command end to end: a real `node dist/kernel/cli.js` process per case, checked on its exit code
// and output.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SYSCALLS } from '../dist/abi/syscalls.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/kernel/cli.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  /** Written to the CLI's stdin, which is then closed (default: closed at once). */
  input?: string;
  /** Called with each stdout chunk so far and the child, e.g. to signal it once it says it is ready. */
  onStdout?: (soFar: string, signal: (sig: NodeJS.Signals) => void) => void;
}

function cli(args: readonly string[], opts: CliOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      opts.onStdout?.(stdout, (sig) => child.kill(sig));
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

describe('agentix run', () => {
  it('a program writing to a stdout whose reader went away dies of SIGPIPE, and agentix exits 141', async () => {
    // As `yes | head -1`: the reader takes one chunk and closes its end.
    const r = await new Promise<Outcome>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'run', fixture('chatty.js')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.once('data', () => child.stdout.destroy());
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
    });
    expect(r.code).toBe(128 + 13);
    expect(r.stderr).not.toContain('Unhandled');
  });

  it('--env puts variables in the program environment, which is otherwise empty', async () => {
    expect(JSON.parse((await cli(['run', fixture('print-env.js')])).stdout)).toEqual({});
    const r = await cli(['run', '--env', 'A=1', '--env', 'B=x=y', fixture('print-env.js')]);
    expect(JSON.parse(r.stdout)).toEqual({ A: '1', B: 'x=y' });
  });

  it('--inherit-env starts from the environment agentix itself has', async () => {
    const r = await cli(['run', '--inherit-env', fixture('print-env.js')]);
    expect(JSON.parse(r.stdout)).toMatchObject({ PATH: process.env.PATH });
  });

  it('runs examples/hello.js: prints the greeting and exits 0', async () => {
    const r = await cli(['run', 'examples/hello.js']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('Hello, world! I am pid 2, child of pid 1.\n');
  });

  it('passes the arguments after the program to it', async () => {
    const r = await cli(['run', 'examples/hello.js', 'cli']);
    expect(r.stdout).toContain('Hello, cli!');
  });

  it('exits 1 with the message on stderr when the program throws', async () => {
    const r = await cli(['run', fixture('throw.js')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Uncaught Error: lifecycle fixture failed on purpose');
  });

  it('exits with the code the program returns', async () => {
    expect((await cli(['run', fixture('ret.js'), '7'])).code).toBe(7);
  });

  it('runs examples/killer.js, which kills its child with SIGKILL, and exits 0', async () => {
    const r = await cli(['run', 'examples/killer.js']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/child \d+ was killed by signal 9/);
  });

  it('exits 137 (128 + 9) when SIGKILL ends the program', async () => {
    const r = await cli(['run', fixture('suicide.js')]);
    expect(r).toMatchObject({ code: 137, signal: null });
  });

  it('exits 127 with [ERR_PROGRAM_NOT_FOUND] for a program that does not exist', async () => {
    const r = await cli(['run', fixture('no-such-program.js')]);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('[ERR_PROGRAM_NOT_FOUND]');
  });

  it('gives piped stdin to the program', async () => {
    const r = await cli(['run', fixture('echo.js')], { input: 'piped into agentix\nsecond line\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('piped into agentix\nsecond line\n');
  });

  it('forwards SIGTERM sent to agentix to the program, which catches it and exits 0', async () => {
    let sent = false;
    const r = await cli(['run', fixture('catch-term.js')], {
      onStdout: (soFar, signal) => {
        if (!sent && soFar.includes('ready')) {
          sent = true;
          signal('SIGTERM');
        }
      },
    });
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stdout).toBe('ready\ncaught SIGTERM\nexiting cleanly\n');
  });

  it('exits 2 on an option it does not know', async () => {
    const r = await cli(['run', '--bogus', 'examples/hello.js']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^agentix: .*--bogus.*\[ERR_PARSE_ARGS_UNKNOWN_OPTION\]\n$/);
  });

  it('exits 2 when no program is given', async () => {
    const r = await cli(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[ERR_USAGE]');
  });
});

describe.concurrent('agentix help and usage', () => {
  it.each([
    [['--help'], 'Usage:'],
    [['run', '--help'], 'Usage: agentix run'],
    [['abi', '--help'], 'Usage: agentix abi'],
  ])('`agentix %j` prints usage and exits 0', async (args, usage) => {
    const r = await cli(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(usage);
  });

  it('exits 2 on an unknown command', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[ERR_USAGE]');
  });
});

describe.concurrent('agentix abi', () => {
  it('lists every syscall in the table by name', async () => {
    const r = await cli(['abi']);
    expect(r.code).toBe(0);
    for (const d of SYSCALLS) expect(r.stdout).toMatch(new RegExp(`^\\s*${d.nr}\\s+${d.name}\\(`, 'm'));
  });

  it('--json prints the table as JSON', async () => {
    const r = await cli(['abi', '--json']);
    expect(r.code).toBe(0);
    const table = JSON.parse(r.stdout) as { nr: number; name: string }[];
    expect(table.map((d) => [d.nr, d.name])).toEqual(SYSCALLS.map((d) => [d.nr, d.name]));
  });

  it('exits 2 on an option it does not know', async () => {
    expect((await cli(['abi', '--bogus'])).code).toBe(2);
  });
});
