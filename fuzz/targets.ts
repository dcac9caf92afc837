// The fuzz targets by name, and what running one input means: the failure it causes, if any. The jsfuzz entry
// points (fuzz/jsfuzz/), the runner, the replayer, the seed distiller and the CI smoke all go through here.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runFrames } from './frame.js';
import { runSequence } from './sequence.js';
import type { SessionOptions } from './session.js';
import { crashesDir, inputsIn, workDir } from './store.js';

/** Runs one input on a fresh kernel; throws when an oracle fails. */
export type Target = (bytes: Uint8Array, opts?: SessionOptions) => Promise<void>;

export const TARGETS = { frame: runFrames, sequence: runSequence } as const satisfies Record<string, Target>;
export type TargetName = keyof typeof TARGETS;
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

export function isTargetName(s: string): s is TargetName {
  return Object.hasOwn(TARGETS, s);
}

export interface Failure {
  /** The whole message (an OracleViolation's, or whatever else was thrown, with its stack). */
  readonly message: string;
  /** The message with numbers blanked: two inputs with one signature are taken to be one bug. */
  readonly signature: string;
}

/** What to compare crashes by: the first line of the message, with every number (pids, sizes, addresses) blanked;
 *  digits inside a word (E2BIG, syscall_40) stay. */
export function signatureOf(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/(?<![\w.])(0x[\da-f]+|-?\d+(\.\d+)?(e[+-]?\d+)?)(?![\w])/gi, '#').slice(0, 300);
}

/** Runs `bytes` through a target: null if every oracle held, else the failure. Never throws. */
export async function failureOf(target: TargetName, bytes: Uint8Array, opts: SessionOptions = {}): Promise<Failure | null> {
  try {
    await TARGETS[target](bytes, opts);
    return null;
  } catch (e: unknown) {
    const message = e instanceof Error ? (e.name === 'OracleViolation' ? e.message : (e.stack ?? e.message)) : String(e);
    return { message, signature: signatureOf(message) };
  }
}

/** The file in a target's work directory where the runner lists the signatures of crashes seen in this run. */
export const knownFile = (t: TargetName): string => path.join(workDir(t), 'known.txt');

/**
 * Signatures of failures already known: saved crashes that still fail (a fixed one is a regression test, and its
 * signature must be found again if it comes back), and those the runner has seen earlier in this run.
 */
export async function knownSignatures(target: TargetName, opts: { thisRun?: boolean } = {}): Promise<Set<string>> {
  const out = new Set<string>();
  for (const bin of inputsIn(crashesDir(target))) {
    const f = await failureOf(target, new Uint8Array(readFileSync(bin)));
    if (f !== null) out.add(f.signature);
  }
  const file = knownFile(target);
  if ((opts.thisRun ?? true) && existsSync(file)) for (const l of readFileSync(file, 'utf8').split('\n')) if (l !== '') out.add(l);
  return out;
}

/**
 * The function jsfuzz calls with each input. A failure whose signature is already known (a saved crash not fixed
 * yet, or one this run found before) is not thrown again: jsfuzz stops at every crash, and would otherwise spend
 * the run rediscovering the first bug. The CI smoke and replays see every failure.
 */
export function jsfuzzEntry(target: TargetName): (buf: Uint8Array) => Promise<void> {
  let known: Promise<Set<string>> | null = null;
  return async (buf: Uint8Array): Promise<void> => {
    known ??= knownSignatures(target);
    try {
      await TARGETS[target](buf);
    } catch (e: unknown) {
      const message = e instanceof Error ? e.message : String(e);
      if (!(await known).has(signatureOf(message))) throw e;
    }
  };
}
