// Records made from the event stream (events.ts): JSON Lines files, the line sinks traces and records are written
// to, and who held which CPU when (for timelines: perfetto.ts, the live view).

import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EVENT_SCHEMA, type KernelEvent, type Stamped } from './events.js';
import type { Piece, TextOut } from './strace.js';

type Of<K extends KernelEvent['kind']> = Extract<Stamped, { kind: K }>;

// ---- JSON Lines ------------------------------------------------------------------------------------------------------

/** The first line of a JSONL record: what wrote it and the event schema its lines follow. */
export interface JsonlHeader {
  readonly kind: 'header';
  readonly format: 'agentix-events';
  readonly schema: number;
  readonly cpus: number;
  readonly deterministic: boolean;
  /** performance.now() (ms) when the record began: events' `ts` are on the same clock. */
  readonly ts: number;
}

export function jsonlHeader(cpus: number, deterministic: boolean): JsonlHeader {
  return { kind: 'header', format: 'agentix-events', schema: EVENT_SCHEMA, cpus, deterministic, ts: performance.now() };
}

/** Bytes in an event (write's data, a read's answer) travel as `{"$base64": "..."}`: JSON has no bytes. */
function bytesToJson(_key: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { $base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } : v;
}

function bytesFromJson(_key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const b = (v as { $base64?: unknown }).$base64;
    if (typeof b === 'string' && Object.keys(v).length === 1) return new Uint8Array(Buffer.from(b, 'base64'));
  }
  return v;
}

/** One event as one line of JSON (no newline). */
export function eventToJson(e: Stamped | JsonlHeader): string {
  return JSON.stringify(e, bytesToJson);
}

/** Reads a JSONL record back: its header and its events, bytes as Uint8Array again. */
export function parseJsonl(text: string): { header: JsonlHeader | null; events: Stamped[] } {
  let header: JsonlHeader | null = null;
  const events: Stamped[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const v = JSON.parse(line, bytesFromJson) as Stamped | JsonlHeader;
    if (v.kind === 'header') header = v;
    else events.push(v);
  }
  return { header, events };
}

// ---- sinks -------------------------------------------------------------------------------------------------------

/** Where text lines go, part by part: `put` and `piece` (text made once, strace.ts) add to the line in progress,
 *  `end` finishes it. Strace writes its lines this way, so that a line bound for a file or a terminal is never
 *  built as a string first. */
export interface LineSink extends TextOut {
  end(): void;
}

/** A LineSink that hands each finished line to `write` as one string (tests, logs, the live view). */
export class StringLines implements LineSink {
  private current = '';

  constructor(private readonly write: (line: string) => void) {}

  put(s: string): void {
    this.current += s;
  }

  piece(p: Piece): void {
    this.current += p.text;
  }

  end(): void {
    const line = this.current;
    this.current = '';
    this.write(line);
  }
}

/** Bytes ByteLines gathers before it hands them over. */
const LINE_BUFFER_BYTES = 1 << 16;
/** Room past the end of ByteLines' buffer: a piece's last word may write up to 3 bytes beyond the piece. */
const WORD_SLACK = 4;

const utf8 = new TextEncoder();

/**
 * Lines as UTF-8 bytes in a buffer, handed to `out` a bufferful at a time: when the next part would not fit, and
 * on flush(). `out` gets a view of the buffer, valid only during the call: it writes it at once or copies it.
 * Pieces are copied a word at a time; other text byte by byte while it is ASCII (a trace line always is:
 * strace.ts escapes every other byte), which costs less than building the line as a string and encoding it.
 */
export class ByteLines implements LineSink {
  private readonly buf = new Uint8Array(LINE_BUFFER_BYTES + WORD_SLACK);
  private readonly view = new DataView(this.buf.buffer);
  private n = 0;

  constructor(private readonly out: (chunk: Uint8Array) => void) {}

  /** Bytes waiting for the next flush. */
  get pending(): number {
    return this.n;
  }

  line(s: string): void {
    this.put(s);
    this.end();
  }

  put(s: string): void {
    const len = s.length;
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    if (this.n + 3 * len > LINE_BUFFER_BYTES) {
      this.flush();
      if (3 * len > LINE_BUFFER_BYTES) return this.out(utf8.encode(s));
    }
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        n += utf8.encodeInto(s.slice(i), buf.subarray(n, LINE_BUFFER_BYTES)).written;
        break;
      }
      buf[n++] = c;
    }
    this.n = n;
  }

  piece(p: Piece): void {
    const len = p.bytes.length;
    if (this.n + len > LINE_BUFFER_BYTES) {
      this.flush();
      if (len > LINE_BUFFER_BYTES) return this.out(p.bytes);
    }
    const words = p.words;
    const view = this.view;
    let at = this.n;
    for (let i = 0; i < words.length; i++, at += 4) view.setUint32(at, words[i]!, true);
    this.n += len;
  }

  end(): void {
    if (this.n === LINE_BUFFER_BYTES) this.flush();
    this.buf[this.n++] = 0x0a;
  }

  flush(): void {
    if (this.n === 0) return;
    const n = this.n;
    this.n = 0;
    this.out(this.buf.subarray(0, n));
  }
}

/** Lines into a file, written synchronously: the CLI ends with process.exit, which drops pending asynchronous writes. */
export class FileLines extends ByteLines {
  private readonly fd: number;

  constructor(readonly file: string) {
    const fd = openSync(file, 'w');
    super((chunk) => writeAll(fd, chunk));
    this.fd = fd;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** writeSync until every byte is written (a pipe or a terminal may take fewer at a time). */
function writeAll(fd: number, chunk: Uint8Array): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
}

// ---- runs on CPUs ------------------------------------------------------------------------------------------------

/** A stretch of time a process held a virtual CPU, from its `sched` event to the state change that ended it. */
export interface Stretch {
  readonly cpu: number;
  readonly pid: number;
  readonly start: number;
  readonly end: number;
  /** Why it ended: the preempt reason (yield, priority, slice), or the state it left for (blocked, zombie). */
  readonly why: string;
  readonly pick: Omit<Of<'sched'>, 'kind' | 'id' | 'ts' | 'cause' | 'pid' | 'cpu'>;
}

/** Follows sched, preempt and proc_state events and reports each finished stretch on a CPU. */
export class CpuRuns {
  private readonly running = new Map<number, { cpu: number; start: number; pick: Stretch['pick']; why: string | null }>();

  constructor(private readonly done: (s: Stretch) => void) {}

  feed(e: Stamped): void {
    if (e.kind === 'sched') {
      const { cls, vruntime, minVruntime, runnerUp, runnable } = e;
      this.running.set(e.pid, { cpu: e.cpu, start: e.ts, pick: { cls, vruntime, minVruntime, runnerUp, runnable }, why: null });
    } else if (e.kind === 'preempt') {
      const r = this.running.get(e.pid);
      if (r !== undefined) r.why = e.reason;
    } else if (e.kind === 'proc_state' && e.from === 'running') {
      this.close(e.pid, e.ts, e.to);
    }
  }

  /** The stretches still in progress, as if they ended at `ts` (they go on). */
  open(ts: number): Stretch[] {
    return [...this.running].map(([pid, r]) => ({ cpu: r.cpu, pid, start: r.start, end: ts, why: 'running', pick: r.pick }));
  }

  private close(pid: number, ts: number, to: string): void {
    const r = this.running.get(pid);
    if (r === undefined) return;
    this.running.delete(pid);
    this.done({ cpu: r.cpu, pid, start: r.start, end: ts, why: r.why ?? to, pick: r.pick });
  }
}

/** A process's name in timelines and views: its program's file name. */
export function programName(file: string): string {
  return path.basename(file);
}
