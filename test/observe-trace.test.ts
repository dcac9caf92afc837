// strace lines from the event stream (kernel/trace.ts): one family of syscalls at a time through the frame
// harness (the kernel's real request path, driven synchronously), calls that park and resume, processes that end,
// the --trace filter, and the JSON Lines record.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { O_CREAT, O_RDWR, SIGNALS } from '../dist/abi/index.js';
import { FrameHarness, type LocalProcess } from '../dist/fuzz/harness.js';
import type { Stamped } from '../dist/kernel/index.js';
import { ByteLines, eventToJson, jsonlHeader, parseJsonl, StringLines } from '../dist/kernel/records.js';
import { durationPiece, formatDuration, formatInt, intPiece, makePiece } from '../dist/kernel/strace.js';
import { parseCallFilter, Strace } from '../dist/kernel/trace.js';

/** Lines with their durations cut off (they vary), for the calls `run` makes. */
function traceOf(h: FrameHarness, run: () => void, filter: string = 'all'): string[] {
  const lines: string[] = [];
  const strace = new Strace((l) => lines.push(l.replace(/ <\d+\.\d{3} ms>$/, '')), parseCallFilter(filter), 'kernel');
  const off = h.kernel.stream.on((e) => strace.feed(e));
  try {
    run();
  } finally {
    off();
  }
  return lines;
}

function attachBooted(h: FrameHarness): LocalProcess {
  const p = h.attach();
  p.call('sched_yield'); // its first frame only boots it
  return p;
}

describe('strace lines for each syscall family', () => {
  let h: FrameHarness;
  let p: LocalProcess;
  beforeAll(async () => {
    h = await FrameHarness.boot();
  });
  afterAll(() => h.shutdown());

  it('process: getpid answers the pid; a frame that fails validation shows (...) and its errno', () => {
    p = attachBooted(h);
    const lines = traceOf(h, () => {
      p.call('getpid');
      p.frame({ nr: 4, slots: [1, 2, 3] });
    });
    expect(lines).toEqual([`[pid ${p.pid}] getpid() = ${p.pid}`, `[pid ${p.pid}] getpid(...) = -1 EINVAL (Invalid argument)`]);
  });

  it('signal: signals by name, and a failed kill by errno name', () => {
    const lines = traceOf(h, () => {
      p.call('sigaction', SIGNALS.SIGUSR1.no, 2);
      p.call('kill', 32000, SIGNALS.SIGTERM.no);
    });
    expect(lines).toEqual([
      `[pid ${p.pid}] sigaction(SIGUSR1, 2) = 0`,
      `[pid ${p.pid}] kill(32000, SIGTERM) = -1 ESRCH (No such process)`,
    ]);
  });

  it('time and sched: integer arguments and results, both integers of a pair', () => {
    const lines = traceOf(h, () => {
      p.call('clock_gettime', 1);
      p.call('nice', 1);
    });
    expect(lines[0]).toMatch(new RegExp(`^\\[pid ${p.pid}\\] clock_gettime\\(1\\) = \\{sec: \\d+, nsec: \\d+\\}$`));
    expect(lines[1]).toBe(`[pid ${p.pid}] nice(1) = 0`);
  });

  it('fd: written bytes quoted and escaped, a read shows its count and bytes, a bad descriptor EBADF', () => {
    const lines = traceOf(h, () => {
      const pr = p.call('pipe');
      if (pr.kind !== 'reply') throw new Error('pipe failed');
      p.call('write', pr.ret1, 'hi\n');
      p.call('read', pr.ret0, 16);
      p.call('close', 99);
    });
    expect(lines).toEqual([
      `[pid ${p.pid}] pipe() = {rfd: 3, wfd: 4}`,
      `[pid ${p.pid}] write(4, "hi\\n") = 3`,
      `[pid ${p.pid}] read(3, 16) = 3 "hi\\n"`,
      `[pid ${p.pid}] close(99) = -1 EBADF (Bad file descriptor)`,
    ]);
  });

  it('fd: a read longer than an event keeps still shows its true count, and its first bytes cut with ...', () => {
    const lines = traceOf(h, () => {
      const pr = p.call('pipe');
      if (pr.kind !== 'reply') throw new Error('pipe failed');
      p.call('write', pr.ret1, 'x'.repeat(1000));
      p.call('read', pr.ret0, 4096);
    });
    expect(lines[2]).toBe(`[pid ${p.pid}] read(5, 4096) = 1000 "${'x'.repeat(32)}"...`);
  });

  it('memory: a mapping answers its address in hex', () => {
    const lines = traceOf(h, () => p.call('mmap', 4096));
    expect(lines[0]).toMatch(new RegExp(`^\\[pid ${p.pid}\\] mmap\\(4096\\) = 0x[0-9a-f]+$`));
  });

  it('ipc: flags by name, names quoted, a received message as its bytes', () => {
    const lines = traceOf(h, () => {
      const q = p.call('mq_open', O_RDWR | O_CREAT, 0o600, 4, 32, '/trace-q');
      if (q.kind !== 'reply') throw new Error('mq_open failed');
      p.call('mq_send', q.ret0, 3, -1, 'hello');
      p.call('mq_receive', q.ret0, -1);
      p.call('mq_unlink', '/trace-q');
    });
    expect(lines).toEqual([
      `[pid ${p.pid}] mq_open(O_RDWR|O_CREAT, 384, 4, 32, "/trace-q") = 7`,
      `[pid ${p.pid}] mq_send(7, 3, -1, "hello") = 0`,
      `[pid ${p.pid}] mq_receive(7, -1) = 5 "hello"`,
      `[pid ${p.pid}] mq_unlink("/trace-q") = 0`,
    ]);
  });
});

describe('calls that park, and processes that end', () => {
  let h: FrameHarness;
  beforeAll(async () => {
    h = await FrameHarness.boot();
  });
  afterAll(() => h.shutdown());

  it('a read on an empty pipe is <unfinished ...> until the write that wakes it, and resumes inside that write', async () => {
    const reader = attachBooted(h);
    const pr = reader.call('pipe');
    if (pr.kind !== 'reply') throw new Error('pipe failed');
    const writer = h.attach({ stdio: { files: reader.fds().map(([, f]) => f) } });
    writer.call('sched_yield');
    const lines: string[] = [];
    const strace = new Strace((l) => lines.push(l.replace(/ <\d+\.\d{3} ms>$/, '')), null, 'kernel');
    const off = h.kernel.stream.on((e) => strace.feed(e));
    expect(reader.call('read', pr.ret0, 100).kind).toBe('parked');
    writer.call('write', pr.ret1, 'hi');
    await reader.settle();
    off();
    // With a CPU free, the woken reader is answered while the kernel still serves the write, as strace shows it.
    expect(lines).toEqual([
      `[pid ${reader.pid}] read(${pr.ret0}, 100 <unfinished ...>`,
      `[pid ${writer.pid}] write(${pr.ret1}, "hi" <unfinished ...>`,
      `[pid ${reader.pid}] <... read resumed> = 2 "hi"`,
      `[pid ${writer.pid}] <... write resumed> = 2`,
    ]);
    reader.kill();
    writer.kill();
  });

  it('a call with nothing between its enter and its exit is one line, even when it parked', async () => {
    const p = attachBooted(h);
    const lines: string[] = [];
    const strace = new Strace((l) => lines.push(l), null, 'kernel');
    const off = h.kernel.stream.on((e) => strace.feed(e));
    expect(p.call('nanosleep', 0, 1_000_000).kind).toBe('parked');
    await p.settle();
    off();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\[pid ${p.pid}\\] nanosleep\\(0, 1000000\\) = 0 <\\d+\\.\\d{3} ms>$`));
    expect(strace.pending()).toBeNull();
    p.kill();
  });

  it('exit never returns: exit(3) = ? then +++ exited with 3 +++', () => {
    const p = attachBooted(h);
    const lines = traceOf(h, () => p.call('exit', 3));
    expect(lines).toEqual([`[pid ${p.pid}] exit(3) = ?`, `[pid ${p.pid}] +++ exited with 3 +++`]);
  });

  it('a process killed inside a parked call: the signal, its call resumed with no answer (?), then +++ killed by SIGKILL +++', () => {
    const p = attachBooted(h);
    const pr = p.call('pipe');
    if (pr.kind !== 'reply') throw new Error('pipe failed');
    const lines = traceOf(h, () => {
      expect(p.call('read', pr.ret0, 8).kind).toBe('parked');
      h.kernel.kill(p.pid, 'SIGKILL');
    });
    expect(lines).toEqual([
      `[pid ${p.pid}] read(${pr.ret0}, 8 <unfinished ...>`,
      `[pid ${p.pid}] --- SIGKILL {from=0, action=term} ---`,
      `[pid ${p.pid}] <... read resumed> = ?`,
      `[pid ${p.pid}] +++ killed by SIGKILL +++`,
    ]);
  });

  it('with a filter, only the calls named (or of the families named) are printed; process ends always are', () => {
    const p = attachBooted(h);
    const lines = traceOf(h, () => {
      p.call('getpid');
      p.call('nice', 0);
      p.call('close', 42);
      p.call('exit', 0);
    }, 'fd,nice');
    expect(lines).toEqual([
      `[pid ${p.pid}] nice(0) = 0`,
      `[pid ${p.pid}] close(42) = -1 EBADF (Bad file descriptor)`,
      `[pid ${p.pid}] +++ exited with 0 +++`,
    ]);
  });
});

describe('--trace filters', () => {
  it('names, families (with or without %), and exclusions', () => {
    expect(parseCallFilter('')).toBeNull();
    expect(parseCallFilter('all')).toBeNull();
    expect([...parseCallFilter('read,write')!]).toEqual(['read', 'write']);
    const fd = parseCallFilter('fd')!;
    expect(fd.has('read') && fd.has('pipe2') && fd.has('poll')).toBe(true);
    expect(fd.has('getpid')).toBe(false);
    expect(parseCallFilter('%ipc')!.has('mq_open')).toBe(true);
    const most = parseCallFilter('!getpid,!pipe_ring')!;
    expect(most.has('getpid') || most.has('pipe_ring')).toBe(false);
    expect(most.has('read')).toBe(true);
    expect([...parseCallFilter('process,!getpid,!getppid')!].sort()).toEqual(['exit', 'spawn', 'waitpid']);
  });

  it('an unknown name is a usage error that lists the families', () => {
    expect(() => parseCallFilter('read,frobnicate')).toThrow(/'frobnicate' is neither a syscall nor a family \(families: process, signal/);
    try {
      parseCallFilter('nope');
    } catch (e: unknown) {
      expect((e as { code: string }).code).toBe('ERR_USAGE');
    }
  });
});

describe('line sinks', () => {
  /** Everything a ByteLines handed over, as text. */
  function collect(): { lines: ByteLines; text: () => string; chunks: number[] } {
    const parts: Uint8Array[] = [];
    const chunks: number[] = [];
    const lines = new ByteLines((chunk) => {
      chunks.push(chunk.length);
      parts.push(chunk.slice()); // a view of the buffer: valid only during the call
    });
    return { lines, chunks, text: () => Buffer.concat(parts).toString('utf8') };
  }

  it('ByteLines writes text and pieces as UTF-8, a newline after each line, and hands nothing over before flush', () => {
    const { lines, text, chunks } = collect();
    lines.put('[pid 3] ');
    lines.piece(makePiece('write('));
    lines.put('1, "caf\u00e9 \u2603 \u{1F600}"');
    lines.end();
    lines.line('second');
    expect(chunks).toEqual([]);
    expect(lines.pending).toBeGreaterThan(0);
    lines.flush();
    expect(text()).toBe('[pid 3] write(1, "caf\u00e9 \u2603 \u{1F600}"\nsecond\n');
    lines.flush(); // nothing left: no empty chunk
    expect(chunks).toHaveLength(1);
  });

  it('ByteLines hands over a full buffer before the piece that would not fit, and text longer than the buffer whole', () => {
    const { lines, text, chunks } = collect();
    const line = 'x'.repeat(999);
    for (let i = 0; i < 200; i++) lines.line(line); // 200,000 bytes: more than the buffer holds
    const huge = 'y'.repeat(100_000) + '\u00e9';
    lines.line(huge);
    lines.flush();
    expect(chunks.length).toBeGreaterThan(3);
    for (const n of chunks.slice(0, -3)) expect(n).toBeLessThanOrEqual(1 << 16);
    expect(text()).toBe(`${line}\n`.repeat(200) + `${huge}\n`);
  });

  it('ByteLines copies pieces of any length a word at a time, across buffer boundaries, byte for byte', () => {
    const { lines, text } = collect();
    const pieces = ['a', 'bc', 'def', 'ghij', 'klmno', '[pid 12345] clock_gettime() = '].map(makePiece);
    let expected = '';
    for (let i = 0; i < 20_000; i++) {
      const p = pieces[i % pieces.length]!;
      const q = pieces[(i * 7) % pieces.length]!;
      lines.piece(p);
      lines.piece(q);
      lines.end();
      expected += `${p.text}${q.text}\n`;
    }
    lines.flush();
    expect(expected.length).toBeGreaterThan(3 * (1 << 16));
    expect(text()).toBe(expected);
  });

  it('StringLines gives each line whole, as the pieces and text that made it', () => {
    const got: string[] = [];
    const lines = new StringLines((l) => got.push(l));
    lines.piece(makePiece('[pid 1] '));
    lines.put('getpid()');
    lines.end();
    lines.end();
    expect(got).toEqual(['[pid 1] getpid()', '']);
  });

  it('the pieces of small integers and short durations are the text formatInt and formatDuration give', () => {
    for (const v of [0, 1, 7, 4095]) expect(intPiece(v)?.text).toBe(formatInt(v));
    for (const v of [-1, -0, 4096, 1.5, NaN, 2 ** 40]) {
      expect(intPiece(v)).toBeNull();
      expect(formatInt(v)).toBe(Object.is(v, -0) ? '-0' : String(v));
    }
    for (const ns of [0, 499, 500, 21_000, 999_499]) {
      expect(durationPiece(ns)?.text).toBe(formatDuration(ns));
      expect(Buffer.from(durationPiece(ns)!.bytes).toString('latin1')).toBe(formatDuration(ns));
    }
    expect(durationPiece(999_500)).toBeNull();
    expect(formatDuration(1_234_567)).toBe(' <1.235 ms>');
  });
});

describe('JSON Lines records', () => {
  it('a header with the schema, then events that read back equal, bytes included (as {"$base64": ...})', async () => {
    const h = await FrameHarness.boot();
    try {
      const seen: Stamped[] = [];
      const off = h.kernel.stream.on((e) => seen.push(e));
      const p = attachBooted(h);
      const pr = p.call('pipe');
      if (pr.kind !== 'reply') throw new Error('pipe failed');
      p.call('write', pr.ret1, new Uint8Array([0, 1, 255]));
      p.call('read', pr.ret0, 8);
      off();
      const text = [jsonlHeader(16, false), ...seen].map(eventToJson).join('\n') + '\n';
      expect(text).toContain('{"$base64":"AAH/"}');
      const back = parseJsonl(text);
      expect(back.header).toMatchObject({ kind: 'header', format: 'agentix-events', schema: 2, cpus: 16 });
      expect(back.events).toEqual(seen);
      const read = back.events.find((e) => e.kind === 'sys_exit' && e.name === 'read') as Extract<Stamped, { kind: 'sys_exit' }>;
      expect(read.data).toBeInstanceOf(Uint8Array);
      expect([...read.data!]).toEqual([0, 1, 255]);
      p.kill();
    } finally {
      await h.shutdown();
    }
  });
});
