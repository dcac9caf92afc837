// Coverage of a jsfuzz run, per source module. jsfuzz counts covered statements, functions and branches over
// everything it instrumented (the bundle and the packages it requires) and, when stopped with SIGINT, dumps
// istanbul's counters to .nyc_output/cov.json in its working directory. The bundle is one file; esbuild marks
// where each module begins with a `// dist/<path>.js` comment, which maps every statement back to its module.

import { existsSync, readFileSync } from 'node:fs';

interface Location {
  readonly start: { readonly line: number };
}
interface FileCoverage {
  readonly statementMap: Readonly<Record<string, Location>>;
  readonly s: Readonly<Record<string, number>>;
  readonly fnMap: Readonly<Record<string, { readonly loc: Location }>>;
  readonly f: Readonly<Record<string, number>>;
  readonly branchMap: Readonly<Record<string, { readonly loc: Location }>>;
  readonly b: Readonly<Record<string, readonly number[]>>;
}

export interface Counts {
  covered: number;
  total: number;
}

export interface ModuleCoverage {
  readonly module: string;
  readonly statements: Counts;
  readonly functions: Counts;
  readonly branches: Counts;
}

/** Module boundaries in a bundle: [first line, module] pairs, in order. */
function modulesOf(bundle: string): [number, string][] {
  const out: [number, string][] = [];
  bundle.split('\n').forEach((l, i) => {
    const m = /^\/\/ dist\/(.+)\.js$/.exec(l);
    if (m !== null) out.push([i + 1, `${m[1]!}.ts`]);
  });
  return out;
}

function moduleAt(bounds: readonly [number, string][], line: number): string {
  let name = '(bundle)';
  for (const [start, m] of bounds) {
    if (start > line) break;
    name = m;
  }
  return name;
}

/** Per-module coverage of `bundlePath` from a cov.json jsfuzz wrote; null when there is none. */
export function bundleCoverage(covJson: string, bundlePath: string): ModuleCoverage[] | null {
  if (!existsSync(covJson) || !existsSync(bundlePath)) return null;
  const all = JSON.parse(readFileSync(covJson, 'utf8')) as Record<string, FileCoverage>;
  const cov = all[bundlePath];
  if (cov === undefined) return null;
  const bounds = modulesOf(readFileSync(bundlePath, 'utf8'));
  const by = new Map<string, ModuleCoverage>();
  const get = (line: number): ModuleCoverage => {
    const module = moduleAt(bounds, line);
    let m = by.get(module);
    if (m === undefined) {
      m = { module, statements: { covered: 0, total: 0 }, functions: { covered: 0, total: 0 }, branches: { covered: 0, total: 0 } };
      by.set(module, m);
    }
    return m;
  };
  for (const [id, loc] of Object.entries(cov.statementMap)) {
    const c = get(loc.start.line).statements;
    c.total++;
    if ((cov.s[id] ?? 0) > 0) c.covered++;
  }
  for (const [id, fn] of Object.entries(cov.fnMap)) {
    const c = get(fn.loc.start.line).functions;
    c.total++;
    if ((cov.f[id] ?? 0) > 0) c.covered++;
  }
  for (const [id, br] of Object.entries(cov.branchMap)) {
    const c = get(br.loc.start.line).branches;
    for (const n of cov.b[id] ?? []) {
      c.total++;
      if (n > 0) c.covered++;
    }
  }
  return [...by.values()].sort((a, b) => a.module.localeCompare(b.module));
}

/** Sums the modules whose path starts with one of `prefixes`. */
export function sum(modules: readonly ModuleCoverage[], prefixes: readonly string[]): ModuleCoverage {
  const out = { module: prefixes.join('+'), statements: { covered: 0, total: 0 }, functions: { covered: 0, total: 0 }, branches: { covered: 0, total: 0 } };
  for (const m of modules) {
    if (!prefixes.some((p) => m.module.startsWith(p))) continue;
    for (const k of ['statements', 'functions', 'branches'] as const) {
      out[k].covered += m[k].covered;
      out[k].total += m[k].total;
    }
  }
  return out;
}

export function percent(c: Counts): string {
  return c.total === 0 ? '-' : `${((100 * c.covered) / c.total).toFixed(1)}% (${c.covered}/${c.total})`;
}
