// Filters and async readers of the event stream (events.ts). A filter is compiled once into a test of the three
// things it looks at (kind, pid, syscall), so that it runs on the ring's columns (eventring.ts) as well as on
// event objects: a reader builds an object only for an event its filter passes.

import { syscallName } from './eventring.js';
import type { EventFilter, EventKind, EventStream, Lost, Stamped } from './events.js';

const asSet = <T>(v: T | readonly T[] | undefined): Set<T> | null =>
  v === undefined ? null : new Set(Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/** A filter on the three things it looks at, so that it runs on the ring's columns as well as on objects. */
export type Passes = (kind: EventKind, pid: number, nr: number, name: string | null) => boolean;

export function compile(f: EventFilter): Passes {
  const pids = asSet(f.pid);
  const kinds = asSet(f.kind);
  const calls = asSet(f.syscall);
  return (kind, pid, nr, name) =>
    (pids === null || pids.has(pid)) &&
    (kinds === null || kinds.has(kind)) &&
    (calls === null || (kind !== 'sys_enter' && kind !== 'sys_exit') || calls.has(name ?? syscallName(nr)));
}

/** A compiled filter: true if the event passes. */
export function matcher(f: EventFilter = {}): (e: Stamped) => boolean {
  const passes = compile(f);
  return (e) => (e.kind === 'sys_enter' || e.kind === 'sys_exit' ? passes(e.kind, e.pid, e.nr, e.name) : passes(e.kind, e.pid, 0, null));
}


export class Reader implements AsyncIterableIterator<Stamped | Lost> {
  private cursor: number;
  private wake: (() => void) | null = null;
  private done = false;

  constructor(
    private readonly stream: EventStream,
    private readonly passes: Passes,
  ) {
    this.cursor = stream.next;
  }

  notify(): void {
    const w = this.wake;
    if (w !== null) {
      this.wake = null;
      w();
    }
  }

  async next(): Promise<IteratorResult<Stamped | Lost>> {
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      const oldest = this.stream.next - this.stream.capacity;
      if (this.cursor < oldest) {
        const count = oldest - this.cursor;
        this.cursor = oldest;
        return { done: false, value: { kind: 'lost', count } };
      }
      const ring = this.stream.columns;
      // The filter runs on the columns: an event it rejects never becomes an object.
      while (ring !== null && this.cursor < this.stream.next) {
        const id = this.cursor++;
        const kind = ring.kindOf(id);
        const call = kind === 'sys_enter' || kind === 'sys_exit';
        if (this.passes(kind, ring.pidOf(id), call ? ring.nrOf(id) : 0, null)) return { done: false, value: ring.event(id) };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  return(): Promise<IteratorResult<Stamped | Lost>> {
    this.done = true;
    this.stream.drop(this);
    this.notify();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Stamped | Lost> {
    return this;
  }
}
