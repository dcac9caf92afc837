// The benchmark report's pure parts: ratios over rounds and their spread, the results file (this format and the
// committed files of format 1), run-against-run comparison, the chart and the command line. Nothing here runs a
// benchmark or looks at a clock.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChart } from '../dist/bench/chart.js';
import { compareRuns, hasRegression, renderChanges, type Change } from '../dist/bench/compare.js';
import {
  compare, meets, parseResults, readResults, renderComparisons, renderTasks, RESULTS_FORMAT, spreadOf, summarizeRounds,
  targetRatio, writeResults, type Results,
} from '../dist/bench/report.js';
import { parseMode } from '../dist/bench/run.js';
import type { Comparison, TaskSummary } from '../dist/bench/suite.js';

const RESULTS_DIR = new URL('../bench/results/', import.meta.url);

function task(id: string, p50Ns: number, extra: Partial<TaskSummary> = {}): TaskSummary {
  return {
    id, label: `label of ${id}`, opsPerSample: 100, meanNs: p50Ns, p50Ns, p99Ns: p50Ns * 2, minNs: p50Ns / 2, maxNs: p50Ns * 3,
    samples: 10, opsPerSec: 1e9 / p50Ns, ...extra,
  };
}

/** A run whose rounds measured `a/fig`, `a/base` and the like: p50s per round, by task id. */
function run(comparisons: readonly Comparison[], rounds: readonly Record<string, number>[], extra: Partial<Results> = {}): Results {
  const measured = rounds.map((r) => Object.entries(r).map(([id, p50]) => task(id, p50)));
  return {
    format: RESULTS_FORMAT,
    date: '2026-01-01T00:00:00.000Z',
    otherLoadDuring: 0,
    quick: false,
    rounds: rounds.length,
    suites: [...new Set(Object.keys(rounds[0] ?? {}).map((id) => id.split('/')[0]!))],
    machine: { cpu: 'Test CPU', cores: 2, memoryBytes: 2 ** 30, node: 'v20.0.0', platform: 'linux', arch: 'x64', os: 'Linux 6.0', osVersion: '#1', busyBefore: 0, loadavg: [0, 0, 0] },
    tasks: summarizeRounds(measured),
    comparisons: comparisons.map((c) => compare(c, measured)),
    ...extra,
  };
}

// ---- a strict XML well-formedness check, enough for the chart: elements, attributes, text, comments ----------

interface XmlElement {
  readonly name: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const BAD_ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

/** Parses `src` as one XML document; throws at the first thing that makes it not well-formed. */
function parseXml(src: string): XmlElement {
  let i = src.startsWith('<?xml') ? src.indexOf('?>') + 2 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${i}: ${why} (${JSON.stringify(src.slice(i, i + 40))})`);
  };
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0 || src.slice(i + 4, end).includes('--')) fail('bad comment');
      i = end + 3;
    } else if (src.startsWith('</', i)) {
      const name = NAME.exec(src.slice(i + 2))?.[0] ?? fail('closing tag without a name');
      const open = stack.pop() ?? fail(`</${name}> closes nothing`);
      if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
      i += 2 + name.length;
      while (/\s/.test(src[i] ?? '')) i++;
      if (src[i] !== '>') fail('closing tag not ended by >');
      i++;
    } else if (src[i] === '<') {
      const name = NAME.exec(src.slice(i + 1))?.[0] ?? fail('tag without a name');
      if (root !== null && stack.length === 0) fail('a second root element');
      const el: XmlElement = { name, attrs: new Map(), children: [] };
      i += 1 + name.length;
      for (;;) {
        const space = /^\s*/.exec(src.slice(i))![0].length;
        i += space;
        if (src.startsWith('/>', i) || src[i] === '>') break;
        if (space === 0) fail('attributes must be separated by white space');
        const attr = NAME.exec(src.slice(i))?.[0] ?? fail('bad attribute name');
        i += attr.length;
        if (src[i] !== '=' || (src[i + 1] !== '"' && src[i + 1] !== "'")) fail(`attribute ${attr} needs ="value"`);
        const quote = src[i + 1]!;
        const end = src.indexOf(quote, i + 2);
        if (end < 0) fail('unterminated attribute value');
        const value = src.slice(i + 2, end);
        if (value.includes('<') || BAD_ENTITY.test(value)) fail(`attribute ${attr} holds a raw < or &`);
        if (el.attrs.has(attr)) fail(`attribute ${attr} given twice`);
        (el.attrs as Map<string, string>).set(attr, value);
        i = end + 1;
      }
      stack[stack.length - 1]?.children.push(el);
      if (root === null) root = el;
      if (src[i] === '>') {
        stack.push(el);
        i += 1;
      } else {
        i += 2;
      }
    } else {
      const end = src.indexOf('<', i) < 0 ? src.length : src.indexOf('<', i);
      const text = src.slice(i, end);
      if (stack.length === 0 && text.trim() !== '') fail('text outside the root element');
      if (BAD_ENTITY.test(text)) fail('a raw & in text');
      i = end;
    }
  }
  if (stack.length > 0) throw new Error(`not well-formed: <${stack[stack.length - 1]!.name}> is never closed`);
  if (root === null) throw new Error('not well-formed: no root element');
  return root;
}

function all(el: XmlElement, test: (e: XmlElement) => boolean): XmlElement[] {
  return [...(test(el) ? [el] : []), ...el.children.flatMap((c) => all(c, test))];
}

const byClass = (cls: string) => (e: XmlElement): boolean => (e.attrs.get('class') ?? '').split(' ').includes(cls);

// ---- the maths -------------------------------------------------------------------------------------------------

describe('spread over rounds', () => {
  it('gives the lowest, middle and highest value whatever order the rounds ran in', () => {
    const s = spreadOf([3, 1, 2]);
    expect(s).toMatchObject({ byRound: [3, 1, 2], min: 1, median: 2, max: 3 });
  });

  it('takes the mean of the two middle rounds as the median of an even count', () => {
    expect(spreadOf([4, 1, 2, 10]).median).toBe(3);
  });

  it('flags a max / min above 1.3 as wide, and not 1.3 itself', () => {
    expect(spreadOf([1, 1.31]).wide).toBe(true);
    expect(spreadOf([1, 1.3]).wide).toBe(false);
    expect(spreadOf([2, 2.1, 2.2]).wide).toBe(false);
  });

  it('has no verdict on one round: wide is null', () => {
    expect(spreadOf([5]).wide).toBeNull();
  });

  it('refuses an empty set of rounds', () => {
    expect(() => spreadOf([])).toThrow(/at least one round/);
  });
});

describe('a comparison over rounds', () => {
  const within: Comparison = { figure: 'a/fig', baseline: 'a/base', relation: 'within', factor: 2 };

  it('quotes the median of the per-round ratios, each round against its own baseline', () => {
    // Ratios per round: 1.5, 3, 1.8. Medians of the p50s would give 20 / 10 = 2: a ratio no round saw.
    const rounds = [{ 'a/fig': 15, 'a/base': 10 }, { 'a/fig': 60, 'a/base': 20 }, { 'a/fig': 18, 'a/base': 10 }];
    const [o] = run([within], rounds).comparisons;
    expect(o!.spread.byRound).toEqual([1.5, 3, 1.8]);
    expect(o!.ratio).toBe(1.8);
    expect(o!.figureP50Ns).toBe(18);
    expect(o!.baselineP50Ns).toBe(10);
    expect(o!.spread.wide).toBe(true);
    expect(o!.met).toBe(true);
  });

  it('meets a within target at exactly the factor and misses it above', () => {
    expect(meets(within, 2)).toBe(true);
    expect(meets(within, 2.01)).toBe(false);
  });

  it('meets a faster target when the figure is at least that many times faster', () => {
    const faster: Comparison = { figure: 'a/fig', baseline: 'a/base', relation: 'faster', factor: 20 };
    expect(meets(faster, 1 / 20)).toBe(true);
    expect(meets(faster, 1 / 19)).toBe(false);
  });

  it('has no verdict without a factor', () => {
    expect(meets({ figure: 'a/fig', baseline: 'a/base', relation: 'within' }, 100)).toBeNull();
  });

  it('expresses every target as an upper bound on figure / baseline', () => {
    expect(targetRatio(within)).toBe(2);
    expect(targetRatio({ ...within, relation: 'faster', factor: 50 })).toBe(1 / 50);
    expect(targetRatio({ figure: 'a/fig', baseline: 'a/base', relation: 'faster' })).toBeNull();
  });

  it('fails when a round did not measure a task the comparison names', () => {
    expect(() => compare(within, [[task('a/fig', 1)]])).toThrow(/a\/base, which no suite measured/);
  });
});

describe('tasks over rounds', () => {
  it('fold into the median round, the extremes, the total samples and each round kept', () => {
    const rounds = [
      [task('a/x', 100, { minNs: 40, maxNs: 300, samples: 5 })],
      [task('a/x', 300, { minNs: 90, maxNs: 900, samples: 7, label: 'a later label' })],
      [task('a/x', 200, { minNs: 80, maxNs: 500, samples: 6 })],
    ];
    const [t] = summarizeRounds(rounds);
    expect(t).toMatchObject({ id: 'a/x', label: 'label of a/x', p50Ns: 200, minNs: 40, maxNs: 900, samples: 18 });
    expect(t!.byRound.map((r) => r.p50Ns)).toEqual([100, 300, 200]);
  });

  it('show the p50 range over rounds in the table, and a dash for one round', () => {
    const three = run([], [{ 'a/x': 100 }, { 'a/x': 200 }, { 'a/x': 150 }]);
    expect(renderTasks(three)).toContain('| 150 ns | 100 ns–200 ns **wide** |');
    expect(renderTasks(run([], [{ 'a/x': 100 }]))).toContain('| 100 ns | — |');
  });
});

// ---- results files -------------------------------------------------------------------------------------------

describe('results files', () => {
  const committed = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).sort();

  it('every committed file reads, and a format-1 file reads as one round with a one-value spread', () => {
    expect(committed.length).toBeGreaterThan(0);
    for (const f of committed) {
      const r = readResults(new URL(f, RESULTS_DIR).pathname);
      expect(r.comparisons.length, f).toBeGreaterThan(0);
      if (r.rounds === 1) {
        for (const o of r.comparisons) expect(o.spread, `${f} ${o.figure}`).toMatchObject({ byRound: [o.ratio], wide: null });
        for (const t of r.tasks) expect(t.byRound, `${f} ${t.id}`).toHaveLength(1);
      }
    }
  });

  it('a written file reads back as the same results', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-report-'));
    try {
      const r = run([{ figure: 'a/fig', baseline: 'a/base', relation: 'within', factor: 3 }], [{ 'a/fig': 20, 'a/base': 10 }, { 'a/fig': 33, 'a/base': 10 }]);
      expect(readResults(writeResults(dir, r))).toEqual(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file that is not results fails naming the file and the field', () => {
    expect(() => parseResults('{"date": "x", "quick": false}', 'some.json')).toThrow(/some\.json: 'machine' should be an object/);
    expect(() => parseResults('[]', 'list.json')).toThrow(/list\.json: not a benchmark results file/);
  });

  it('a file of a newer format is refused rather than misread', () => {
    expect(() => parseResults(JSON.stringify({ format: RESULTS_FORMAT + 1 }), 'future.json')).toThrow(/newer than this code reads/);
  });
});

// ---- one run against another ------------------------------------------------------------------------------------

describe('comparing two runs', () => {
  const C = {
    steady: { figure: 'a/steady', baseline: 'a/base', relation: 'within', factor: 3 },
    slower: { figure: 'a/slower', baseline: 'a/base', relation: 'within' },
    faster: { figure: 'a/fast', baseline: 'a/base', relation: 'faster', factor: 10 },
    gone: { figure: 'a/gone', baseline: 'a/base', relation: 'within' },
    added: { figure: 'a/added', baseline: 'a/base', relation: 'within' },
    other: { figure: 'b/x', baseline: 'b/y', relation: 'within' },
  } as const satisfies Record<string, Comparison>;

  /** Two fixture files on disk, read back as any saved run would be. */
  function fixtures(): { old: Results; now: Results; dir: string } {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-compare-'));
    const oldRun = run([C.steady, C.slower, C.faster, C.gone], [{ 'a/base': 100, 'a/steady': 200, 'a/slower': 100, 'a/fast': 5, 'a/gone': 1 }]);
    // Baseline twice as slow in the new run (a slower machine): only ratios may count.
    const nowRun = run([C.steady, C.slower, C.faster, C.added, C.other], [
      { 'a/base': 200, 'a/steady': 420, 'a/slower': 250, 'a/fast': 15, 'a/added': 200, 'b/x': 1, 'b/y': 1 },
      { 'a/base': 200, 'a/steady': 400, 'a/slower': 240, 'a/fast': 16, 'a/added': 200, 'b/x': 1, 'b/y': 1 },
      { 'a/base': 200, 'a/steady': 380, 'a/slower': 260, 'a/fast': 30, 'a/added': 200, 'b/x': 1, 'b/y': 1 },
    ]);
    writeFileSync(path.join(dir, 'old.json'), JSON.stringify(oldRun));
    writeFileSync(path.join(dir, 'new.json'), JSON.stringify(nowRun));
    return { old: readResults(path.join(dir, 'old.json')), now: readResults(path.join(dir, 'new.json')), dir };
  }

  function changeOf(changes: readonly Change[], figure: string): Change {
    const c = changes.find((x) => (x.state === 'removed' ? x.old : x.now).figure === figure);
    if (c === undefined) throw new Error(`no change for ${figure}`);
    return c;
  }

  it('flags ratios that grew beyond the threshold, not raw times', () => {
    const { old, now, dir } = fixtures();
    try {
      const changes = compareRuns(old, now);
      // steady: 2 -> 2 though both of its times doubled.
      expect(changeOf(changes, 'a/steady')).toMatchObject({ state: 'both', factor: 1, verdict: 'unchanged' });
      // slower: 1 -> 1.25, +25%.
      expect(changeOf(changes, 'a/slower')).toMatchObject({ state: 'both', verdict: 'regression' });
      // fast: 0.05 -> 0.08 (median of 0.075, 0.08, 0.15): 20x faster became 12.5x, +60%, and its rounds disagree.
      expect(changeOf(changes, 'a/fast')).toMatchObject({ state: 'both', verdict: 'regression', noisy: true });
      expect(hasRegression(changes)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a shrinking ratio as an improvement, symmetric with regressions in log terms', () => {
    const a = run([C.slower], [{ 'a/base': 100, 'a/slower': 100 }]);
    const b = run([C.slower], [{ 'a/base': 100, 'a/slower': 80 }]);
    expect(compareRuns(a, b)[0]).toMatchObject({ verdict: 'improvement' });
    const c = run([C.slower], [{ 'a/base': 100, 'a/slower': 90 }]);
    expect(compareRuns(a, c)[0]).toMatchObject({ verdict: 'unchanged' });
    expect(hasRegression(compareRuns(b, a))).toBe(true);
  });

  it('uses the threshold it is given', () => {
    const a = run([C.slower], [{ 'a/base': 100, 'a/slower': 100 }]);
    const b = run([C.slower], [{ 'a/base': 100, 'a/slower': 110 }]);
    expect(compareRuns(a, b)[0]).toMatchObject({ verdict: 'unchanged' });
    expect(compareRuns(a, b, 0.05)[0]).toMatchObject({ verdict: 'regression' });
  });

  it('lists comparisons only one run has as added or gone, and leaves out suites only one run measured', () => {
    const { old, now, dir } = fixtures();
    try {
      const changes = compareRuns(old, now);
      expect(changeOf(changes, 'a/added').state).toBe('added');
      expect(changeOf(changes, 'a/gone').state).toBe('removed');
      expect(changes.some((c) => c.state !== 'removed' && c.now.figure === 'b/x')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints old ratio, new ratio and the change per comparison, and the regressions at the end', () => {
    const { old, now, dir } = fixtures();
    try {
      const text = renderChanges(old, 'old.json', now, 'new.json', compareRuns(old, now));
      expect(text).toContain('| `a/steady ÷ a/base` | ≤ 3× | 2.00× met | 2.00× (1.90–2.10×) met | +0.0% |  |');
      expect(text).toContain('| `a/slower ÷ a/base` | — | 1.00× | 1.25× (1.20–1.30×) | +25.0% | **regression** |');
      expect(text).toContain('| `a/fast ÷ a/base` | ≥ 10× faster | 20.0× faster met | 12.5× faster (6.7–13.3× faster, wide) met | +60.0% | **regression** (wide spread: may be noise) |');
      expect(text).toContain('| `a/added ÷ a/base` | — | — | 1.00× (1.00–1.00×) | | new |');
      expect(text).toContain('| `a/gone ÷ a/base` | — | 0.01× | — | | gone |');
      expect(text).toContain('2 regression(s) beyond 15%: a/slower ÷ a/base +25.0%; a/fast ÷ a/base +60.0%');
      expect(text).toContain('note: not compared, measured only in new: b');
      expect(text).toContain('note: a run of one round has no spread to tell noise from change');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares two committed runs: the async round trip improved, and suites only the newer one ran are left out', () => {
    const before = readResults(new URL('2026-11-22T03-23-25Z.json', RESULTS_DIR).pathname);
    const after = readResults(new URL('2026-11-22T04-08-10Z.json', RESULTS_DIR).pathname);
    const changes = compareRuns(before, after);
    expect(changeOf(changes, 'syscall/getpid-async')).toMatchObject({ verdict: 'improvement' });
    expect(changes.every((c) => c.state === 'both')).toBe(true);
    expect(changes.some((c) => c.state === 'both' && c.now.figure.startsWith('sched/'))).toBe(false);
  });
});

// ---- the chart ---------------------------------------------------------------------------------------------------

describe('the chart', () => {
  const comparisons: readonly Comparison[] = [
    { figure: 'a/fig', baseline: 'a/base', relation: 'within', factor: 3 },
    { figure: 'a/slow', baseline: 'a/base', relation: 'within', factor: 1.3 },
    { figure: 'b/fast', baseline: 'b/base', relation: 'faster', factor: 20 },
    { figure: 'b/fast', baseline: 'b/other', relation: 'faster' },
  ];
  const rounds = [
    { 'a/fig': 20, 'a/slow': 40, 'a/base': 10, 'b/fast': 1, 'b/base': 50, 'b/other': 2 },
    { 'a/fig': 22, 'a/slow': 40, 'a/base': 10, 'b/fast': 1, 'b/base': 30, 'b/other': 2 },
  ];

  it('is checked by a parser that rejects what is not well-formed', () => {
    for (const bad of ['<svg>', '<svg></g>', '<svg a="1" a="2"/>', '<svg>&nbsp;</svg>', '<svg a="<"/>', '<svg/><svg/>', '<svg a=1/>']) {
      expect(() => parseXml(bad), bad).toThrow(/not well-formed/);
    }
    expect(parseXml('<svg a="&amp;"><g/><!-- ok --></svg>').children).toHaveLength(1);
  });

  it('is a well-formed SVG document', () => {
    const root = parseXml(renderChart(run(comparisons, rounds)));
    expect(root.name).toBe('svg');
    expect(root.attrs.get('xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(root.attrs.get('viewBox')).toMatch(/^0 0 \d+ \d+$/);
  });

  it('has one bar per comparison, with a target tick where there is a target', () => {
    const root = parseXml(renderChart(run(comparisons, rounds)));
    const groups = all(root, byClass('comparison'));
    expect(groups.map((g) => g.attrs.get('data-comparison'))).toEqual(['a/fig ÷ a/base', 'a/slow ÷ a/base', 'b/fast ÷ b/base', 'b/fast ÷ b/other']);
    for (const g of groups) expect(all(g, byClass('bar'))).toHaveLength(1);
    expect(groups.map((g) => all(g, byClass('target')).length)).toEqual([1, 1, 1, 0]);
  });

  it('colours a bar by whether its target is met', () => {
    const root = parseXml(renderChart(run(comparisons, rounds)));
    const fills = all(root, byClass('bar')).map((b) => b.attrs.get('fill'));
    // met (2.1x <= 3x), not met (4x > 1.3x), met (37.5x faster >= 20x), no target.
    expect(fills[0]).toBe(fills[2]);
    expect(new Set(fills).size).toBe(3);
  });

  it('puts a bar faster than its baseline left of the 1x line, a slower one right of it', () => {
    const root = parseXml(renderChart(run(comparisons, rounds)));
    const [slower, , faster] = all(root, byClass('bar'));
    // Both bars start from 1x: the slower one's left edge, the faster one's right edge.
    expect(Number(faster!.attrs.get('x')) + Number(faster!.attrs.get('width'))).toBeCloseTo(Number(slower!.attrs.get('x')), 1);
  });

  it('draws a whisker per comparison only when there is more than one round', () => {
    expect(all(parseXml(renderChart(run(comparisons, rounds))), byClass('whisker'))).toHaveLength(4);
    expect(all(parseXml(renderChart(run(comparisons, rounds.slice(0, 1)))), byClass('whisker'))).toHaveLength(0);
  });

  it('stays well-formed with markup characters in the machine name, and writes no NaN', () => {
    const r = run(comparisons, rounds, {});
    const svg = renderChart({ ...r, machine: { ...r.machine, cpu: 'Fast & <Furious> "CPU"' } });
    expect(() => parseXml(svg)).not.toThrow();
    expect(svg).toContain('Fast &amp; &lt;Furious&gt; &quot;CPU&quot;');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('draws every committed run, and gives a suite it has never seen its own group', () => {
    for (const f of readdirSync(RESULTS_DIR).filter((x) => x.endsWith('.json'))) {
      const r = readResults(new URL(f, RESULTS_DIR).pathname);
      expect(all(parseXml(renderChart(r)), byClass('comparison')), f).toHaveLength(r.comparisons.length);
    }
    const pipe = run([{ figure: 'pipe/64k', baseline: 'pipe/raw-ring', relation: 'within', factor: 1 / 0.6 }], [{ 'pipe/64k': 10, 'pipe/raw-ring': 9 }]);
    const svg = renderChart(pipe);
    expect(svg).toContain('font-weight="600">pipe</text>');
    expect(svg).toContain('64k ÷ raw-ring');
  });
});

describe('the comparisons table', () => {
  it("shows the rounds' range in the comparison's own terms and flags a wide one", () => {
    const c: Comparison = { figure: 'a/fast', baseline: 'a/base', relation: 'faster', factor: 10 };
    const table = renderComparisons(run([c], [{ 'a/fast': 5, 'a/base': 100 }, { 'a/fast': 8, 'a/base': 100 }]));
    expect(table).toContain('| 15.4× faster | 12.5–20.0× faster **wide** | ≥ 10× faster | met |');
  });

  it('shows a dash for the range of a single round', () => {
    expect(renderComparisons(run([{ figure: 'a/x', baseline: 'a/y', relation: 'within' }], [{ 'a/x': 1, 'a/y': 1 }]))).toContain('| 1.00× | — | — | — |');
  });
});

// ---- the command line --------------------------------------------------------------------------------------------

describe('bench command line', () => {
  it('runs every suite three rounds by default, and one round with --quick', () => {
    expect(parseMode([])).toMatchObject({ kind: 'run', rounds: 3, quick: false, only: [], baseline: null, threshold: 0.15 });
    expect(parseMode(['--quick'])).toMatchObject({ kind: 'run', rounds: 1, quick: true });
    expect(parseMode(['--quick', '--rounds', '2'])).toMatchObject({ rounds: 2 });
  });

  it('compares after a run with one file, and compares two files without running with two', () => {
    expect(parseMode(['--compare', 'old.json', '--suite', 'sched'])).toMatchObject({ kind: 'run', baseline: 'old.json', only: ['sched'] });
    expect(parseMode(['--compare', 'old.json', 'new.json', '--threshold', '0.1'])).toEqual({ kind: 'compare', old: 'old.json', now: 'new.json', threshold: 0.1, strict: false });
  });

  it('regenerates the doc from a saved file with --render', () => {
    expect(parseMode(['--render', 'r.json'])).toEqual({ kind: 'render', file: 'r.json' });
  });

  it('refuses arguments that do not fit together or make no sense', () => {
    expect(() => parseMode(['--rounds', '0'])).toThrow(/--rounds/);
    expect(() => parseMode(['--rounds', '1.5'])).toThrow(/--rounds/);
    expect(() => parseMode(['--suite', 'nope'])).toThrow(/unknown suite 'nope'/);
    expect(() => parseMode(['stray.json'])).toThrow(/unexpected argument 'stray\.json'/);
    expect(() => parseMode(['--compare', 'a', 'b', '--quick'])).toThrow(/runs nothing/);
    expect(() => parseMode(['--compare', 'a', 'b', 'c'])).toThrow(/unexpected argument 'c'/);
    expect(() => parseMode(['--threshold', '-1'])).toThrow(/--threshold/);
    expect(() => parseMode(['--render', 'r.json', '--quick'])).toThrow(/--render/);
  });
});
