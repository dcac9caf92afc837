// Results: the machine, the comparisons against baselines, the JSON file per run, and the generated parts of
// docs/benchmarks.md. The doc is written by hand except between its marker comments, which only this file writes.

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
  /** Share of all cores (0..1) other processes kept busy in the half second before the run. */
  readonly busyBefore: number;
  /** os.loadavg() just before the run: 1, 5 and 15 minutes. */
  readonly loadavg: readonly number[];
}

export interface ComparisonOutcome extends Comparison {
  readonly figureP50Ns: number;
  readonly baselineP50Ns: number;
  /** figure p50 / baseline p50: below 1 the figure is faster. */
  readonly ratio: number;
  /** null when the comparison has no target. */
  readonly met: boolean | null;
}

export interface Results {
  /** When the run started, ISO 8601. */
  readonly date: string;
  /** Share of all cores that other processes kept busy while the suites ran (0..1): what makes a run noisy. */
  readonly otherLoadDuring: number;
  readonly quick: boolean;
  readonly suites: readonly string[];
  readonly machine: Machine;
  readonly tasks: readonly TaskSummary[];
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
    busyBefore: meter.other(),
    loadavg: os.loadavg(),
  };
}

export function compare(c: Comparison, tasks: readonly TaskSummary[]): ComparisonOutcome {
  const find = (id: string): TaskSummary => {
    const t = tasks.find((x) => x.id === id);
    if (t === undefined) throw new Error(`comparison refers to ${id}, which no suite measured`);
    return t;
  };
  const figure = find(c.figure).p50Ns;
  const baseline = find(c.baseline).p50Ns;
  const ratio = figure / baseline;
  const met = c.factor === undefined ? null : c.relation === 'within' ? ratio <= c.factor : 1 / ratio >= c.factor;
  return { ...c, figureP50Ns: figure, baselineP50Ns: baseline, ratio, met };
}

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

// ---- rendering ----------------------------------------------------------------------------------------------

/** Three significant digits in the unit that suits the value. */
export function formatNs(ns: number): string {
  const [v, unit] = ns >= 1e6 ? [ns / 1e6, 'ms'] : ns >= 1e3 ? [ns / 1e3, 'µs'] : [ns, 'ns'];
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}

function formatRatio(o: ComparisonOutcome): string {
  if (o.relation === 'within') return `${o.ratio.toFixed(2)}×`;
  return o.ratio <= 1 ? `${(1 / o.ratio).toFixed(1)}× faster` : `${o.ratio.toFixed(1)}× slower`;
}

function formatTarget(o: ComparisonOutcome): string {
  if (o.factor === undefined) return '—';
  return o.relation === 'within' ? `≤ ${o.factor}×` : `≥ ${o.factor}× faster`;
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
    `- Node ${m.node} on ${m.platform}/${m.arch}`,
    `- Other processes' load: ${pct(m.busyBefore)} of all cores just before the run, ${pct(r.otherLoadDuring)} during it` +
      ` (load average before: ${m.loadavg.map((l) => l.toFixed(2)).join(', ')})`,
    `- Run: ${r.date} (\`${file}\`)`,
  ].join('\n');
}

export function renderComparisons(r: Results): string {
  return table(
    ['Figure', 'p50', 'Baseline', 'p50', 'Ratio', 'Target', 'Met'],
    r.comparisons.map((o) => [
      `${labelOf(o.figure, r.tasks)} (\`${o.figure}\`)`, formatNs(o.figureP50Ns),
      `${labelOf(o.baseline, r.tasks)} (\`${o.baseline}\`)`, formatNs(o.baselineP50Ns),
      formatRatio(o), formatTarget(o), formatMet(o),
    ]),
  );
}

export function renderTasks(r: Results): string {
  return table(
    ['Task', 'What', 'mean', 'p50', 'p99', 'min', 'max', 'samples', 'ops/sample', 'ops/s'],
    r.tasks.map((t) => [
      `\`${t.id}\``, t.label, formatNs(t.meanNs), formatNs(t.p50Ns), formatNs(t.p99Ns), formatNs(t.minNs),
      formatNs(t.maxNs), String(t.samples), String(t.opsPerSample), Math.round(t.opsPerSec).toLocaleString('en-US'),
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
