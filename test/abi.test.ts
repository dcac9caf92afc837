// The ABI table's own consistency: everything derived from abi/ (dispatch, validators, stubs, docs, fuzzers)
// trusts these invariants, so they are checked here once instead of assumed everywhere.

import { describe, expect, it } from 'vitest';
import {
  ARG_SLOTS, CHANNEL_BYTES, ERRNO, FRAME_ERRNOS, NR_MAX, NSIG, PAYLOAD_MAX, SIG_CATCH, SIG_DFL, SIG_IGN, SIGNALS,
  STATE_DEAD, STATE_IDLE, STATE_REPLY, STATE_REQUEST, SYSCALLS, UNCATCHABLE, errnoName, kArgc, kArgsByte, kErrno,
  kInt32Words, kKernelWaiting, kLife, kNr, kPayloadByte, kPayloadLen, kReplyLen, kRet0Byte, kRet1Byte, kSeq,
  kSignals, kSpin, kState, kUserWaiting, signalName, slotCount, strerror, syscallByName, syscallByNr,
  type Family, type Schema, type SyscallDef,
} from '../dist/abi/index.js';

const TABLE: readonly SyscallDef[] = SYSCALLS;

/** The ranges the comment at the top of abi/syscalls.ts assigns to each family. */
const FAMILY_RANGE: Record<Family, readonly [number, number]> = {
  process: [1, 9],
  signal: [10, 19],
  time: [20, 29],
  sched: [30, 39],
  fd: [40, 59],
  memory: [60, 79],
  ipc: [80, 99],
};

const isPayload = (kind: string): boolean => kind === 'bytes' || kind === 'record';

/** Every bound in a schema, so that none is missing, negative or fractional. */
function schemaBounds(s: Schema): number[] {
  switch (s.t) {
    case 'str':
      return [s.max];
    case 'int':
      return [];
    case 'bool':
      return [];
    case 'list':
      return [s.max, ...schemaBounds(s.of)];
    case 'dict':
      return [s.max, s.keyMax, ...schemaBounds(s.of)];
    case 'record':
      return Object.values(s.fields).flatMap(schemaBounds);
    default: {
      const never: never = s;
      return never;
    }
  }
}

describe('syscall table', () => {
  it('syscall numbers are unique positive integers', () => {
    const nrs = TABLE.map((d) => d.nr);
    for (const nr of nrs) {
      expect(Number.isInteger(nr)).toBe(true);
      expect(nr).toBeGreaterThan(0);
    }
    expect(new Set(nrs).size).toBe(nrs.length);
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s is numbered within its family range', (_name, d) => {
    const [lo, hi] = FAMILY_RANGE[d.family];
    expect(d.nr).toBeGreaterThanOrEqual(lo);
    expect(d.nr).toBeLessThanOrEqual(hi);
  });

  it('syscall names are unique snake_case identifiers', () => {
    const names = TABLE.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s has at most one payload argument, and it comes last', (_name, d) => {
    const payloadAt = d.args.flatMap((a, i) => (isPayload(a.kind) ? [i] : []));
    expect(payloadAt.length).toBeLessThanOrEqual(1);
    if (payloadAt.length === 1) expect(payloadAt[0]).toBe(d.args.length - 1);
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s fits its slot arguments in the ARG_SLOTS argument slots', (_name, d) => {
    const slots = d.args.filter((a) => !isPayload(a.kind)).length;
    expect(slots).toBeLessThanOrEqual(ARG_SLOTS);
    expect(slotCount(d)).toBe(slots);
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s has well-formed arguments', (_name, d) => {
    const names = d.args.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of d.args) {
      expect(a.name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (a.kind === 'int') {
        expect(Number.isSafeInteger(a.min) && Number.isSafeInteger(a.max)).toBe(true);
        expect(a.min).toBeLessThanOrEqual(a.max);
      }
      if (a.kind === 'flags') {
        const bits = Object.values(a.bits);
        expect(bits.length).toBeGreaterThan(0);
        let all = 0;
        for (const b of bits) {
          expect(b > 0 && (b & (b - 1)) === 0 && b <= 2 ** 30).toBe(true); // one bit each, within an Int32
          expect(all & b).toBe(0);
          all |= b;
        }
      }
      if (a.kind === 'record') {
        for (const bound of schemaBounds(a.schema)) {
          expect(Number.isInteger(bound) && bound > 0).toBe(true);
        }
      }
    }
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s names only errnos that ERRNO defines, each once', (_name, d) => {
    for (const e of d.errnos) expect(Object.hasOwn(ERRNO, e)).toBe(true);
    expect(new Set(d.errnos).size).toBe(d.errnos.length);
  });

  it('frame errnos are all defined in ERRNO', () => {
    for (const e of FRAME_ERRNOS) expect(Object.hasOwn(ERRNO, e)).toBe(true);
  });

  it('the blocking flag is a boolean, and read, write, waitpid and nanosleep block', () => {
    for (const d of TABLE) expect(typeof d.blocking).toBe('boolean');
    for (const name of ['read', 'write', 'waitpid', 'nanosleep']) expect(syscallByName(name)?.blocking).toBe(true);
  });

  it.each(TABLE.map((d) => [d.name, d] as const))('%s has a non-empty doc ending with a period', (_name, d) => {
    expect(d.doc.trim().length).toBeGreaterThan(0);
    expect(d.doc.endsWith('.')).toBe(true);
  });

  it('NR_MAX is the highest syscall number', () => {
    expect(NR_MAX).toBe(Math.max(...TABLE.map((d) => d.nr)));
  });

  it('syscallByNr and syscallByName find every call in the table', () => {
    for (const d of TABLE) {
      expect(syscallByNr(d.nr)).toBe(d);
      expect(syscallByName(d.name)).toBe(d);
    }
    expect(syscallByName('no_such_call')).toBeUndefined();
  });

  it('syscallByNr answers undefined for gaps, negatives, non-integers, NaN and numbers past NR_MAX', () => {
    const used = new Set(TABLE.map((d) => d.nr));
    for (let nr = 0; nr <= NR_MAX + 1; nr++) if (!used.has(nr)) expect(syscallByNr(nr)).toBeUndefined();
    const first = TABLE[0]!.nr;
    for (const nr of [-1, -first, -0.5, first + 0.5, 0.5, NaN, Infinity, -Infinity, NR_MAX + 1, 2 ** 31, 2 ** 53]) {
      expect(syscallByNr(nr), `syscallByNr(${nr})`).toBeUndefined();
    }
  });
});

describe('errno table', () => {
  it('errno numbers are unique positive integers with a message', () => {
    const entries = Object.entries(ERRNO);
    const numbers = entries.map(([, e]) => e.no);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const [name, e] of entries) {
      expect(name).toMatch(/^E[A-Z0-9]+$/);
      expect(Number.isInteger(e.no) && e.no > 0).toBe(true);
      expect(e.msg.length).toBeGreaterThan(0);
    }
  });

  it('errnoName and strerror round-trip every errno and do not throw on unknown numbers', () => {
    for (const [name, e] of Object.entries(ERRNO)) {
      expect(errnoName(e.no)).toBe(name);
      expect(strerror(e.no)).toBe(e.msg);
    }
    for (const no of [0, -1, 6, 9999, NaN]) expect(errnoName(no)).toBeUndefined();
    expect(strerror(9999)).toBe('Unknown error 9999');
  });
});

describe('signal table', () => {
  it('signal numbers are unique, from 1 to NSIG, and NSIG fits a 32-bit mask', () => {
    const numbers = Object.values(SIGNALS).map((s) => s.no);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const no of numbers) {
      expect(Number.isInteger(no)).toBe(true);
      expect(no).toBeGreaterThanOrEqual(1);
      expect(no).toBeLessThanOrEqual(NSIG);
    }
    expect(NSIG).toBeLessThan(32);
  });

  it('signalName round-trips every signal', () => {
    for (const [name, s] of Object.entries(SIGNALS)) expect(signalName(s.no)).toBe(name);
    expect(signalName(0)).toBeUndefined();
    expect(signalName(NSIG + 1)).toBeUndefined();
  });

  it('SIGKILL and SIGSTOP are the uncatchable signals', () => {
    expect([...UNCATCHABLE].sort((a, b) => a - b)).toEqual([SIGNALS.SIGKILL.no, SIGNALS.SIGSTOP.no]);
  });

  it('the dispositions are distinct and within sigaction\'s action range', () => {
    const sigaction = syscallByName('sigaction')!;
    const action = sigaction.args[1]!;
    expect(action.kind).toBe('int');
    const dispositions = [SIG_DFL, SIG_IGN, SIG_CATCH];
    expect(new Set(dispositions).size).toBe(3);
    if (action.kind === 'int') for (const d of dispositions) expect(d >= action.min && d <= action.max).toBe(true);
  });
});

describe('channel layout', () => {
  const WORDS = { kState, kNr, kArgc, kPayloadLen, kErrno, kReplyLen, kSignals, kSpin, kSeq, kLife, kUserWaiting, kKernelWaiting };

  it('Int32 words are distinct and all lie before the argument slots', () => {
    const indices = Object.values(WORDS);
    expect(new Set(indices).size).toBe(indices.length);
    for (const [name, i] of Object.entries(WORDS)) {
      expect(Number.isInteger(i) && i >= 0, name).toBe(true);
      expect(i, name).toBeLessThan(kInt32Words);
      expect(i, name).toBeLessThan(kArgsByte / 4);
    }
    expect(kInt32Words * 4).toBeLessThanOrEqual(kArgsByte);
  });

  it('argument slots end before the result slots, which end before the payload', () => {
    expect(kArgsByte % 8).toBe(0); // a Float64Array view must start on an 8-byte boundary
    expect(kArgsByte + ARG_SLOTS * 8).toBeLessThanOrEqual(kRet0Byte);
    expect(kRet1Byte).toBe(kRet0Byte + 8);
    expect(kRet1Byte + 8).toBeLessThanOrEqual(kPayloadByte);
  });

  it('ret0 and ret1 are Float64 indices 6 and 7 of the slot view, as the kernel and trap.ts index them', () => {
    expect((kRet0Byte - kArgsByte) / 8).toBe(ARG_SLOTS);
    expect((kRet1Byte - kArgsByte) / 8).toBe(ARG_SLOTS + 1);
  });

  it('the channel is the header plus one payload', () => {
    expect(CHANNEL_BYTES).toBe(kPayloadByte + PAYLOAD_MAX);
  });

  it('the channel states are distinct', () => {
    expect(new Set([STATE_IDLE, STATE_REQUEST, STATE_REPLY, STATE_DEAD]).size).toBe(4);
  });
});
