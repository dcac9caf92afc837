// `npm run bench`: runs every suite for a number of rounds, writes bench/results/<ISO date>.json, regenerates the
// tables in docs/benchmarks.md and the chart docs/benchmarks.svg. A missed target is reported (stderr and the
// doc), not a failure: these machines are noisy.
//   --quick             every task briefly, one round, for a CI smoke: nothing is written, no target asserted
//   --rounds <n>        run every suite n times from a fresh start (default 3, 1 with --quick): each comparison's
//                       ratio is the median over rounds, and its lowest and highest say how noisy it is
//   --suite <id>        only this suite (repeatable); results are written, the doc and chart are left alone (they
//                       cover every suite)
//   --compare <old>     after the run, print each comparison's ratio then and now, flagging regressions
//   --compare <old> <new>  the same for two saved results files; nothing runs
//   --threshold <share> how far a ratio may move before --compare flags it (default 0.15)
//   --render <file>     regenerate the doc's tables and the chart from a saved full run; nothing runs
//   --strict            exit 1 if a target was missed, or --compare found a regression

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeChart } from './chart.js';
import { compareRuns, hasRegression, REGRESSION_THRESHOLD, renderChanges } from './compare.js';
import {
  compare, formatNs, formatRatio, formatTarget, LoadMeter, machine, readResults, renderComparisons, renderMachine, renderTasks,
  RESULTS_FORMAT, summarizeRounds, updateDoc, writeResults, type Results,
} from './report.js';
import { SUITES } from './suites/index.js';
import type { TaskSummary } from './suite.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = `${ROOT}bench/results`;
const DOC = `${ROOT}docs/benchmarks.md`;
const CHART = `${ROOT}docs/benchmarks.svg`;
/** Above this share of the machine busy with other work, the figures are not worth much (reported, not refused). */
const BUSY_WARNING = 0.1;
const FULL_ROUNDS = 3;
/** More rounds than this is a typo: each full round takes about a minute. */
const MAX_ROUNDS = 50;

const USAGE = `usage: npm run bench -- [--quick] [--rounds <n>] [--suite <${SUITES.map((s) => s.id).join('|')}>]... [--compare <old.json>] [--threshold <share>] [--strict]
       npm run bench -- --compare <old.json> <new.json> [--threshold <share>] [--strict]
       npm run bench -- --render <results.json>`;

/** What the command line asks for. */
export type Mode =
  | {
      readonly kind: 'run';
      readonly quick: boolean;
      readonly rounds: number;
      /** Suite ids given with --suite; empty for all. */
      readonly only: readonly string[];
      /** A saved results file to compare the run with. */
      readonly baseline: string | null;
      readonly threshold: number;
      readonly strict: boolean;
    }
  | { readonly kind: 'compare'; readonly old: string; readonly now: string; readonly threshold: number; readonly strict: boolean }
  | { readonly kind: 'render'; readonly file: string };

/** Parses the arguments; throws an Error whose message says what is wrong with them. */
export function parseMode(args: readonly string[]): Mode {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      suite: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      compare: { type: 'string' },
      threshold: { type: 'string' },
      render: { type: 'string' },
    },
  });
  const threshold = values.threshold === undefined ? REGRESSION_THRESHOLD : Number(values.threshold);
  if (!(threshold > 0)) throw new Error(`--threshold wants a share above 0, like 0.15 (got '${values.threshold}')`);
  const runOptions = values.quick === true || values.rounds !== undefined || values.suite !== undefined;

  if (values.render !== undefined) {
    if (runOptions || values.compare !== undefined || positionals.length > 0) throw new Error('--render takes one results file and nothing else');
    return { kind: 'render', file: values.render };
  }
  if (positionals.length > 0) {
    const now = positionals[0]!;
    if (values.compare === undefined || positionals.length > 1) throw new Error(`unexpected argument '${positionals[positionals.length - 1]}'`);
    if (runOptions) throw new Error('--compare <old> <new> compares two saved files and runs nothing: --quick, --rounds and --suite do not apply');
    return { kind: 'compare', old: values.compare, now, threshold, strict: values.strict === true };
  }

  const only = values.suite ?? [];
  for (const id of only) if (!SUITES.some((s) => s.id === id)) throw new Error(`unknown suite '${id}'`);
  const quick = values.quick === true;
  const rounds = values.rounds === undefined ? (quick ? 1 : FULL_ROUNDS) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
    throw new Error(`--rounds wants a whole number from 1 to ${MAX_ROUNDS} (got '${values.rounds}')`);
  }
  return { kind: 'run', quick, rounds, only, baseline: values.compare ?? null, threshold, strict: values.strict === true };
}

/** A file given on the command line that cannot be used: reported as a message, without a stack. */
class InputError extends Error {}

/** Reads a results file named on the command line. */
function load(file: string): Results {
  try {
    return readResults(file);
  } catch (e: unknown) {
    throw new InputError(e instanceof Error ? e.message : String(e));
  }
}

function warnIfBusy(share: number, when: string): void {
  if (share > BUSY_WARNING) {
    process.stderr.write(`bench: warning: other processes used ${(share * 100).toFixed(0)}% of the CPU ${when}; figures will be slow and noisy\n`);
  }
}

/** A path as given, made relative to the repository when it is inside it (for the doc and the compare header). */
function shown(file: string): string {
  return file.startsWith(ROOT) ? file.slice(ROOT.length) : file;
}

/** Runs the suites `rounds` times, every suite once per round, so that slow drift on the machine touches every
 *  round alike instead of one suite's rounds in a row. */
async function measure(mode: Extract<Mode, { kind: 'run' }>): Promise<Results> {
  const suites = mode.only.length === 0 ? SUITES : SUITES.filter((s) => mode.only.includes(s.id));
  const date = new Date().toISOString();
  const host = await machine();
  warnIfBusy(host.busyBefore, 'just before the run');
  const meter = new LoadMeter();
  const rounds: TaskSummary[][] = [];
  for (let round = 1; round <= mode.rounds; round++) {
    const tasks: TaskSummary[] = [];
    for (const suite of suites) {
      const start = performance.now();
      const which = mode.rounds > 1 ? `round ${round}/${mode.rounds}: ` : '';
      process.stderr.write(`bench: ${which}${suite.title} (${suite.id})${mode.quick ? ', quick' : ''}...\n`);
      tasks.push(...(await suite.run({ quick: mode.quick })));
      process.stderr.write(`bench: ${suite.id} done in ${((performance.now() - start) / 1e3).toFixed(1)} s\n`);
    }
    rounds.push(tasks);
  }
  return {
    format: RESULTS_FORMAT,
    date,
    otherLoadDuring: meter.other(),
    quick: mode.quick,
    rounds: mode.rounds,
    suites: suites.map((s) => s.id),
    machine: host,
    tasks: summarizeRounds(rounds),
    comparisons: suites.flatMap((s) => s.comparisons).map((c) => compare(c, rounds)),
  };
}

/** Regenerates the doc's tables and the chart: only from a full run of every suite, which is what they show. */
function publish(results: Results, file: string): void {
  const missing = SUITES.map((s) => s.id).filter((id) => !results.suites.includes(id));
  if (results.quick || missing.length > 0) {
    throw new InputError(`${file} is ${results.quick ? 'a --quick run' : `missing suites ${missing.join(', ')}`}; docs/benchmarks.md shows full runs of every suite`);
  }
  updateDoc(DOC, { machine: renderMachine(results, file), comparisons: renderComparisons(results), tasks: renderTasks(results) });
  writeChart(CHART, results);
  process.stdout.write('docs/benchmarks.md: tables regenerated; docs/benchmarks.svg: chart redrawn\n');
}

function reportChanges(old: Results, oldFile: string, now: Results, nowFile: string, threshold: number, strict: boolean): void {
  const changes = compareRuns(old, now, threshold);
  process.stdout.write(`\n${renderChanges(old, oldFile, now, nowFile, changes, threshold)}\n`);
  if (strict && hasRegression(changes)) process.exitCode = 1;
}

async function run(mode: Extract<Mode, { kind: 'run' }>): Promise<void> {
  // Read before the run, so that a wrong path fails now and not after minutes of measuring.
  const old = mode.baseline === null ? null : load(mode.baseline);
  const results = await measure(mode);
  process.stdout.write(`\n${renderTasks(results)}\n\n${renderComparisons(results)}\n`);
  warnIfBusy(results.otherLoadDuring, 'during the run');

  let file = 'this run (not saved: --quick)';
  if (!mode.quick) {
    file = shown(writeResults(RESULTS_DIR, results));
    process.stdout.write(`\nresults: ${file}\n`);
    if (mode.only.length === 0) publish(results, file);
    const missed = results.comparisons.filter((c) => c.met === false);
    for (const c of missed) {
      process.stderr.write(
        `bench: target missed: ${c.figure} (${formatNs(c.figureP50Ns)}) vs ${c.baseline} (${formatNs(c.baselineP50Ns)}):` +
          ` ${formatRatio(c.ratio, c.relation)}, target ${formatTarget(c)}\n`,
      );
    }
    if (missed.length > 0 && mode.strict) process.exitCode = 1;
  }
  if (old !== null && mode.baseline !== null) reportChanges(old, shown(mode.baseline), results, file, mode.threshold, mode.strict);
}

async function main(): Promise<void> {
  let mode: Mode;
  try {
    mode = parseMode(process.argv.slice(2));
  } catch (e: unknown) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  switch (mode.kind) {
    case 'run':
      return run(mode);
    case 'compare':
      return reportChanges(load(mode.old), shown(mode.old), load(mode.now), shown(mode.now), mode.threshold, mode.strict);
    case 'render':
      return publish(load(mode.file), shown(mode.file));
    default: {
      const never: never = mode;
      return never;
    }
  }
}

/** Whether this module is the program node was started with (through any symlink), not a test's import. */
function isMain(): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  main().catch((e: unknown) => {
    if (e instanceof InputError) {
      process.stderr.write(`bench: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
