// The CFS runqueue (and the SCHED_IDLE one): a binary min-heap of tasks keyed by (vruntime, tie-break), used by
// the scheduler (sched.ts).

const INITIAL_CAPACITY = 64;
/** A local const, unlike the global `Infinity`, is folded into the code as a double. */
const NONE = Infinity;
/** Stale entries tolerated before a rebuild is considered (see `remove`). */
const STALE_SLACK = 32;

/**
 * A binary min-heap of tasks by (vruntime, tie), each task named by its entity id (a dense index, see sched.ts).
 * The heap proper is three typed arrays: `key` (the vruntime), `tie` and `idAt` (whose entry it is). A sift moves
 * those three numbers per level and touches nothing else: no task, and no per-task array, so at 100,000 tasks a
 * level costs a few cache lines, not a pointer chase. The tie sits beside the key, not with the task, because
 * equal vruntimes are common (under a virtual clock above all). The key and tie are copies taken at push; they
 * cannot go stale because a queued task is never charged (only a running one is), and a task whose policy
 * changes is removed first.
 * Per entity id: `taskOf`, the task while it is queued here, to hand back from `pop`.
 * Removal from the middle (a process killed, or its policy changed, while queued) is lazy, so that no sift has to
 * keep per-task positions up to date: it clears `taskOf[id]`, and the entry, now stale, is dropped when it
 * reaches the top. While any entry is stale, the root is checked before use: it is live if its id is queued here
 * and `queuedWith` (the caller's own record of each queued id's key and tie) confirms the entry's key and tie.
 * An id removed and queued again with the same key and tie leaves two identical entries, and either may serve.
 * When stale entries outnumber live ones the heap is rebuilt without them, so it never holds much more than twice
 * the live set. Nothing per id is written on push but the task: at 100,000 tasks that would be one more cache
 * miss per step, for a check that only removals need.
 */
export class VruntimeHeap<T> {
  /** Entries, stale ones included. */
  private n = 0;
  private key = new Float64Array(INITIAL_CAPACITY);
  private tie = new Float64Array(INITIAL_CAPACITY);
  private idAt = new Int32Array(INITIAL_CAPACITY);
  /** Per entity id: its task while it is queued here. */
  private taskOf: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  private live = 0;
  private stale = 0;
  /** The entity id and key of the task the last successful `pop` returned. */
  poppedId = -1;
  poppedKey = 0;

  constructor(
    /** Whether entity `id` is queued with this key and tie, by the caller's own record (see above). */
    private readonly queuedWith: (id: number, key: number, tie: number) => boolean,
  ) {}

  get size(): number {
    return this.live;
  }

  /** Whether entity `id` is queued here. */
  has(id: number): boolean {
    return id < this.taskOf.length && this.taskOf[id] !== undefined;
  }

  /** Queued tasks, in no particular order, each once (two identical entries name the same task). */
  tasks(): T[] {
    const seen = new Set<number>();
    for (let i = 0; i < this.n; i++) if (this.isLive(i)) seen.add(this.idAt[i]!);
    return [...seen].map((id) => this.taskOf[id]!);
  }

  /** The least key queued, or Infinity when empty. Reads no task. */
  minKey(): number {
    if (this.stale > 0) this.dropStale();
    return this.n > 0 ? this.key[0]! : NONE;
  }

  peek(): T | undefined {
    if (this.stale > 0) this.dropStale();
    return this.n > 0 ? this.taskOf[this.idAt[0]!] : undefined;
  }

  /** The runner-up's key after the root's (for explaining a pick), or null. */
  secondKey(): number | null {
    if (this.stale > 0) this.dropStale();
    if (this.n < 2) return null;
    // The runner-up is a child of the root, unless a child is stale (or the root's twin): then it may be anywhere
    // (rare: only after removals), and every entry is looked at.
    const limit = this.usable(1) && (this.n < 3 || this.usable(2)) ? Math.min(this.n, 3) : this.n;
    let best = -1;
    for (let i = 1; i < limit; i++) if (this.usable(i) && (best < 0 || this.before(i, best))) best = i;
    return best < 0 ? null : this.key[best]!;
  }

  /** Entry i (below the root) can be the runner-up: live, and not an identical twin of the root. */
  private usable(i: number): boolean {
    return this.idAt[i] !== this.idAt[0] && (this.stale === 0 || this.isLive(i));
  }

  /** Queues task t, whose entity id is `id`, by (key, tie). Throws if it is queued here already (a scheduler bug). */
  push(t: T, id: number, key: number, tie: number): void {
    if (id >= this.taskOf.length) this.growIds(id);
    if (this.taskOf[id] !== undefined) throw new Error(`runqueue: entity ${id} is queued twice`);
    if (this.n === this.idAt.length) this.growHeap();
    this.taskOf[id] = t;
    this.live++;
    this.siftUp(this.n++, key, tie, id);
  }

  /** Removes and returns the task with the least (key, tie), setting `poppedId` and `poppedKey`. */
  pop(): T | undefined {
    if (this.stale > 0) this.dropStale();
    if (this.n === 0) return undefined;
    const id = this.idAt[0]!;
    this.poppedId = id;
    this.poppedKey = this.key[0]!;
    const t = this.taskOf[id];
    this.taskOf[id] = undefined;
    this.live--;
    this.removeTop();
    return t;
  }

  /** Takes entity `id`'s task out of the heap. Throws if it is not queued here (a scheduler bug). */
  remove(id: number): void {
    if (!this.has(id)) throw new Error(`runqueue: entity ${id} is not queued here`);
    this.taskOf[id] = undefined; // its entry is now stale
    this.live--;
    // A stale entry deep in the heap may never reach the top: compact before they pile up.
    if (++this.stale > STALE_SLACK && this.stale > this.live) this.rebuild();
  }

  /** Entry i is live: its id is queued here, with this entry's key and tie. */
  private isLive(i: number): boolean {
    const id = this.idAt[i]!;
    return this.taskOf[id] !== undefined && this.queuedWith(id, this.key[i]!, this.tie[i]!);
  }

  /** Entry i goes before entry j. */
  private before(i: number, j: number): boolean {
    const ki = this.key[i]!;
    const kj = this.key[j]!;
    return ki < kj || (ki === kj && this.tie[i]! < this.tie[j]!);
  }

  private dropStale(): void {
    while (this.n > 0 && !this.isLive(0)) {
      this.removeTop();
      this.stale--;
    }
  }

  /** Removes the root entry (live or stale): the last entry sinks from the root. */
  private removeTop(): void {
    const last = --this.n;
    if (last > 0) this.sink(0, this.key[last]!, this.tie[last]!, this.idAt[last]!);
  }

  /** Places (k, b, id) at hole i or above it. */
  private siftUp(i: number, k: number, b: number, id: number): void {
    const { key, tie, idAt } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = key[parent]!;
      if (pk < k || (pk === k && tie[parent]! <= b)) break;
      key[i] = pk;
      tie[i] = tie[parent]!;
      idAt[i] = idAt[parent]!;
      i = parent;
    }
    key[i] = k;
    tie[i] = b;
    idAt[i] = id;
  }

  /** Places (k, b, id) at hole i or below it. */
  private sink(i: number, k: number, b: number, id: number): void {
    const { key, tie, idAt, n } = this;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ck = key[c]!;
      let cb = tie[c]!;
      if (c + 1 < n) {
        const dk = key[c + 1]!;
        if (dk < ck || (dk === ck && tie[c + 1]! < cb)) {
          c++;
          ck = dk;
          cb = tie[c]!;
        }
      }
      if (ck > k || (ck === k && cb >= b)) break;
      key[i] = ck;
      tie[i] = cb;
      idAt[i] = idAt[c]!;
      i = c;
    }
    key[i] = k;
    tie[i] = b;
    idAt[i] = id;
  }

  /** Rebuilds the heap from its live entries only, one per id (of two identical entries, the first is kept). */
  private rebuild(): void {
    const { key, tie, idAt } = this;
    const kept = new Set<number>();
    for (let i = 0; i < this.n; i++) {
      const id = idAt[i]!;
      if (kept.has(id) || !this.isLive(i)) continue;
      key[kept.size] = key[i]!;
      tie[kept.size] = tie[i]!;
      idAt[kept.size] = id;
      kept.add(id);
    }
    this.n = kept.size;
    this.stale = 0;
    // Floyd's heapify: sink every internal node, last first.
    for (let i = (this.n - 2) >> 1; i >= 0; i--) this.sink(i, key[i]!, tie[i]!, idAt[i]!);
  }

  private growHeap(): void {
    const size = this.idAt.length * 2;
    const key = new Float64Array(size);
    key.set(this.key);
    this.key = key;
    const tie = new Float64Array(size);
    tie.set(this.tie);
    this.tie = tie;
    const idAt = new Int32Array(size);
    idAt.set(this.idAt);
    this.idAt = idAt;
  }

  private growIds(id: number): void {
    let size = this.taskOf.length * 2;
    while (size <= id) size *= 2;
    const taskOf = new Array<T | undefined>(size).fill(undefined);
    for (let i = 0; i < this.taskOf.length; i++) taskOf[i] = this.taskOf[i];
    this.taskOf = taskOf;
  }
}
