// The fuzzers in CI, in-process (vitest runs the ES build; coverage matters only under jsfuzz): every saved
// crash replays as a regression, every seed passes, and a few thousand seeded inputs (random, and mutations of
// the seeds) pass every oracle, or fail only as a saved crash that is not fixed yet does. A failure names the
// input's bytes; `npm run replay` shows its calls once the bytes are saved to a file.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { callShape, corpusDir, crashesDir, inputsIn, ROOT, savedShapes } from '../dist/fuzz/store.js';
import { mutate, prng, randomInput } from '../dist/fuzz/random.js';
import { failureOf, knownSignatures, TARGET_NAMES, type TargetName } from '../dist/fuzz/targets.js';

/** Generated inputs per target, and a cap on the time they may take (the count is what a fast machine runs). */
const GENERATED = 1500;
const BUDGET_MS = 4000;

const read = (f: string): Uint8Array => new Uint8Array(readFileSync(f));

describe.each(TARGET_NAMES)('the %s fuzzer', (target: TargetName) => {
  for (const file of inputsIn(crashesDir(target))) {
    it(`no longer fails on the saved crash ${path.relative(ROOT, file)}`, async () => {
      const trace: string[] = [];
      const f = await failureOf(target, read(file), { trace: (l) => trace.push(l) });
      expect(f?.message ?? null, `replay it: npm run replay -- ${path.relative(ROOT, file)}`).toBeNull();
      // Passing proves a fix only if the input still makes the calls that failed: a change to the generators
      // changes what saved bytes mean (then find the bug again, or keep the note's calls as a test of their own).
      const saved = savedShapes(file);
      expect(trace.map(callShape).slice(0, saved.length), 'the calls the crash note records').toEqual(saved);
    });
  }

  it('passes every oracle on each seed of its corpus', async () => {
    const seeds = inputsIn(corpusDir(target));
    expect(seeds.length).toBeGreaterThan(0);
    for (const file of seeds) {
      const f = await failureOf(target, read(file));
      expect(f?.message ?? null, path.relative(ROOT, file)).toBeNull();
    }
  });

  it('passes every oracle on generated inputs and mutations of its seeds, but for bugs saved and not fixed yet', async () => {
    // A saved crash that still fails is reported by its own test above; here it would hide every other bug.
    const known = await knownSignatures(target, { thisRun: false });
    const seeds = inputsIn(corpusDir(target)).map(read);
    const rand = prng(TARGET_NAMES.indexOf(target) + 1);
    const deadline = performance.now() + BUDGET_MS;
    for (let i = 0; i < GENERATED && performance.now() < deadline; i++) {
      const input = i % 2 === 1 && seeds.length > 0 ? mutate(rand, seeds[i % seeds.length]!) : randomInput(rand);
      const f = await failureOf(target, input);
      if (f !== null && known.has(f.signature)) continue;
      expect(f?.message ?? null, `input ${i}: ${Buffer.from(input).toString('hex')}`).toBeNull();
    }
  });
});
