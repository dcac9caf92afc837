// `npm run replay -- <file|dir>... [--target frame|sequence]`: runs saved inputs again on a fresh kernel each,
// printing every call in strace form, then the failure if an oracle still breaks. The target is the name of the
// directory the file is in (fuzz/crashes/<target>/, fuzz/corpus/<target>/) unless --target names it.
// Exits 1 if any input still fails, 0 if all pass (a fixed crash is a passing regression).

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { inputsIn } from './store.js';
import { failureOf, isTargetName, TARGET_NAMES, type TargetName } from './targets.js';

function targetFor(file: string, given: string | undefined): TargetName {
  const name = given ?? path.basename(path.dirname(path.resolve(file)));
  if (!isTargetName(name)) {
    throw new Error(`cannot tell the target of ${file}: pass --target (${TARGET_NAMES.join(', ')})`);
  }
  return name;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { target: { type: 'string' }, quiet: { type: 'boolean', short: 'q', default: false } },
  });
  if (positionals.length === 0) {
    console.error('Usage: npm run replay -- <file|dir>... [--target frame|sequence] [--quiet]');
    return 2;
  }
  const files = positionals.flatMap((p) => (statSync(p).isDirectory() ? inputsIn(p) : [p]));
  let failing = 0;
  for (const file of files) {
    const target = targetFor(file, values.target);
    const bytes = new Uint8Array(readFileSync(file));
    console.log(`== ${file} (${target}, ${bytes.length} bytes)`);
    const f = await failureOf(target, bytes, values.quiet ? {} : { trace: (l) => console.log(l) });
    if (f === null) console.log('-- every oracle held');
    else {
      failing++;
      console.log(`-- FAILED: ${f.message}`);
    }
  }
  if (files.length > 1) console.log(`\n${files.length - failing} passed, ${failing} failed`);
  return failing > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  },
);
