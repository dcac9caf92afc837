// Where fuzz inputs live: the seed corpus (fuzz/corpus/<target>/, committed, small), minimised crashes
// (fuzz/crashes/<target>/<id>.bin with a <id>.txt triage note beside it, committed until fixed, then kept as
// regressions), and each target's working directory under dist/ (jsfuzz's growing corpus, its raw crash files,
// its coverage dump), which git ignores.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Minimised } from './minimise.js';
import type { TargetName } from './targets.js';

/** The repository root (this file runs as dist/fuzz/store.js). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const corpusDir = (t: TargetName): string => path.join(ROOT, 'fuzz', 'corpus', t);
export const crashesDir = (t: TargetName): string => path.join(ROOT, 'fuzz', 'crashes', t);
export const workDir = (t: TargetName): string => path.join(ROOT, 'dist', 'fuzz-work', t);

/** Input files in a directory (triage notes, dotfiles and subdirectories left out), sorted; none if it does not
 *  exist. */
export function inputsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.endsWith('.txt') && !e.name.endsWith('.md'))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/**
 * A trace line's shape: who made which call (`[pid 3] write`), or a process event as it is. Arguments and
 * answers are left out: a fix changes answers, and paths differ between checkouts; the shape of the calls
 * changes only when the generators do.
 */
export function callShape(line: string): string {
  const m = /^(\[(?:pid \d+|host)\] (?:<\.\.\. \S+ resumed>|[^(\s]+\())/.exec(line);
  return m === null ? line : m[1]!.replace(/\($/, '');
}

/** The shapes of the calls a saved crash's note records (empty if it has no note). */
export function savedShapes(binPath: string): string[] {
  const note = binPath.replace(/\.bin$/, '.txt');
  if (!existsSync(note)) return [];
  const lines = readFileSync(note, 'utf8').split('\n');
  const start = lines.indexOf('calls (strace form):');
  return start < 0 ? [] : lines.slice(start + 1).filter((l) => l !== '').map(callShape);
}

/** The signature a saved crash's note records (the first `signature:` line), or null. */
function savedSignature(binPath: string): string | null {
  const note = binPath.replace(/\.bin$/, '.txt');
  if (!existsSync(note)) return null;
  const line = readFileSync(note, 'utf8').split('\n').find((l) => l.startsWith('signature: '));
  return line === undefined ? null : line.slice('signature: '.length);
}

export interface Saved {
  readonly path: string;
  /** A crash with this signature was saved before (kept if it was smaller). */
  readonly duplicate: boolean;
}

/** Saves a minimised crash with its triage note, unless one with the same signature is already saved. */
export function saveCrash(target: TargetName, m: Minimised, trace: readonly string[]): Saved {
  const dir = crashesDir(target);
  mkdirSync(dir, { recursive: true });
  for (const f of inputsIn(dir)) {
    if (savedSignature(f) === m.signature && readFileSync(f).length <= m.bytes.length) return { path: f, duplicate: true };
  }
  const id = createHash('sha256').update(m.bytes).digest('hex').slice(0, 12);
  const bin = path.join(dir, `${id}.bin`);
  const rel = path.relative(ROOT, bin);
  writeFileSync(bin, m.bytes);
  writeFileSync(
    bin.replace(/\.bin$/, '.txt'),
    [
      `target: ${target}`,
      `signature: ${m.signature}`,
      `bytes: ${m.bytes.length} (hex ${Buffer.from(m.bytes).toString('hex')})`,
      `replay: npm run replay -- ${rel}`,
      '',
      'failure:',
      m.message,
      '',
      'calls (strace form):',
      ...trace,
      '',
    ].join('\n'),
  );
  return { path: bin, duplicate: false };
}
