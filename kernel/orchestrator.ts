// The resource orchestrator. Every resource a process acquires is registered here, with its release action, at
// the moment it is acquired; however the process ends, releaseAll undoes them in exact reverse order. A resource
// released early (close) is undone then and skipped later. A release that throws is reported and the rest go on.

/** What a process can hold. IPC objects are not kinds of their own: a process holds a pipe, a shared-memory object
 *  or a queue through a descriptor ('fd'), and the object goes with the last open file that leads to it. */
export type ResourceKind = 'worker' | 'fd' | 'child' | 'timer' | 'memory';

export interface Resource {
  readonly kind: ResourceKind;
  readonly label: string;
  /** Acquisition order within the process, from 1. */
  readonly seq: number;
  live: boolean;
}

interface Entry extends Resource {
  readonly release: () => void;
}

export interface CleanupStats {
  acquired: number;
  releasedEarly: number;
  releasedAtExit: number;
  failed: number;
  /** Milliseconds releaseAll took. */
  ms: number;
}

export interface CleanupStep {
  readonly resource: Resource;
  readonly order: number;
  readonly error: unknown;
}

export class ResourceStack {
  private entries: Entry[] = [];
  private dead = 0;
  private seq = 0;
  private closed = false;
  readonly stats: CleanupStats = { acquired: 0, releasedEarly: 0, releasedAtExit: 0, failed: 0, ms: 0 };

  /** Registers a resource the caller has just acquired. After releaseAll has run, the release runs at once. */
  acquire(kind: ResourceKind, label: string, release: () => void): Resource {
    const e: Entry = { kind, label, seq: ++this.seq, live: true, release };
    this.stats.acquired++;
    if (this.closed) {
      e.live = false;
      release();
      return e;
    }
    this.entries.push(e);
    return e;
  }

  /** Releases one resource now (close, munmap ...). Releasing one twice is a no-op, so callers need no guard. */
  release(r: Resource): void {
    const e = r as Entry;
    if (!e.live) return;
    e.live = false;
    this.stats.releasedEarly++;
    e.release();
    // Compact once tombstones dominate, so a process that opens and closes forever keeps a small stack.
    if (++this.dead > 32 && this.dead * 2 > this.entries.length) {
      this.entries = this.entries.filter((x) => x.live);
      this.dead = 0;
    }
  }

  /** Live resources, oldest first. */
  live(): Resource[] {
    return this.entries.filter((e) => e.live);
  }

  /** Undoes everything still held, newest first. Each step is reported, failed or not. Runs once. */
  releaseAll(report: (step: CleanupStep) => void): void {
    if (this.closed) return;
    this.closed = true;
    const t0 = performance.now();
    let order = 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (!e.live) continue;
      e.live = false;
      let error: unknown = null;
      try {
        e.release();
        this.stats.releasedAtExit++;
      } catch (err: unknown) {
        error = err;
        this.stats.failed++;
      }
      report({ resource: e, order: ++order, error });
    }
    this.entries = [];
    this.stats.ms = performance.now() - t0;
  }
}
