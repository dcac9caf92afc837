// `npm run fuzz -- [--time 60s] [--target frame|sequence|all]`: runs jsfuzz on each target's CommonJS bundle for
// the time given (each target gets the whole budget), with a progress line; restarts it after each crash until
// the time is up; then minimises every crash, saves it under fuzz/crashes/<target>/ with a triage note, and
// prints the coverage the run reached per kernel module. Exits 1 if an input broke an oracle in a new way.

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleCoverage, percent, sum, type ModuleCoverage } from './coverage.js';
import { minimise } from './minimise.js';
import { corpusDir, crashesDir, inputsIn, ROOT, saveCrash, workDir } from './store.js';
import { failureOf, isTargetName, knownFile, TARGET_NAMES, type TargetName } from './targets.js';

const JSFUZZ = path.join(ROOT, 'node_modules', 'jsfuzz', 'build', 'src', 'index.js');
const BUNDLES = path.join(ROOT, 'dist', 'fuzz-cjs');
/** jsfuzz's own limits: an input that runs longer than this, or a worker above this RSS, is a crash. The first
 *  input a worker runs also pays for loading the instrumented bundle: on a loaded machine (load 10 on 2 cores)
 *  that took over 10 s, and each such "timeout" restarted jsfuzz on the same input for minutes. */
const INPUT_TIMEOUT_S = 30;
const RSS_LIMIT_MB = 2048;
/** After SIGINT, jsfuzz's worker stops at its next input; past this grace the whole group is killed. */
const STOP_GRACE_MS = 10_000;

const HELP = `Usage: npm run fuzz -- [--time 60s] [--target frame|sequence|all] [--minimise-time 60s]

Runs jsfuzz on each target for --time (s, m or h; default 60s), then minimises each crash into
fuzz/crashes/<target>/. Build first (npm run fuzz does: tsc, then scripts/build-fuzz.mjs).
`;

/** '90', '90s', '5m', '1h' -> milliseconds. */
function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (m === null) throw new Error(`--time: '${s}' is not a duration such as 60s, 5m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

interface Stats {
  execs: number;
  cov: number;
  corpus: number;
  rate: number;
  rssMb: number;
}

interface Outcome {
  readonly stats: Stats;
  /** Raw crash file jsfuzz wrote, if it stopped on one. */
  readonly crash: string | null;
  /** jsfuzz's worker died without reporting a crash (an asynchronous exception: see the log). */
  readonly died: boolean;
}

const PULSE = /^#(\d+) (?:NEW|PULSE)\s+cov: (\d+) corp: (\d+) exec\/s: (\d+) rss: ([\d.]+) MB/;

/** One jsfuzz process, until it stops on a crash, its worker dies, or `deadline` passes (then SIGINT). */
function runJsfuzz(target: TargetName, deadline: number, log: NodeJS.WritableStream, onStats: (s: Stats) => void): Promise<Outcome> {
  const work = workDir(target);
  const bundle = path.relative(work, path.join(BUNDLES, `${target}.cjs`));
  const args = [
    JSFUZZ, bundle, path.join(work, 'corpus'), corpusDir(target),
    '--timeout', String(INPUT_TIMEOUT_S), '--rss-limit-mb', String(RSS_LIMIT_MB),
  ];
  // Its own process group, so that the fuzzer and the worker it forks are stopped together (and only they).
  const child: ChildProcess = spawn(process.execPath, args, { cwd: work, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stats: Stats = { execs: 0, cov: 0, corpus: 0, rate: 0, rssMb: 0 };
  let crash: string | null = null;
  let workerExited = false;
  let stopping = false;
  const group = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const onLine = (line: string): void => {
    log.write(line + '\n');
    const m = PULSE.exec(line);
    if (m !== null) {
      Object.assign(stats, { execs: Number(m[1]), cov: Number(m[2]), corpus: Number(m[3]), rate: Number(m[4]), rssMb: Number(m[5]) });
      onStats(stats);
    }
    const c = /^crash was written to (.+)$/.exec(line);
    if (c !== null) crash = path.resolve(work, c[1]!);
    if (line === 'Worker exited') workerExited = true;
  };
  let buffered = '';
  const feed = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(onLine);
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!stopping && Date.now() >= deadline) {
        stopping = true;
        group('SIGINT');
        setTimeout(() => group('SIGKILL'), STOP_GRACE_MS).unref();
      }
    }, 200);
    child.on('exit', () => {
      clearInterval(timer);
      if (buffered !== '') onLine(buffered);
      group('SIGKILL'); // a worker left behind by a killed parent
      resolve({ stats, crash, died: workerExited && crash === null && !stopping });
    });
  });
}

function progressLine(target: string, elapsedMs: number, budgetMs: number, total: number, s: Stats, crashes: number): string {
  const secs = Math.round(elapsedMs / 1000);
  const avg = elapsedMs > 0 ? Math.round((total * 1000) / elapsedMs) : 0;
  return `[${target}] ${secs}s/${Math.round(budgetMs / 1000)}s  ${total} execs (${avg}/s avg, ${s.rate}/s now)  cov ${s.cov}  corpus ${s.corpus}  crashes ${crashes}  rss ${Math.round(s.rssMb)} MB`;
}

interface TargetReport {
  readonly target: TargetName;
  readonly seconds: number;
  readonly execs: number;
  readonly execsPerSec: number;
  readonly cov: number;
  readonly corpus: number;
  readonly crashes: { readonly path: string; readonly signature: string; readonly duplicate: boolean }[];
  readonly flaky: number;
  readonly workerDeaths: number;
  readonly coverage: { readonly kernel: ModuleCoverage; readonly abi: ModuleCoverage; readonly modules: ModuleCoverage[] } | null;
}

async function fuzzTarget(target: TargetName, budgetMs: number, minimiseMs: number): Promise<TargetReport> {
  const work = workDir(target);
  mkdirSync(path.join(work, 'corpus'), { recursive: true });
  rmSync(path.join(work, '.nyc_output'), { recursive: true, force: true });
  for (const f of readdirSync(work)) if (f.startsWith('crash-')) rmSync(path.join(work, f));
  const log = createWriteStream(path.join(work, 'jsfuzz.log'));
  const start = Date.now();
  const deadline = start + budgetMs;
  const tty = process.stdout.isTTY === true;
  let execsBefore = 0;
  let last: Stats = { execs: 0, cov: 0, corpus: 0, rate: 0, rssMb: 0 };
  let lastPrint = 0;
  const raw: string[] = [];
  let deaths = 0;
  const show = (s: Stats, force = false): void => {
    last = s;
    const now = Date.now();
    if (!force && now - lastPrint < (tty ? 1000 : 10_000)) return;
    lastPrint = now;
    const line = progressLine(target, now - start, budgetMs, execsBefore + s.execs, s, raw.length);
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else console.log(line);
  };
  rmSync(knownFile(target), { force: true });
  while (Date.now() < deadline) {
    const out = await runJsfuzz(target, deadline, log, show);
    execsBefore += out.stats.execs;
    if (out.crash !== null && existsSync(out.crash)) {
      raw.push(out.crash);
      // The next jsfuzz process passes over this failure (see jsfuzzEntry) and looks for others.
      const f = await failureOf(target, new Uint8Array(readFileSync(out.crash)));
      if (f !== null) appendFileSync(knownFile(target), f.signature + '\n');
    }
    if (out.died) deaths++;
    if (out.crash === null && !out.died) break; // stopped at the deadline
    if (deaths > 5) break; // something is wrong with the target itself: the log says what
  }
  show({ ...last, execs: 0 }, true);
  if (tty) process.stdout.write('\n');
  log.end();
  const seconds = (Date.now() - start) / 1000;

  // Minimise and save each crash (one per signature).
  const crashes: TargetReport['crashes'] = [];
  const seen = new Set<string>();
  let flaky = 0;
  for (const file of raw) {
    const bytes = new Uint8Array(readFileSync(file));
    const f = await failureOf(target, bytes);
    if (f === null) {
      // It failed under jsfuzz but not on a fresh kernel: reported, kept in the work directory.
      flaky++;
      console.log(`[${target}] ${path.relative(ROOT, file)} did not fail again on a fresh kernel (flaky; kept for triage)`);
      continue;
    }
    if (seen.has(f.signature)) continue;
    seen.add(f.signature);
    console.log(`[${target}] minimising ${path.relative(ROOT, file)} (${bytes.length} bytes): ${f.signature}`);
    const m = await minimise(target, bytes, minimiseMs);
    if (m === null) continue;
    const trace: string[] = [];
    await failureOf(target, m.bytes, { trace: (l) => trace.push(l) });
    const saved = saveCrash(target, m, trace);
    crashes.push({ path: path.relative(ROOT, saved.path), signature: m.signature, duplicate: saved.duplicate });
    console.log(`[${target}] ${saved.duplicate ? 'already saved as' : 'saved'} ${path.relative(ROOT, saved.path)} (${m.bytes.length} bytes after ${m.attempts} attempts)`);
  }

  const cov = bundleCoverage(path.join(work, '.nyc_output', 'cov.json'), path.join(BUNDLES, `${target}.cjs`));
  // The tracer (kernel/strace.ts) is in the bundle for replays but runs only with a trace: it is not kernel
  // code that syscalls reach, so it is left out of the kernel's figure.
  const kernelModules = cov?.filter((m) => m.module !== 'kernel/strace.ts') ?? [];
  const coverage = cov === null ? null : { kernel: sum(kernelModules, ['kernel/']), abi: sum(cov, ['abi/']), modules: kernelModules };
  const report: TargetReport = {
    target, seconds, execs: execsBefore, execsPerSec: Math.round(execsBefore / Math.max(1, seconds)), cov: last.cov,
    corpus: last.corpus, crashes, flaky, workerDeaths: deaths, coverage,
  };
  writeFileSync(path.join(work, 'summary.json'), JSON.stringify(report, null, 2));
  return report;
}

function printReport(r: TargetReport): void {
  console.log(`\n== ${r.target}: ${r.execs} execs in ${r.seconds.toFixed(0)} s (${r.execsPerSec}/s), jsfuzz cov ${r.cov}, corpus ${r.corpus}`);
  if (r.coverage !== null) {
    const { kernel, abi, modules } = r.coverage;
    console.log(`   kernel/  statements ${percent(kernel.statements)}  functions ${percent(kernel.functions)}  branches ${percent(kernel.branches)}`);
    console.log(`   abi/     statements ${percent(abi.statements)}  functions ${percent(abi.functions)}  branches ${percent(abi.branches)}`);
    for (const m of modules.filter((x) => x.module.startsWith('kernel/'))) {
      console.log(`     ${m.module.padEnd(28)} statements ${percent(m.statements).padEnd(20)} branches ${percent(m.branches)}`);
    }
  } else {
    console.log('   (no coverage dump: jsfuzz did not stop cleanly)');
  }
  for (const c of r.crashes) console.log(`   crash: ${c.path}${c.duplicate ? ' (known)' : ''}: ${c.signature}`);
  if (r.flaky > 0) console.log(`   ${r.flaky} crash file(s) did not reproduce on a fresh kernel: see ${path.relative(ROOT, workDir(r.target))}`);
  if (r.workerDeaths > 0) console.log(`   the jsfuzz worker died ${r.workerDeaths} time(s) outside an input: see ${path.relative(ROOT, path.join(workDir(r.target), 'jsfuzz.log'))}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      time: { type: 'string', default: '60s' },
      target: { type: 'string', default: 'all' },
      'minimise-time': { type: 'string', default: '60s' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const budget = parseDuration(values.time);
  const minimiseMs = parseDuration(values['minimise-time']);
  const targets = values.target === 'all' ? TARGET_NAMES : [values.target];
  for (const t of targets) if (!isTargetName(t)) throw new Error(`--target: '${t}' is not one of ${TARGET_NAMES.join(', ')}, all`);
  for (const t of targets as TargetName[]) {
    if (!existsSync(path.join(BUNDLES, `${t}.cjs`))) throw new Error(`dist/fuzz-cjs/${t}.cjs is missing: run node scripts/build-fuzz.mjs`);
  }
  const reports: TargetReport[] = [];
  for (const t of targets as TargetName[]) reports.push(await fuzzTarget(t, budget, minimiseMs));
  reports.forEach(printReport);
  // Saved crashes not fixed yet: the fuzzers passed over their signatures; the CI smoke fails on them.
  const known: string[] = [];
  for (const t of targets as TargetName[]) {
    for (const f of inputsIn(crashesDir(t))) if ((await failureOf(t, new Uint8Array(readFileSync(f)))) !== null) known.push(path.relative(ROOT, f));
  }
  if (known.length > 0) console.log(`\n${known.length} saved crash(es) still fail (passed over while fuzzing): ${known.join(', ')}`);
  const failed = reports.some((r) => r.crashes.some((c) => !c.duplicate) || r.workerDeaths > 0);
  console.log(failed ? '\nfuzz: FAILED (new crashes above)' : '\nfuzz: no new crash');
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  },
);
