// The value generators of fuzz/values.ts where the ABI says more than a type: strings with a form (STR_FORMS)
// and ints that name an address. A form's rule is stated once in abi/types.ts; here the generator's idea of it
// is held to the kernel's answers, and its mix (mostly valid, names reused) to what the fuzzers need.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formError, NAME_MAX, O_CREAT, O_RDWR, PATH_MAX, STR_FORMS, VADDR_MAX } from '../dist/abi/index.js';
import { Choices } from '../dist/fuzz/choice.js';
import { FrameHarness, type LocalProcess } from '../dist/fuzz/harness.js';
import { prng, randomInput } from '../dist/fuzz/random.js';
import { failureOf } from '../dist/fuzz/targets.js';
import { formBoundaries, formedValue, slotValue, type ValueContext } from '../dist/fuzz/values.js';

const EMPTY: ValueContext = { fds: [], addrs: [], pids: [], ints: [], tuples: [], strings: [], names: new Map() };

/** n generated values, each from 64 seeded random bytes (none runs out, which would bias to first options). */
function generate<T>(n: number, f: (c: Choices) => T): T[] {
  const rand = prng(7);
  return Array.from({ length: n }, () => f(new Choices(Uint8Array.from({ length: 64 }, () => Math.floor(rand() * 256)))));
}

describe('the ipcname form', () => {
  it('is a slash, then 1..NAME_MAX characters with no slash or NUL; too long is checked first', () => {
    expect(formError('ipcname', '/a')).toBeNull();
    expect(formError('ipcname', '/' + 'é'.repeat(NAME_MAX))).toBeNull();
    expect(formError('ipcname', '/' + 'a'.repeat(NAME_MAX + 1))).toBe('ENAMETOOLONG');
    expect(formError('ipcname', '/a/' + 'a'.repeat(NAME_MAX))).toBe('ENAMETOOLONG');
    for (const bad of ['', '/', 'a', 'ab', '//', '/a/', '/a/b', '/a\0', ' /a']) expect(formError('ipcname', bad), JSON.stringify(bad)).toBe('EINVAL');
  });

  it('has boundary cases on every clause: shortest and longest valid, one past each, each forbidden character', () => {
    const cases = formBoundaries('ipcname', PATH_MAX);
    const f = STR_FORMS.ipcname;
    expect(cases).toEqual(expect.arrayContaining([
      { value: '/a', error: null },
      { value: '/' + 'a'.repeat(f.maxBody), error: null },
      { value: '/' + 'a'.repeat(f.maxBody + 1), error: 'ENAMETOOLONG' },
      { value: '/', error: 'EINVAL' },
      { value: 'aa', error: 'EINVAL' },
      { value: '', error: 'EINVAL' },
      { value: '//a', error: 'EINVAL' },
      { value: '/a\0', error: 'EINVAL' },
      { value: '/' + 'a'.repeat(PATH_MAX), error: 'E2BIG' },
    ]));
  });

  it('generates valid names most of the time, from few letters so that names meet, and reuses known names', () => {
    const fresh = generate(2000, (c) => formedValue(c, 'ipcname', PATH_MAX, EMPTY));
    const valid = fresh.filter((v) => formError('ipcname', v) === null);
    expect(valid.length / fresh.length).toBeGreaterThan(0.7);
    expect(valid.length / fresh.length).toBeLessThan(0.95); // and some that are not
    // Every boundary case comes up.
    for (const b of formBoundaries('ipcname', PATH_MAX)) expect(fresh, JSON.stringify(b.value.slice(0, 8))).toContain(b.value);
    const names = new Map([['ipcname' as const, ['/known']]]);
    const reused = generate(1000, (c) => formedValue(c, 'ipcname', PATH_MAX, { ...EMPTY, names })).filter((v) => v === '/known');
    expect(reused.length / 1000).toBeGreaterThan(0.3);
  });
});

describe('a form against the kernel', () => {
  let h: FrameHarness;
  let p: LocalProcess;
  beforeAll(async () => {
    h = await FrameHarness.boot();
    p = h.attach({});
  });
  afterAll(async () => {
    await h.shutdown();
  });

  it('each boundary case gets the answer the generator expects from shm_open and mq_unlink', () => {
    for (const { value, error } of formBoundaries('ipcname', PATH_MAX)) {
      const open = p.call('shm_open', O_RDWR | O_CREAT, 0o600, value);
      expect(open.kind === 'reply' && open.error, `shm_open(${JSON.stringify(value.slice(0, 8))})`).toBe(error ?? null);
      if (error === null && open.kind === 'reply') {
        expect(p.call('close', open.ret0)).toMatchObject({ errno: 0 });
        expect(p.call('shm_unlink', value)).toMatchObject({ errno: 0 });
      }
      const unlink = p.call('mq_unlink', value);
      expect(unlink.kind === 'reply' && unlink.error, `mq_unlink(${JSON.stringify(value.slice(0, 8))})`).toBe(error ?? 'ENOENT');
    }
  });
});

describe('addresses', () => {
  it('an int that names an address is mostly one the caller mapped, at its start or a word into it', () => {
    const arg = { kind: 'int', name: 'addr', min: 0, max: VADDR_MAX, resource: 'addr' } as const;
    const base = 0x10_000;
    const values = generate(1000, (c) => slotValue(c, arg, { ...EMPTY, addrs: [base] }));
    expect(values.filter((v) => v === base).length / values.length).toBeGreaterThan(0.2);
    expect(values.filter((v) => v >= base && v < base + 4096 && v % 4 === 0).length / values.length).toBeGreaterThan(0.5);
  });
});

describe('reach of the sequence fuzzer', () => {
  it('random inputs create and remove named objects and wake futex words', async () => {
    const outcomes = new Set<string>();
    const rand = prng(11);
    for (let i = 0; i < 300; i++) {
      const f = await failureOf('sequence', randomInput(rand, 768), { observe: (call, outcome) => outcomes.add(`${call} ${outcome}`) });
      expect(f?.message ?? null).toBeNull();
    }
    // Before forms, name pools and addresses, none of these came up in 300 inputs (nor in 10 minutes of jsfuzz for
    // most); the rest of the chains (fdmap, mq_send, futex_wait parked) are jsfuzz's to find, from these.
    for (const o of ['shm_open ok', 'shm_unlink ok', 'mq_open ok', 'futex_wake ok']) {
      expect([...outcomes], o).toContain(o);
    }
  });
});
