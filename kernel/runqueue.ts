// The CFS runqueue (and the SCHED_IDLE one): a binary min-heap of tasks keyed by (vruntime, tie-break), used by
// the scheduler (sched.ts).

import type { Task } from './sched.js';

/**
 * A binary min-heap of tasks by (vruntime, tie). The heap itself is typed arrays only: each entry is a key, a
 * tie-break and a slot id, an index into `slots` where the task object sits. A sift moves numbers and never
 * touches a task; at 100,000 tasks each pointer chase (task -> entity -> field) would be a cache miss per level.
 * A queued task's key cannot change: only a running task is charged, and a task whose policy changes is removed
 * first.
 * Removal from the middle (a process killed, or its policy changed, while queued) is lazy. It clears the slot's
 * live flag, and an entry whose slot is no longer live is dropped when it reaches the top. A slot is freed only
 * then, so each slot has at most one entry, and the flag alone tells a stale entry without touching the task.
 * `size` counts live entries.
 */
export class VruntimeHeap<T extends Task> {
  private n = 0;
  private key = new Float64Array(64);
  private tie = new Float64Array(64);
  private ids = new Int32Array(64);
  private readonly slots: (T | undefined)[] = [];
  private slotLive = new Uint8Array(64);
  private readonly freeSlots: number[] = [];
  private live = 0;
  /** Stale entries still in the arrays; when they outnumber the live ones the heap is rebuilt without them. */
  private stale = 0;

  get size(): number {
    return this.live;
  }

  /** Live tasks, in no particular order. */
  tasks(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.n; i++) if (this.valid(i)) out.push(this.slots[this.ids[i]!]!);
    return out;
  }

  peek(): T | undefined {
    this.dropStale();
    return this.n > 0 ? this.slots[this.ids[0]!] : undefined;
  }

  push(t: T): void {
    if (this.n === this.key.length) this.grow();
    const se = t.sched;
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      if (slot === this.slotLive.length) {
        const next = new Uint8Array(slot * 2);
        next.set(this.slotLive);
        this.slotLive = next;
      }
    }
    this.slots[slot] = t;
    this.slotLive[slot] = 1;
    se.heapSlot = slot;
    se.inHeap = true;
    this.live++;
    let i = this.n++;
    const k = se.vruntime;
    const b = se.tie;
    const { key, tie } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = key[parent]!;
      if (pk < k || (pk === k && tie[parent]! <= b)) break;
      this.copy(i, parent);
      i = parent;
    }
    this.set(i, k, b, slot);
  }

  /** Entry i takes entry j's place in the arrays (a sift step). */
  private copy(i: number, j: number): void {
    this.key[i] = this.key[j]!;
    this.tie[i] = this.tie[j]!;
    this.ids[i] = this.ids[j]!;
  }

  private set(i: number, key: number, tie: number, id: number): void {
    this.key[i] = key;
    this.tie[i] = tie;
    this.ids[i] = id;
  }

  pop(): T | undefined {
    this.dropStale();
    if (this.n === 0) return undefined;
    const slot = this.ids[0]!;
    const top = this.slots[slot]!;
    this.removeTop();
    this.freeSlot(slot);
    top.sched.inHeap = false;
    this.live--;
    return top;
  }

  remove(t: T): void {
    const se = t.sched;
    if (!se.inHeap) return;
    se.inHeap = false;
    this.slotLive[se.heapSlot] = 0; // its entry is now stale
    this.live--;
    // A stale entry deep in the heap may never reach the top: compact before they pile up (and pin dead tasks).
    if (++this.stale > 32 && this.stale > this.live) this.rebuild();
  }

  /** The runner-up after the root (for explaining a pick); stale entries are skipped. */
  second(): T | undefined {
    this.dropStale();
    let best = -1;
    // The runner-up is a child of the root unless a child is stale; then look further (rare: only after removals).
    const limit = this.valid(1) && (this.n < 3 || this.valid(2)) ? Math.min(this.n, 3) : this.n;
    for (let i = 1; i < limit; i++) if (this.valid(i) && (best < 0 || this.less(i, best))) best = i;
    return best < 0 ? undefined : this.slots[this.ids[best]!];
  }

  private valid(i: number): boolean {
    return i < this.n && this.slotLive[this.ids[i]!] === 1;
  }

  private freeSlot(slot: number): void {
    this.slots[slot] = undefined;
    this.slotLive[slot] = 0;
    this.freeSlots.push(slot);
  }

  private dropStale(): void {
    while (this.n > 0 && this.slotLive[this.ids[0]!] === 0) {
      const slot = this.ids[0]!;
      this.removeTop();
      this.freeSlot(slot);
      this.stale--;
    }
  }

  private rebuild(): void {
    const live = this.tasks();
    for (let i = 0; i < this.n; i++) this.freeSlot(this.ids[i]!);
    this.slots.length = 0;
    this.freeSlots.length = 0;
    this.n = 0;
    this.live = 0;
    this.stale = 0;
    for (const t of live) this.push(t);
  }

  private less(i: number, j: number): boolean {
    const d = this.key[i]! - this.key[j]!;
    return d < 0 || (d === 0 && this.tie[i]! < this.tie[j]!);
  }

  /** Removes the root entry (live or stale) and restores the heap. */
  private removeTop(): void {
    const { key, tie, ids } = this;
    const last = --this.n;
    if (last === 0) return;
    const k = key[last]!;
    const b = tie[last]!;
    const id = ids[last]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && this.less(c + 1, c)) c++;
      const ck = key[c]!;
      if (ck > k || (ck === k && tie[c]! >= b)) break;
      this.copy(i, c);
      i = c;
    }
    this.set(i, k, b, id);
  }

  private grow(): void {
    const size = this.key.length * 2;
    for (const name of ['key', 'tie'] as const) {
      const next = new Float64Array(size);
      next.set(this[name]);
      this[name] = next;
    }
    const ids = new Int32Array(size);
    ids.set(this.ids);
    this.ids = ids;
  }
}

