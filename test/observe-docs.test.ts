// The observability docs stay true: docs/events.md describes every event kind in EVENT_KINDS's own words and
// names the current schema, and docs/teaching/*.md are what scripts/gen-teaching.ts makes from real runs now.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, EVENT_SCHEMA } from '../dist/kernel/index.js';
import { teachingPages } from '../dist/scripts/gen-teaching.js';

const ROOT = new URL('..', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, ROOT), 'utf8');

describe('docs/events.md', () => {
  const doc = read('docs/events.md');

  it.each(Object.entries(EVENT_KINDS))('has a row for %s that says what EVENT_KINDS says', (kind, meaning) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${kind}\` |`));
    expect(row, `docs/events.md has no row for '${kind}'`).toBeDefined();
    expect(row).toContain(meaning);
  });

  it('names the current schema version', () => {
    expect(doc).toContain(`**Schema version: ${EVENT_SCHEMA}**`);
  });
});

describe('docs/teaching', () => {
  it('every walkthrough is what a deterministic run regenerates now (npm run gen:teaching)', async () => {
    const pages = await teachingPages();
    expect([...pages.keys()].sort()).toEqual(['docs/teaching/cleanup.md', 'docs/teaching/nice.md', 'docs/teaching/pipe-read.md']);
    for (const [file, text] of pages) expect(read(file), `${file} is stale: run npm run gen:teaching`).toBe(text);
  });
});
