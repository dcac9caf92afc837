// docs/abi.md is derived from abi/ by scripts/gen-abi-docs.ts; these tests fail when the committed file is stale.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSCALLS } from '../dist/abi/syscalls.js';
import { renderAbiDoc } from '../dist/scripts/gen-abi-docs.js';

const DOC = new URL('../docs/abi.md', import.meta.url);
const committed = readFileSync(DOC, 'utf8');

/** Where two texts first differ, as a line number and both lines, so a stale doc says what changed. */
function firstDifference(a: string, b: string): string {
  const as = a.split('\n');
  const bs = b.split('\n');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    if (as[i] !== bs[i]) return `line ${i + 1}:\n  docs/abi.md: ${as[i] ?? '(end of file)'}\n  abi/ now:    ${bs[i] ?? '(end of file)'}`;
  }
  return 'no difference';
}

describe('docs/abi.md', () => {
  it('is exactly what scripts/gen-abi-docs.ts renders from abi/ now', () => {
    const fresh = renderAbiDoc();
    const stale = committed !== fresh;
    expect(stale, `docs/abi.md is stale: run \`npm run gen:abi\` and commit it (first difference at ${firstDifference(committed, fresh)})`).toBe(false);
  });

  it('has an entry for every syscall in the table', () => {
    const missing = SYSCALLS.filter((d) => !committed.includes(`#### \`${d.name}\` (${d.nr})`)).map((d) => d.name);
    expect(missing, 'syscalls with no entry in docs/abi.md (run `npm run gen:abi`)').toEqual([]);
  });
});
