// `node dist/fuzz/seeds.js [--target frame|sequence|all] [--count 3000] [--max 24]`: distils a seed corpus for
// each target into fuzz/corpus/<target>/. It runs `count` seeded random inputs, notes which outcomes each
// reaches (a syscall and its answer: ok, an errno, parked, dead), and keeps a few inputs that between them reach
// every outcome seen (greedy set cover, at most `max`). A syscall added to the table gets seeds by running this
// again; nothing here names one.

import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prng, randomInput } from './random.js';
import { corpusDir, inputsIn, ROOT } from './store.js';
import { failureOf, isTargetName, TARGET_NAMES, type TargetName } from './targets.js';

async function distil(target: TargetName, count: number, max: number, seed: number): Promise<void> {
  const rand = prng(seed);
  const candidates: { bytes: Uint8Array; outcomes: Set<string> }[] = [];
  let failing = 0;
  for (let i = 0; i < count; i++) {
    const bytes = randomInput(rand, 768);
    const outcomes = new Set<string>();
    const f = await failureOf(target, bytes, { observe: (call, outcome) => outcomes.add(`${call} ${outcome}`) });
    if (f !== null) {
      failing++;
      continue; // seeds must pass: a failing input belongs in fuzz/crashes, via the fuzzer
    }
    candidates.push({ bytes, outcomes });
  }
  const all = new Set(candidates.flatMap((c) => [...c.outcomes]));
  const covered = new Set<string>();
  const chosen: Uint8Array[] = [];
  while (chosen.length < max) {
    let best: (typeof candidates)[number] | undefined;
    let gain = 0;
    for (const c of candidates) {
      let g = 0;
      for (const o of c.outcomes) if (!covered.has(o)) g++;
      // Prefer the shorter of equal gains: small seeds mutate better.
      if (g > gain || (g === gain && g > 0 && best !== undefined && c.bytes.length < best.bytes.length)) {
        best = c;
        gain = g;
      }
    }
    if (best === undefined || gain === 0) break;
    chosen.push(best.bytes);
    for (const o of best.outcomes) covered.add(o);
  }
  const dir = corpusDir(target);
  mkdirSync(dir, { recursive: true });
  for (const f of inputsIn(dir)) rmSync(f);
  for (const b of chosen) writeFileSync(path.join(dir, createHash('sha256').update(b).digest('hex').slice(0, 16)), b);
  console.log(`${target}: ${chosen.length} seeds in ${path.relative(ROOT, dir)} reach ${covered.size} of ${all.size} outcomes seen in ${count} inputs` + (failing > 0 ? ` (${failing} inputs failed an oracle: run the fuzzer)` : ''));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'all' },
      count: { type: 'string', default: '3000' },
      max: { type: 'string', default: '24' },
      seed: { type: 'string', default: '1' },
    },
  });
  const targets = values.target === 'all' ? TARGET_NAMES : [values.target];
  for (const t of targets) {
    if (!isTargetName(t)) throw new Error(`--target: '${t}' is not one of ${TARGET_NAMES.join(', ')}, all`);
    await distil(t, Number(values.count), Number(values.max), Number(values.seed));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
