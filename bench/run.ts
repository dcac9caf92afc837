// `npm run bench`: runs every suite, writes bench/results/<ISO date>.json and regenerates the tables in
// docs/benchmarks.md. A missed target is reported (stderr and the doc), not a failure: these machines are noisy.
//   --quick          every task briefly, for a CI smoke: nothing is written and no target is asserted
//   --strict         exit 1 if a target was missed (for a quiet machine that should hold the line)
//   --suite <id>     only this suite (repeatable); results are written, the doc is left alone (its tables
//                    cover every suite)

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  compare, formatNs, LoadMeter, machine, renderComparisons, renderMachine, renderTasks, updateDoc, writeResults, type Results,
} from './report.js';
import { SUITES } from './suites/index.js';
import type { TaskSummary } from './suite.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = `${ROOT}bench/results`;
const DOC = `${ROOT}docs/benchmarks.md`;
/** Above this share of the machine busy with other work, the figures are not worth much (reported, not refused). */
const BUSY_WARNING = 0.1;

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- [--quick] [--strict] [--suite <${SUITES.map((s) => s.id).join('|')}>]...\n`);
  process.exit(2);
}

interface Options {
  readonly quick: boolean;
  /** Suite ids given with --suite; empty for all. */
  readonly only: readonly string[];
  readonly strict: boolean;
}

function parseOptions(): Options {
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        suite: { type: 'string', multiple: true },
      },
    });
    const only = values.suite ?? [];
    for (const id of only) if (!SUITES.some((s) => s.id === id)) usage(`unknown suite '${id}'`);
    return { quick: values.quick === true, only, strict: values.strict === true };
  } catch (e: unknown) {
    return usage(e instanceof Error ? e.message : String(e));
  }
}

function warnIfBusy(share: number, when: string): void {
  if (share > BUSY_WARNING) {
    process.stderr.write(`bench: warning: other processes used ${(share * 100).toFixed(0)}% of the CPU ${when}; figures will be slow and noisy\n`);
  }
}

async function main(): Promise<void> {
  const { quick, only, strict } = parseOptions();
  const suites = only.length === 0 ? SUITES : SUITES.filter((s) => only.includes(s.id));

  const date = new Date().toISOString();
  const host = await machine();
  warnIfBusy(host.busyBefore, 'just before the run');
  const meter = new LoadMeter();
  const tasks: TaskSummary[] = [];
  for (const suite of suites) {
    const start = performance.now();
    process.stderr.write(`bench: ${suite.title} (${suite.id})${quick ? ', quick' : ''}...\n`);
    tasks.push(...(await suite.run({ quick })));
    process.stderr.write(`bench: ${suite.id} done in ${((performance.now() - start) / 1e3).toFixed(1)} s\n`);
  }
  const comparisons = suites.flatMap((s) => s.comparisons).map((c) => compare(c, tasks));
  const otherLoadDuring = meter.other();
  const results: Results = { date, otherLoadDuring, quick, suites: suites.map((s) => s.id), machine: host, tasks, comparisons };

  process.stdout.write(`\n${renderTasks(results)}\n\n${renderComparisons(results)}\n`);
  warnIfBusy(otherLoadDuring, 'during the run');
  if (quick) return;

  const file = writeResults(RESULTS_DIR, results);
  const relative = file.slice(ROOT.length);
  process.stdout.write(`\nresults: ${relative}\n`);
  if (only.length === 0) {
    updateDoc(DOC, { machine: renderMachine(results, relative), comparisons: renderComparisons(results), tasks: renderTasks(results) });
    process.stdout.write('docs/benchmarks.md: tables regenerated\n');
  }
  const missed = comparisons.filter((c) => c.met === false);
  for (const c of missed) {
    process.stderr.write(
      `bench: target missed: ${c.figure} (${formatNs(c.figureP50Ns)}) vs ${c.baseline} (${formatNs(c.baselineP50Ns)})\n`,
    );
  }
  if (missed.length > 0 && strict) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
