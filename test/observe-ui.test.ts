// The live view end to end: `agentix run --ui` on a real program, looked at in headless Chromium (Debian's
// chromium package, driven by playwright-core). The page must list the processes, show the IPC objects the
// program made and the memory it holds while it runs, then show how it ended, and the server must answer only
// on loopback.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/kernel/cli.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly exit: Promise<number | null>;
  stdout: string;
  stderr: string;
}

/** Starts `agentix run --ui` and resolves once the program says it is ready and the view's address is printed. */
function startRun(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--ui', '--ui-linger', '120', ...args], { cwd: ROOT, stdio: 'pipe' });
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    let stdout = '';
    let stderr = '';
    let run: Run | null = null;
    const check = (): void => {
      const url = /live view at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
      if (run === null && url !== undefined && stdout.includes('ready')) {
        run = { child, url, exit, stdout, stderr };
        resolve(run);
      }
      if (run !== null) {
        run.stdout = stdout;
        run.stderr = stderr;
      }
    };
    child.stdout.on('data', (c: Buffer) => ((stdout += c.toString('utf8')), check()));
    child.stderr.on('data', (c: Buffer) => ((stderr += c.toString('utf8')), check()));
    child.on('error', reject);
    void exit.then((code) => {
      if (run === null) reject(new Error(`agentix exited ${String(code)} before the view was up: ${stderr}`));
    });
  });
}

/** Status and body of a GET sent with the given Host header. */
function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

describe('agentix run --ui in headless Chromium', () => {
  let run: Run;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
    run = await startRun(['test/fixtures/observe/live.js']);
    profile = mkdtempSync(path.join(os.tmpdir(), 'agentix-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
    if (run !== undefined && run.child.exitCode === null) run.child.kill('SIGKILL');
  });

  it('shows the processes, their memory, the IPC objects and the calls while the program runs', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(run.url);
    // Processes: the program and the child it started, waiting where they wait.
    await page.locator('#proc-3').waitFor();
    expect(await text(page, '#program')).toBe('test/fixtures/observe/live.js');
    expect(await text(page, '#status')).toBe('running');
    expect(await text(page, '#proc-2')).toMatch(/^2\s*└ live\.jsblocked/);
    expect(await text(page, '#proc-2')).toContain('read from console');
    expect(await text(page, '#proc-3')).toContain('read from pipe');
    expect(await page.locator('#proc-1').textContent()).toContain('init');
    // IPC objects the program made, live.
    await page.locator('#ipc-objects tr[data-kind="shm"][data-name="/observe-shm"]').waitFor();
    expect(await text(page, '#ipc-objects tr[data-kind="shm"]')).toContain('8K, 1 mapped, 1 open');
    expect(await text(page, '#ipc-objects tr[data-kind="mq"]')).toContain('/observe-mq1 of 8 messages');
    expect(await page.locator('#ipc-objects tr[data-kind="pipe"]').count()).toBe(1);
    // Memory: the program holds its 100 KiB mapping, the shared memory, the queue and its pipe.
    const bytes = Number(await text(page, '#mem-procs tr[data-pid="2"] td:nth-child(2)'));
    expect(bytes).toBeGreaterThan(100 * 1024 + 8192);
    expect(await text(page, '#mem-summary')).toMatch(/^\d+(\.\d)?K used of 256M/);
    expect(await page.locator('#mem-sizes tbody tr').count()).toBeGreaterThanOrEqual(2);
    // The CPU timeline and the strace of every call.
    expect(await page.locator('#timeline rect.stretch[data-pid="2"]').count()).toBeGreaterThan(0);
    expect(await text(page, '#trace')).toContain('[pid 2] shm_open(O_RDWR|O_CREAT, 384, "/observe-shm") = 3');
    await page.screenshot({ path: path.join(profile, 'running.png'), fullPage: true });
    expect(errors).toEqual([]);

    // The program ends: the page says how, keeps the exited processes, and the objects are gone.
    run.child.stdin.end('go\n');
    await page.locator('#status[data-status="ended"]').waitFor();
    expect(await text(page, '#status')).toBe('program exited 3');
    await page.locator('#proc-3[data-state="ended"]').waitFor();
    expect(await text(page, '#proc-2')).toContain('exited 3');
    expect(await text(page, '#proc-3')).toContain('exited 0');
    await page.locator('#ipc-objects td.note').waitFor();
    expect(await text(page, '#ipc-log')).toContain('pid 2 create shm /observe-shm');
    expect(await page.locator('#ipc-log li[data-op="destroy"][data-object="mq"]').count()).toBe(1);
    expect(await text(page, '#trace')).toContain('[pid 2] +++ exited with 3 +++');
    expect(errors).toEqual([]);
  });

  it('a page opened after the program ended is sent everything it missed', async () => {
    const page = await context.newPage();
    await page.goto(run.url);
    await page.locator('#status[data-status="ended"]').waitFor();
    expect(await page.locator('#procs tbody tr').count()).toBe(3);
    expect(await text(page, '#trace')).toContain('mq_open(O_RDWR|O_CREAT, 384, 8, 64, "/observe-mq") = 4');
    expect(await page.locator('#ipc-log li').count()).toBe(8);
  });

  it('answers only to 127.0.0.1 and localhost, and stops on Ctrl-C with the program\'s exit code', async () => {
    expect((await get(run.url, new URL(run.url).host)).status).toBe(200);
    expect((await get(run.url, `localhost:${new URL(run.url).port}`)).status).toBe(200);
    const rebound = await get(run.url, 'attacker.example');
    expect(rebound.status).toBe(403);
    expect((await get(`${run.url}snapshot.json`, new URL(run.url).host)).body).toContain('"status":"exited 3"');
    expect((await get(`${run.url}../../package.json`, new URL(run.url).host)).status).toBe(404);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(3);
    expect(run.stdout).toBe('ready\ndone\n');
  });
});
