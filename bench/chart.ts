// docs/benchmarks.svg: every comparison's ratio against its target, one horizontal bar per comparison, grouped by
// suite. Hand-written SVG (no chart library): the picture is a handful of rects, lines and text.
//
// How it reads. The x axis is figure / baseline on a log scale, with 1x (as fast as the baseline) marked; a bar
// runs from 1x to the ratio, right when the figure is slower than its baseline, left when it is faster. Every
// target is an upper bound on that ratio (`within` k: at most k; `faster` k: at most 1/k), drawn as a dark tick,
// so a bar meets its target when it ends left of its tick, whichever the relation. The bar is green when the
// target is met, red when not, grey when the comparison has no target; a whisker spans the lowest to highest
// ratio over the rounds. The chart lays itself out from the results alone, so a new suite needs nothing here.

import { renameSync, writeFileSync } from 'node:fs';
import { keyOf, suiteOf } from './compare.js';
import { formatRatio, formatTarget, targetRatio, type ComparisonOutcome, type Results } from './report.js';

const SANS = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
/** Text is not measured (an SVG file cannot); these over-estimate a character's advance at 12 px, so that the
 *  columns sized from them never overlap. */
const MONO_ADVANCE = 7.4;
const SANS_ADVANCE = 6.8;
const PAD = 16;
const PLOT_WIDTH = 460;
const ROW = 24;
const GROUP_HEAD = 26;
const BAR = 12;
const LEGEND_LINE = 20;

const COLOUR = {
  met: '#2e7d32',
  missed: '#c62828',
  none: '#90a4ae',
  ink: '#212121',
  muted: '#616161',
  grid: '#e0e0e0',
  wide: '#a15c00',
} as const;

/** Escapes text for an XML text node or a double-quoted attribute. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number for an attribute: two decimals at most, so the file stays small and diffs stay quiet. */
const n = (v: number): string => String(Math.round(v * 100) / 100);

function colourOf(o: ComparisonOutcome): string {
  return o.met === null ? COLOUR.none : o.met ? COLOUR.met : COLOUR.missed;
}

/** A ratio axis label: `10× faster`, `1×`, `10× slower`. */
function axisLabel(v: number): string {
  if (v === 1) return '1×';
  return v < 1 ? `${Number((1 / v).toPrecision(3))}× faster` : `${Number(v.toPrecision(3))}× slower`;
}

/** The whole decades that hold every ratio, whisker end and target, and 1x. */
function decades(comparisons: readonly ComparisonOutcome[]): { lo: number; hi: number } {
  const values = comparisons.flatMap((o) => [o.ratio, o.spread.min, o.spread.max, targetRatio(o) ?? 1]);
  let lo = Math.floor(Math.log10(Math.min(1, ...values)));
  let hi = Math.ceil(Math.log10(Math.max(1, ...values)));
  if (hi === lo) {
    lo -= 1;
    hi += 1;
  }
  return { lo, hi };
}

/** A task id without its suite prefix when the row already sits under that suite's heading. */
function shortId(id: string, suite: string): string {
  return suiteOf(id) === suite && id.length > suite.length ? id.slice(suite.length + 1) : id;
}

function verdictText(o: ComparisonOutcome): string {
  const target = o.factor === undefined ? 'no target' : `target ${formatTarget(o)}: ${o.met === true ? 'met' : 'not met'}`;
  return `${formatRatio(o.ratio, o.relation)} · ${target}`;
}

/** max / min of the rounds' ratios, when the rounds disagreed widely. */
function wideText(o: ComparisonOutcome): string | null {
  return o.spread.wide === true ? ` · wide spread, max/min ${(o.spread.max / o.spread.min).toFixed(2)}` : null;
}

interface Group {
  readonly suite: string;
  readonly rows: readonly ComparisonOutcome[];
}

function groups(comparisons: readonly ComparisonOutcome[]): Group[] {
  const bySuite = new Map<string, ComparisonOutcome[]>();
  for (const o of comparisons) {
    const suite = suiteOf(o.figure);
    const rows = bySuite.get(suite);
    if (rows === undefined) bySuite.set(suite, [o]);
    else rows.push(o);
  }
  return [...bySuite].map(([suite, rows]) => ({ suite, rows }));
}

/** Legend entries laid out left to right, wrapping to a new line when the next would not fit. */
function legend(rounds: number, x0: number, y0: number, width: number): { svg: string[]; height: number } {
  const items: { mark: (x: number, y: number) => string; text: string }[] = [
    { mark: (x, y) => `<rect x="${n(x)}" y="${n(y - 9)}" width="18" height="${BAR}" fill="${COLOUR.met}"/>`, text: 'target met' },
    { mark: (x, y) => `<rect x="${n(x)}" y="${n(y - 9)}" width="18" height="${BAR}" fill="${COLOUR.missed}"/>`, text: 'target not met' },
    { mark: (x, y) => `<rect x="${n(x)}" y="${n(y - 9)}" width="18" height="${BAR}" fill="${COLOUR.none}"/>`, text: 'no target (for reference)' },
    { mark: (x, y) => `<line x1="${n(x + 9)}" y1="${n(y - 11)}" x2="${n(x + 9)}" y2="${n(y + 5)}" stroke="${COLOUR.ink}" stroke-width="2.5"/>`, text: 'target: a bar meets it when it ends left of it' },
  ];
  if (rounds > 1) {
    items.push({
      mark: (x, y) => `<path d="M${n(x)} ${n(y - 7)}v8M${n(x)} ${n(y - 3)}h18M${n(x + 18)} ${n(y - 7)}v8" stroke="${COLOUR.ink}" fill="none"/>`,
      text: `lowest to highest ratio over the ${rounds} rounds`,
    });
  }
  const svg: string[] = [];
  let x = x0;
  let y = y0;
  for (const item of items) {
    const w = 26 + item.text.length * SANS_ADVANCE + 18;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += LEGEND_LINE;
    }
    svg.push(item.mark(x, y), `<text x="${n(x + 24)}" y="${n(y)}">${esc(item.text)}</text>`);
    x += w;
  }
  return { svg, height: y - y0 + LEGEND_LINE };
}

/** The chart for a run, as a standalone SVG document. */
export function renderChart(r: Results): string {
  const grouped = groups(r.comparisons);
  const labels = grouped.flatMap((g) => g.rows.map((o) => `${shortId(o.figure, g.suite)} ÷ ${shortId(o.baseline, g.suite)}`));
  const labelWidth = Math.max(180, ...labels.map((l) => l.length * MONO_ADVANCE)) + 2 * PAD;
  const notes = r.comparisons.map((o) => verdictText(o) + (wideText(o) ?? ''));
  const noteWidth = Math.max(260, ...notes.map((t) => t.length * SANS_ADVANCE)) + 2 * PAD;
  const width = Math.round(labelWidth + PLOT_WIDTH + noteWidth);
  const plotLeft = labelWidth;
  const plotRight = labelWidth + PLOT_WIDTH;
  const { lo, hi } = decades(r.comparisons);
  const x = (ratio: number): number => plotLeft + ((Math.log10(ratio) - lo) / (hi - lo)) * PLOT_WIDTH;

  const title = 'Agentix benchmarks: each figure against its baseline, measured in the same run';
  const m = r.machine;
  const subtitle = `${r.date} · ${m.cpu}, ${m.cores} cores · Node ${m.node} · ${r.rounds} round${r.rounds === 1 ? '' : 's'}` +
    (r.quick ? ' · --quick: rough figures' : '');
  const body: string[] = [
    `<text x="${PAD}" y="${PAD + 14}" font-size="16" font-weight="600">${esc(title)}</text>`,
    `<text x="${PAD}" y="${PAD + 34}" fill="${COLOUR.muted}">${esc(subtitle)}</text>`,
  ];
  const key = legend(r.rounds, PAD, PAD + 60, width - 2 * PAD);
  body.push(...key.svg);
  const plotTop = PAD + 60 + key.height;

  // Rows first, so the grid can span exactly the rows drawn.
  const rows: string[] = [];
  let y = plotTop;
  for (const g of grouped) {
    rows.push(
      `<line x1="${PAD}" y1="${n(y + 0.5)}" x2="${width - PAD}" y2="${n(y + 0.5)}" stroke="${COLOUR.grid}"/>`,
      `<text x="${PAD}" y="${n(y + 18)}" font-weight="600">${esc(g.suite)}</text>`,
    );
    y += GROUP_HEAD;
    for (const o of g.rows) {
      rows.push(row(o, g.suite, y + ROW / 2, x, plotRight, r.rounds));
      y += ROW;
    }
  }
  const plotBottom = y + 6;

  const grid: string[] = [];
  for (let d = lo; d <= hi; d++) {
    for (const step of d < hi ? [1, 2, 5] : [1]) {
      const v = step * 10 ** d;
      const gx = n(x(v));
      const major = step === 1;
      grid.push(`<line x1="${gx}" y1="${n(plotTop)}" x2="${gx}" y2="${n(plotBottom)}" stroke="${major ? '#bdbdbd' : COLOUR.grid}"${v === 1 ? ' stroke-dasharray="4 3" stroke-width="1.5"' : ''}/>`);
      if (major) grid.push(`<text x="${gx}" y="${n(plotBottom + 16)}" text-anchor="middle" fill="${COLOUR.muted}">${esc(axisLabel(v))}</text>`);
    }
  }
  const caption = [
    'figure ÷ baseline, log scale: left of 1× the figure is faster than its baseline, right of it slower.',
    'Every target is a bound on this ratio, so a bar meets its target when it ends left of its tick.',
  ];
  const captionY = plotBottom + 40;
  const height = Math.round(captionY + 18 + PAD);
  const desc = `One bar per comparison (${r.comparisons.length}): ${caption.join(' ')}`;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc" font-family="${esc(SANS)}" font-size="12" fill="${COLOUR.ink}">`,
    `<title id="chart-title">${esc(title)}</title>`,
    `<desc id="chart-desc">${esc(desc)}</desc>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...grid,
    ...body,
    ...rows,
    ...caption.map((line, i) => `<text x="${n(plotLeft)}" y="${n(captionY + i * 16)}" fill="${COLOUR.muted}">${esc(line)}</text>`),
    '</svg>',
    '',
  ].join('\n');
}

/** One comparison: label, bar from 1x to the ratio, whisker over the rounds, target tick, verdict. */
function row(o: ComparisonOutcome, suite: string, mid: number, x: (ratio: number) => number, plotRight: number, rounds: number): string {
  const from = x(1);
  const to = x(o.ratio);
  const label = `${shortId(o.figure, suite)} ÷ ${shortId(o.baseline, suite)}`;
  const tooltip = `${keyOf(o)}: ${verdictText(o)}${o.spread.byRound.length > 1 ? ` (rounds: ${o.spread.byRound.map((v) => formatRatio(v, o.relation)).join(', ')})` : ''}`;
  const parts = [
    `<g class="comparison" data-comparison="${esc(keyOf(o))}">`,
    `<title>${esc(tooltip)}</title>`,
    `<text x="${PAD}" y="${n(mid + 4)}" font-family="${esc(MONO)}">${esc(label)}</text>`,
    `<rect class="bar" x="${n(Math.min(from, to))}" y="${n(mid - BAR / 2)}" width="${n(Math.max(1, Math.abs(to - from)))}" height="${BAR}" fill="${colourOf(o)}"/>`,
  ];
  if (rounds > 1 && o.spread.byRound.length > 1) {
    const a = n(x(o.spread.min));
    const b = n(x(o.spread.max));
    parts.push(`<path class="whisker" d="M${a} ${n(mid - 4)}v8M${a} ${n(mid)}H${b}M${b} ${n(mid - 4)}v8" stroke="${COLOUR.ink}" fill="none"/>`);
  }
  const target = targetRatio(o);
  if (target !== null) {
    const t = n(x(target));
    parts.push(`<line class="target" x1="${t}" y1="${n(mid - 10)}" x2="${t}" y2="${n(mid + 10)}" stroke="${COLOUR.ink}" stroke-width="2.5"/>`);
  }
  const wide = wideText(o);
  parts.push(
    `<text x="${n(plotRight + PAD)}" y="${n(mid + 4)}"><tspan fill="${colourOf(o) === COLOUR.none ? COLOUR.ink : colourOf(o)}">${esc(verdictText(o))}</tspan>` +
      // Renderers drop the leading space of a tspan; dx puts the gap back.
      (wide === null ? '' : `<tspan dx="4" fill="${COLOUR.wide}" font-weight="600">${esc(wide.trimStart())}</tspan>`) + '</text>',
    '</g>',
  );
  return parts.join('');
}

/** Writes the chart through a temporary file, as the results are written. */
export function writeChart(file: string, r: Results): void {
  writeFileSync(`${file}.tmp`, renderChart(r));
  renameSync(`${file}.tmp`, file);
}
