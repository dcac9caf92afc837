// The strace formatter (kernel/strace.ts): calls as `[pid 3] read(4, 4096) = 120 <0.021 ms>`, derived from the
// ABI table's types, never throwing on a hostile frame's values.

import { describe, expect, it } from 'vitest';
import { syscallByName, type SyscallDef } from '../dist/abi/index.js';
import { formatBytes, formatCall, formatResumed, formatValue, unknownSyscall } from '../dist/kernel/strace.js';

function def(name: string): SyscallDef {
  const d = syscallByName(name);
  if (d === undefined) throw new Error(`no syscall ${name}`);
  return d;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('formatCall', () => {
  it('shows a successful call with its integer arguments, result and duration in milliseconds', () => {
    expect(formatCall(3, def('read'), [4, 4096], 120, 0, 21_000)).toBe('[pid 3] read(4, 4096) = 120 <0.021 ms>');
  });

  it('shows a failure as -1, the errno name and its message', () => {
    expect(formatCall(3, def('write'), [9, utf8('hi\n')], undefined, 9, null)).toBe(
      '[pid 3] write(9, "hi\\n") = -1 EBADF (Bad file descriptor)',
    );
  });

  it('shows an errno the table does not define by number', () => {
    expect(formatCall(2, def('close'), [3], undefined, 200, null)).toBe('[pid 2] close(3) = -1 E200 (Unknown error 200)');
  });

  it('names signals and flag bits, and shows bits a flags argument does not define in hex', () => {
    expect(formatCall(2, def('kill'), [5, 15], 0, 0, null)).toBe('[pid 2] kill(5, SIGTERM) = 0');
    expect(formatCall(2, def('kill'), [5, 0], 0, 0, null)).toBe('[pid 2] kill(5, 0) = 0');
    expect(formatCall(2, def('waitpid'), [-1, 1], [0, 0], 0, null)).toBe('[pid 2] waitpid(-1, WNOHANG) = {pid: 0, status: 0}');
    expect(formatCall(2, def('waitpid'), [-1, 5], undefined, 22, null)).toContain('waitpid(-1, WNOHANG|0x4)');
  });

  it('shows values of the wrong type as they were sent: NaN, -0, fractions, signals outside the table', () => {
    expect(formatCall(2, def('kill'), [NaN, 16], undefined, 22, null)).toBe('[pid 2] kill(NaN, 16) = -1 EINVAL (Invalid argument)');
    expect(formatCall(2, def('nanosleep'), [-0, 0.5], undefined, 22, null)).toBe('[pid 2] nanosleep(-0, 0.5) = -1 EINVAL (Invalid argument)');
  });

  it('shows a record argument compactly, cutting long strings and lists', () => {
    const argv = Array.from({ length: 12 }, (_, i) => `a${i}`);
    const line = formatCall(4, def('spawn'), [{ path: 'x'.repeat(40), argv, env: { HOME: '/h' } }], 7, 0, null);
    expect(line).toBe(
      `[pid 4] spawn({path: "${'x'.repeat(32)}"..., argv: ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", ...], env: {HOME: "/h"}}) = 7`,
    );
  });

  it('shows a record result, a mapping address in hex, and bytes read with their count', () => {
    expect(formatCall(2, def('getrusage'), [0], { cpuNs: 5, waitNs: 0, nvcsw: 1, nivcsw: 0 }, 0, null)).toBe(
      '[pid 2] getrusage(0) = {cpuNs: 5, waitNs: 0, nvcsw: 1, nivcsw: 0}',
    );
    expect(formatCall(2, def('mmap'), [4096], 0x10000, 0, null)).toBe('[pid 2] mmap(4096) = 0x10000');
    expect(formatCall(2, def('read'), [0, 10], utf8('ok\n'), 0, null)).toBe('[pid 2] read(0, 10) = 3 "ok\\n"');
  });

  it('shows a call that never returns, and one that parked, as strace does', () => {
    expect(formatCall(2, def('exit'), [0], undefined, 0, null)).toBe('[pid 2] exit(0) = ?');
    expect(formatCall(2, def('nanosleep'), [1, 0], undefined, 0, null)).toBe('[pid 2] nanosleep(1, 0) = ? <unfinished ...>');
    expect(formatResumed(2, def('nanosleep'), 0, 0, 1e9)).toBe('[pid 2] <... nanosleep resumed> = 0 <1000.000 ms>');
  });

  it('shows a frame with more slots than the call takes, and a number the table does not have', () => {
    expect(formatCall(2, def('getpid'), [1, 2], undefined, 22, null)).toBe('[pid 2] getpid(1, 2) = -1 EINVAL (Invalid argument)');
    expect(formatCall(2, unknownSyscall(99, 2), [1, 2], undefined, 38, null)).toBe('[pid 2] syscall_99(1, 2) = -1 ENOSYS (Function not implemented)');
    expect(unknownSyscall(99, 2 ** 31 - 1).args.length).toBe(6);
  });
});

describe('formatBytes', () => {
  it('escapes quotes, backslashes and control bytes, and other bytes in octal', () => {
    expect(formatBytes(new Uint8Array([0x22, 0x5c, 9, 0, 0xff, 0x41]))).toBe('"\\"\\\\\\t\\0\\377A"');
  });

  it('pads an octal escape to three digits when a digit follows it', () => {
    expect(formatBytes(new Uint8Array([0, 0x31]))).toBe('"\\0001"');
  });

  it('shows at most 32 bytes, then ... after the closing quote', () => {
    expect(formatBytes(utf8('y'.repeat(33)))).toBe(`"${'y'.repeat(32)}"...`);
    expect(formatBytes(utf8('y'.repeat(32)))).toBe(`"${'y'.repeat(32)}"`);
  });
});

describe('formatValue', () => {
  it('elides nesting past four levels and quotes keys that are not identifiers', () => {
    expect(formatValue({ a: { b: { c: { d: { e: 1 } } } } })).toBe('{a: {b: {c: {d: {...}}}}}');
    expect(formatValue({ 'a b': 1, __proto__x: null })).toBe('{"a b": 1, __proto__x: null}');
  });
});
