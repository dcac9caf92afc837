// Results: the machine, the comparisons against baselines over every round, the JSON file per run (and reading
// back the files of earlier formats), and the generated parts of docs/benchmarks.md. The doc is written by hand
// except between its marker comments, which only this file writes.

import os from 'node:os';
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Comparison, TaskSummary } from './suite.js';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  /** The kernel's name and release (`Linux 6.8.0-45-generic`); absent from files written before format 2. */
  readonly os?: string;
  /** The kernel's build string (os.version()); absent from files written before format 2. */
  readonly osVersion?: string;
  /** Share of all cores (0..1) other processes kept busy in the half second before the run. */
  readonly busyBefore: number;
  /** os.loadavg() just before the run: 1, 5 and 15 minutes. */
  readonly loadavg: readonly number[];
}

/** Above this max / min of a quantity over the rounds, the rounds disagree too much for one figure to stand for
 *  them: a 1.3x swing is as large as the tightest target's margin (sleep/wake within 1.3x of raw). */
export const WIDE_SPREAD = 1.3;

/** One quantity measured once per round: its lowest, middle and highest value. */
export interface Spread {
  /** One value per round, in the order the rounds ran. */
  readonly byRound: readonly number[];
  readonly min: number;
  /** The middle value; with an even count, the mean of the two middle ones. */
  readonly median: number;
  readonly max: number;
  /** max / min above WIDE_SPREAD; null with a single round, where there is nothing to disagree with. */
  readonly wide: boolean | null;
}

/** A task over every round: the summary fields are the median over rounds (min and max the extremes, samples
 *  the total; the label the first round's), and byRound keeps each round's own summary. */
export interface TaskResult extends TaskSummary {
  readonly byRound: readonly TaskSummary[];
}

export interface ComparisonOutcome extends Comparison {
  /** Median over rounds of the figure's p50. */
  readonly figureP50Ns: number;
  readonly baselineP50Ns: number;
  /** Median over rounds of figure p50 / baseline p50, each round's pair measured together: below 1 the figure is
   *  faster. The median of ratios, not a ratio of medians, so that it is a ratio some round actually saw. */
  readonly ratio: number;
  /** The per-round ratios. */
  readonly spread: Spread;
  /** Whether `ratio` meets the target; null when the comparison has no target. */
  readonly met: boolean | null;
}

/** Format 1 (no `format` field) had one round, no spread and no OS in the machine; readResults fills those in. */
export const RESULTS_FORMAT = 2;

export interface Results {
  readonly format: typeof RESULTS_FORMAT;
  /** When the run started, ISO 8601. */
  readonly date: string;
  /** Share of all cores that other processes kept busy while the suites ran (0..1): what makes a run noisy. */
  readonly otherLoadDuring: number;
  readonly quick: boolean;
  /** How many times every suite ran, each time from a fresh start (kernels booted anew, tasks recalibrated). */
  readonly rounds: number;
  readonly suites: readonly string[];
  readonly machine: Machine;
  readonly tasks: readonly TaskResult[];
  readonly comparisons: readonly ComparisonOutcome[];
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.idle + c.times.user + c.times.nice + c.times.sys + c.times.irq;
  }
  return { idle, total };
}

/**
 * Measures how much CPU other processes use over an interval: all cores' busy time minus this process's own
 * (every thread of it, workers included).
 */
export class LoadMeter {
  private readonly cpu = cpuTimes();
  private readonly own = process.cpuUsage();

  /** The share of all cores (0..1) busy with other work since construction. */
  other(): number {
    const cpu = cpuTimes();
    const own = process.cpuUsage(this.own);
    const total = cpu.total - this.cpu.total;
    const busy = total - (cpu.idle - this.cpu.idle);
    const ownMs = (own.user + own.system) / 1e3;
    return total > 0 ? Math.max(0, (busy - ownMs) / total) : 0;
  }
}

/** Describes the machine, and how busy other work keeps it: the suites spin on two threads, so a busy machine
 *  turns spinning round trips into sleeping ones and every figure gets slower and noisier. */
export async function machine(): Promise<Machine> {
  const meter = new LoadMeter();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    os: `${os.type()} ${os.release()}`,
    osVersion: os.version(),
    busyBefore: meter.other(),
    loadavg: os.loadavg(),
  };
}

// ---- figures over rounds --------------------------------------------------------------------------------------

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spreadOf(byRound: readonly number[]): Spread {
  if (byRound.length === 0) throw new Error('a spread needs at least one round');
  const sorted = [...byRound].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  return { byRound, min, median: median(sorted), max, wide: byRound.length < 2 ? null : max / min > WIDE_SPREAD };
}

/** Every task measured in any round, in the order of first appearance, with its rounds folded together. */
export function summarizeRounds(rounds: readonly (readonly TaskSummary[])[]): TaskResult[] {
  const byId = new Map<string, TaskSummary[]>();
  for (const round of rounds) {
    for (const t of round) {
      const seen = byId.get(t.id);
      if (seen === undefined) byId.set(t.id, [t]);
      else seen.push(t);
    }
  }
  return [...byId.values()].map((byRound) => {
    const mid = (pick: (t: TaskSummary) => number): number => spreadOf(byRound.map(pick)).median;
    const first = byRound[0]!;
    return {
      id: first.id,
      label: first.label,
      opsPerSample: mid((t) => t.opsPerSample),
      meanNs: mid((t) => t.meanNs),
      p50Ns: mid((t) => t.p50Ns),
      p99Ns: mid((t) => t.p99Ns),
      minNs: Math.min(...byRound.map((t) => t.minNs)),
      maxNs: Math.max(...byRound.map((t) => t.maxNs)),
      samples: byRound.reduce((n, t) => n + t.samples, 0),
      opsPerSec: mid((t) => t.opsPerSec),
      byRound,
    };
  });
}

/** Whether a figure / baseline ratio meets the comparison's target; null without one. */
export function meets(c: Comparison, ratio: number): boolean | null {
  if (c.factor === undefined) return null;
  return c.relation === 'within' ? ratio <= c.factor : 1 / ratio >= c.factor;
}

/** Every target is an upper bound on figure / baseline: `within` k allows k, `faster` k allows 1/k. */
export function targetRatio(c: Comparison): number | null {
  if (c.factor === undefined) return null;
  return c.relation === 'within' ? c.factor : 1 / c.factor;
}

/** Reads a comparison in every round (each round's figure against that round's baseline) and judges the median. */
export function compare(c: Comparison, rounds: readonly (readonly TaskSummary[])[]): ComparisonOutcome {
  const p50 = (round: readonly TaskSummary[], id: string): number => {
    const t = round.find((x) => x.id === id);
    if (t === undefined) throw new Error(`comparison refers to ${id}, which no suite measured`);
    return t.p50Ns;
  };
  const spread = spreadOf(rounds.map((r) => p50(r, c.figure) / p50(r, c.baseline)));
  return {
    ...c,
    figureP50Ns: spreadOf(rounds.map((r) => p50(r, c.figure))).median,
    baselineP50Ns: spreadOf(rounds.map((r) => p50(r, c.baseline))).median,
    ratio: spread.median,
    spread,
    met: meets(c, spread.median),
  };
}

// ---- the results file -----------------------------------------------------------------------------------------

/** bench/results/<ISO date>.json, with the colons of the time replaced so the name is portable. */
export function resultsPath(dir: string, date: string): string {
  return path.join(dir, `${date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
}

/** Writes through a temporary file, so an interrupted run never leaves half a results file. */
export function writeResults(dir: string, results: Results): string {
  mkdirSync(dir, { recursive: true });
  const file = resultsPath(dir, results.date);
  writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return file;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the fields this code reads, so a wrong file fails with its name and the field, not later with NaN. */
function need(o: Json, key: string, kind: 'string' | 'number' | 'boolean' | 'object' | 'array', where: string): void {
  const v = o[key];
  const ok = kind === 'array' ? Array.isArray(v) : kind === 'object' ? isObject(v) : typeof v === kind;
  if (!ok) throw new Error(`${where}: '${key}' should be ${kind === 'array' || kind === 'object' ? `an ${kind}` : `a ${kind}`}`);
}

const TASK_NUMBERS = ['opsPerSample', 'meanNs', 'p50Ns', 'p99Ns', 'minNs', 'maxNs', 'samples', 'opsPerSec'] as const;

function readSummary(t: unknown, where: string): TaskSummary & Json {
  if (!isObject(t)) throw new Error(`${where}: a task should be an object`);
  need(t, 'id', 'string', where);
  need(t, 'label', 'string', where);
  for (const k of TASK_NUMBERS) need(t, k, 'number', `${where} (${String(t.id)})`);
  return t as TaskSummary & Json;
}

function readTask(t: unknown, where: string): TaskResult {
  const task = readSummary(t, where);
  if (task.byRound === undefined) return { ...task, byRound: [task] };
  need(task, 'byRound', 'array', `${where} (${task.id})`);
  return { ...task, byRound: (task.byRound as unknown[]).map((r) => readSummary(r, `${where} (${task.id} round)`)) };
}

function readComparison(c: unknown, where: string): ComparisonOutcome {
  if (!isObject(c)) throw new Error(`${where}: a comparison should be an object`);
  for (const k of ['figure', 'baseline', 'relation'] as const) need(c, k, 'string', where);
  for (const k of ['figureP50Ns', 'baselineP50Ns', 'ratio'] as const) need(c, k, 'number', where);
  if (c.relation !== 'within' && c.relation !== 'faster') throw new Error(`${where}: unknown relation '${String(c.relation)}'`);
  if (c.factor !== undefined) need(c, 'factor', 'number', where);
  const outcome = c as unknown as ComparisonOutcome;
  if (c.spread === undefined) return { ...outcome, spread: spreadOf([outcome.ratio]) };
  need(c, 'spread', 'object', where);
  const spread = c.spread as Json;
  need(spread, 'byRound', 'array', `${where} spread`);
  const byRound = spread.byRound as unknown[];
  if (!byRound.every((x): x is number => typeof x === 'number')) throw new Error(`${where}: a spread's rounds should be numbers`);
  // Recomputed rather than trusted, so that min, median, max and the wide flag follow this code's definitions.
  return { ...outcome, spread: spreadOf(byRound) };
}

/** Reads a results file of this format or an earlier one, as this format: a format-1 file is one round. */
export function parseResults(text: string, where: string): Results {
  const r: unknown = JSON.parse(text);
  if (!isObject(r)) throw new Error(`${where}: not a benchmark results file`);
  if (r.format !== undefined && r.format !== RESULTS_FORMAT) throw new Error(`${where}: results format ${String(r.format)} is newer than this code reads`);
  for (const [k, kind] of [['date', 'string'], ['quick', 'boolean'], ['machine', 'object'], ['suites', 'array'], ['tasks', 'array'], ['comparisons', 'array']] as const) {
    need(r, k, kind, where);
  }
  const m = r.machine as Json;
  for (const k of ['cpu', 'node', 'platform', 'arch'] as const) need(m, k, 'string', `${where} machine`);
  need(m, 'cores', 'number', `${where} machine`);
  return {
    format: RESULTS_FORMAT,
    date: r.date as string,
    otherLoadDuring: typeof r.otherLoadDuring === 'number' ? r.otherLoadDuring : 0,
    quick: r.quick as boolean,
    rounds: typeof r.rounds === 'number' ? r.rounds : 1,
    suites: (r.suites as unknown[]).map(String),
    machine: { memoryBytes: 0, busyBefore: 0, loadavg: [], ...m } as unknown as Machine,
    tasks: (r.tasks as unknown[]).map((t) => readTask(t, where)),
    comparisons: (r.comparisons as unknown[]).map((c) => readComparison(c, where)),
  };
}

export function readResults(file: string): Results {
  return parseResults(readFileSync(file, 'utf8'), file);
}

// ---- rendering ------------------------------------------------------------------------------------------------

/** Three significant digits in the unit that suits the value. */
export function formatNs(ns: number): string {
  const [v, unit] = ns >= 1e6 ? [ns / 1e6, 'ms'] : ns >= 1e3 ? [ns / 1e3, 'µs'] : [ns, 'ns'];
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}

/** A figure / baseline ratio the way its comparison reads: `2.24×` for within, `95.2× faster` for faster. */
export function formatRatio(ratio: number, relation: Comparison['relation']): string {
  if (relation === 'within') return `${ratio.toFixed(2)}×`;
  return ratio <= 1 ? `${(1 / ratio).toFixed(1)}× faster` : `${ratio.toFixed(1)}× slower`;
}

/** The rounds' lowest to highest ratio, in the comparison's own terms; '' with a single round. */
export function formatSpread(o: ComparisonOutcome): string {
  const s = o.spread;
  if (s.byRound.length < 2) return '';
  if (o.relation === 'faster' && s.max <= 1) return `${(1 / s.max).toFixed(1)}–${(1 / s.min).toFixed(1)}× faster`;
  return `${s.min.toFixed(2)}–${s.max.toFixed(2)}×`;
}

export function formatTarget(c: Comparison): string {
  if (c.factor === undefined) return '—';
  return c.relation === 'within' ? `≤ ${c.factor}×` : `≥ ${c.factor}× faster`;
}

function formatMet(o: ComparisonOutcome): string {
  return o.met === null ? '—' : o.met ? 'met' : '**not met**';
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function labelOf(id: string, tasks: readonly TaskSummary[]): string {
  return tasks.find((t) => t.id === id)?.label ?? id;
}

const pct = (share: number): string => `${(share * 100).toFixed(0)}%`;

export function renderMachine(r: Results, file: string): string {
  const m = r.machine;
  const gib = (m.memoryBytes / 1024 ** 3).toFixed(1);
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores`,
    `- Memory: ${gib} GiB`,
    `- Node ${m.node} on ${m.platform}/${m.arch}${m.os === undefined ? '' : ` (${m.os})`}`,
    `- Other processes' load: ${pct(m.busyBefore)} of all cores just before the run, ${pct(r.otherLoadDuring)} during it` +
      ` (load average before: ${m.loadavg.map((l) => l.toFixed(2)).join(', ')})`,
    `- Run: ${r.date}, ${r.rounds} round${r.rounds === 1 ? '' : 's'} (\`${file}\`)`,
  ].join('\n');
}

export function renderComparisons(r: Results): string {
  return table(
    ['Figure', 'p50', 'Baseline', 'p50', 'Ratio', 'Rounds', 'Target', 'Met'],
    r.comparisons.map((o) => [
      `${labelOf(o.figure, r.tasks)} (\`${o.figure}\`)`, formatNs(o.figureP50Ns),
      `${labelOf(o.baseline, r.tasks)} (\`${o.baseline}\`)`, formatNs(o.baselineP50Ns),
      formatRatio(o.ratio, o.relation),
      o.spread.byRound.length < 2 ? '—' : `${formatSpread(o)}${o.spread.wide === true ? ' **wide**' : ''}`,
      formatTarget(o), formatMet(o),
    ]),
  );
}

/** A task's p50 in every round, lowest to highest; '—' with a single round. */
function p50Range(t: TaskResult): string {
  if (t.byRound.length < 2) return '—';
  const s = spreadOf(t.byRound.map((x) => x.p50Ns));
  return `${formatNs(s.min)}–${formatNs(s.max)}${s.wide === true ? ' **wide**' : ''}`;
}

export function renderTasks(r: Results): string {
  return table(
    ['Task', 'What', 'mean', 'p50', 'p50 by round', 'p99', 'min', 'max', 'samples', 'ops/sample', 'ops/s'],
    r.tasks.map((t) => [
      `\`${t.id}\``, t.label, formatNs(t.meanNs), formatNs(t.p50Ns), p50Range(t), formatNs(t.p99Ns), formatNs(t.minNs),
      formatNs(t.maxNs), String(t.samples), String(Math.round(t.opsPerSample)), Math.round(t.opsPerSec).toLocaleString('en-US'),
    ]),
  );
}

/** Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` for each section given. */
export function updateDoc(file: string, sections: Readonly<Record<string, string>>): void {
  let text = readFileSync(file, 'utf8');
  for (const [name, body] of Object.entries(sections)) {
    const open = `<!-- bench:${name} -->`;
    const close = `<!-- /bench:${name} -->`;
    const a = text.indexOf(open);
    const b = text.indexOf(close);
    if (a < 0 || b < a) throw new Error(`${file} has no ${open} ... ${close} section to regenerate`);
    text = `${text.slice(0, a + open.length)}\n${body}\n${text.slice(b)}`;
  }
  writeFileSync(file, text);
}
