// Records made from the event stream (events.ts): JSON Lines files, a line sink, and who held which CPU when (for
// timelines: perfetto.ts, the live view). The file sink writes synchronously, because the CLI ends with
// process.exit and buffered asynchronous writes would be lost.

import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EVENT_SCHEMA, type KernelEvent, type Stamped } from './events.js';

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

/** Lines to a file, written in 64 KiB batches with writeSync; close() writes the rest. */
export class FileLines {
  private readonly fd: number;
  private buf = '';

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
  }

  line(s: string): void {
    this.buf += s + '\n';
    if (this.buf.length >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.buf === '') return;
    writeSync(this.fd, this.buf);
    this.buf = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
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
