// One run against another: `npm run bench -- --compare old.json` (after a run) or `--compare old.json new.json`
// (two saved files, nothing run). What is compared is each comparison's ratio, figure / baseline, never a raw
// time: both halves of a ratio were measured in the same run, so a machine that is slower or busier on one day
// moves both, and the ratio moves only when the code under test does.

import { formatRatio, formatSpread, formatTarget, type ComparisonOutcome, type Results } from './report.js';

/** A ratio that grows by more than this share (figure slower against its baseline) is a regression; one that
 *  shrinks by as much in log terms (new / old below 1 / (1 + threshold)) is an improvement. */
export const REGRESSION_THRESHOLD = 0.15;

/** How one comparison moved between two runs. */
export type Change =
  | {
      readonly state: 'both';
      readonly old: ComparisonOutcome;
      readonly now: ComparisonOutcome;
      /** now.ratio / old.ratio: above 1 the figure got slower relative to its baseline, whatever the relation. */
      readonly factor: number;
      readonly verdict: 'regression' | 'improvement' | 'unchanged';
      /** Either run's rounds disagreed widely (Spread.wide): the move may be noise. */
      readonly noisy: boolean;
    }
  | { readonly state: 'added'; readonly now: ComparisonOutcome }
  | { readonly state: 'removed'; readonly old: ComparisonOutcome };

/** figure ÷ baseline: how a comparison is named across runs. */
export function keyOf(c: { readonly figure: string; readonly baseline: string }): string {
  return `${c.figure} ÷ ${c.baseline}`;
}

/** The suite a task id belongs to: ids are `<suite>/<task>`. */
export function suiteOf(id: string): string {
  const slash = id.indexOf('/');
  return slash < 0 ? id : id.slice(0, slash);
}

export function judge(factor: number, threshold: number): 'regression' | 'improvement' | 'unchanged' {
  if (factor > 1 + threshold) return 'regression';
  if (factor < 1 / (1 + threshold)) return 'improvement';
  return 'unchanged';
}

/**
 * Every comparison of a suite that both runs measured, in the new run's order, then those only the old run had.
 * A comparison whose suite only one run measured (a `--suite` run against a full one) is left out, not reported
 * as added or removed.
 */
export function compareRuns(old: Results, now: Results, threshold = REGRESSION_THRESHOLD): Change[] {
  const inBoth = (o: ComparisonOutcome): boolean => old.suites.includes(suiteOf(o.figure)) && now.suites.includes(suiteOf(o.figure));
  const before = new Map(old.comparisons.filter(inBoth).map((o) => [keyOf(o), o]));
  const changes: Change[] = [];
  for (const o of now.comparisons.filter(inBoth)) {
    const was = before.get(keyOf(o));
    before.delete(keyOf(o));
    if (was === undefined) {
      changes.push({ state: 'added', now: o });
      continue;
    }
    const factor = o.ratio / was.ratio;
    changes.push({
      state: 'both', old: was, now: o, factor, verdict: judge(factor, threshold),
      noisy: was.spread.wide === true || o.spread.wide === true,
    });
  }
  for (const was of before.values()) changes.push({ state: 'removed', old: was });
  return changes;
}

/** A ratio with its rounds' range and whether it met its target: `2.24× (2.10–2.41×) met`. */
function cell(o: ComparisonOutcome): string {
  const range = formatSpread(o);
  const met = o.met === null ? '' : o.met ? ' met' : ' not met';
  return `${formatRatio(o.ratio, o.relation)}${range === '' ? '' : ` (${range}${o.spread.wide === true ? ', wide' : ''})`}${met}`;
}

function percent(factor: number): string {
  const p = (factor - 1) * 100;
  return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(Math.abs(p) >= 100 ? 0 : 1)}%`;
}

function describeRun(r: Results, file: string): string {
  const m = r.machine;
  const rounds = `${r.rounds} round${r.rounds === 1 ? '' : 's'}`;
  return `${file}: ${r.date}, ${rounds}${r.quick ? ', --quick' : ''}; ${m.cpu} × ${m.cores}, Node ${m.node}`;
}

/** What makes the two runs less comparable than usual, one line each. */
function caveats(old: Results, now: Results): string[] {
  const notes: string[] = [];
  const same = (f: (r: Results) => string | number): boolean => f(old) === f(now);
  if (!same((r) => r.machine.cpu) || !same((r) => r.machine.cores)) {
    notes.push('the runs are on different machines: ratios travel between machines better than times, not perfectly');
  }
  if (!same((r) => r.machine.node)) notes.push('the runs are on different Node versions');
  if (old.quick || now.quick) notes.push('a --quick run is a few samples of barely warm code: its ratios are rough');
  if (old.rounds < 2 || now.rounds < 2) notes.push('a run of one round has no spread to tell noise from change');
  const onlyIn = (a: Results, b: Results): string[] => a.suites.filter((s) => !b.suites.includes(s));
  const oldOnly = onlyIn(old, now);
  const newOnly = onlyIn(now, old);
  if (oldOnly.length > 0) notes.push(`not compared, measured only in old: ${oldOnly.join(', ')}`);
  if (newOnly.length > 0) notes.push(`not compared, measured only in new: ${newOnly.join(', ')}`);
  return notes;
}

/** The comparison as a markdown table (so it pastes into an issue), with a summary of what moved. */
export function renderChanges(
  old: Results, oldFile: string, now: Results, nowFile: string, changes: readonly Change[], threshold = REGRESSION_THRESHOLD,
): string {
  const t = `${(threshold * 100).toFixed(0)}%`;
  const rows = changes.map((c): string => {
    switch (c.state) {
      case 'both': {
        const flag = c.verdict === 'regression' ? '**regression**' : c.verdict === 'improvement' ? 'improvement' : '';
        const noise = c.noisy && c.verdict !== 'unchanged' ? ' (wide spread: may be noise)' : '';
        return `| \`${keyOf(c.now)}\` | ${formatTarget(c.now)} | ${cell(c.old)} | ${cell(c.now)} | ${percent(c.factor)} | ${flag}${noise} |`;
      }
      case 'added':
        return `| \`${keyOf(c.now)}\` | ${formatTarget(c.now)} | — | ${cell(c.now)} | | new |`;
      case 'removed':
        return `| \`${keyOf(c.old)}\` | ${formatTarget(c.old)} | ${cell(c.old)} | — | | gone |`;
      default: {
        const never: never = c;
        return never;
      }
    }
  });
  const moved = (v: 'regression' | 'improvement'): string[] =>
    changes.flatMap((c) => (c.state === 'both' && c.verdict === v ? [`${keyOf(c.now)} ${percent(c.factor)}`] : []));
  const regressions = moved('regression');
  const improvements = moved('improvement');
  return [
    `Ratios (figure ÷ baseline, the median over rounds), old against new. Change is new ÷ old − 1: + means the figure`,
    `got slower against its baseline. Beyond ±${t} it is flagged.`,
    `  old: ${describeRun(old, oldFile)}`,
    `  new: ${describeRun(now, nowFile)}`,
    ...caveats(old, now).map((n) => `  note: ${n}`),
    '',
    '| Comparison | Target | Old | New | Change | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    regressions.length === 0 ? `No regression beyond ${t}.` : `${regressions.length} regression(s) beyond ${t}: ${regressions.join('; ')}`,
    ...(improvements.length === 0 ? [] : [`${improvements.length} improvement(s) beyond ${t}: ${improvements.join('; ')}`]),
  ].join('\n');
}

/** Whether any comparison got worse beyond the threshold (for --strict). */
export function hasRegression(changes: readonly Change[]): boolean {
  return changes.some((c) => c.state === 'both' && c.verdict === 'regression');
}
