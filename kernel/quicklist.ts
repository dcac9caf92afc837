// Quick lists for the physical memory allocator (kernel/alloc.ts): a bounded cache of freed small blocks, kept
// whole and unmerged, one stack per exact size, so that the next allocation of that size takes one back in O(1)
// without searching, splitting or touching any list of the TLSF. docs/memory.md has the long version.
//
// What is cached. A block of at most QUICK_MAX granules, while its size's stack holds fewer than QUICK_DEPTH
// blocks and the cache would stay within `share` of the live granules. The allocator asks through push() and
// merges the block as usual when it is refused.
//
// What the cache knows. A slot holds a block's start granule and its id, side by side, so that taking a block
// back reads nothing but the slot: no record, no directory entry (at 10,000 blocks either is a likely cache
// miss). A block's size is the stack it is on. The allocator keeps every other fact about a cached block (its
// record, its directory entry, its cached bit), and treats it as live in every neighbour test, so a cached block
// is never merged by accident.
//
// Bounds. push, pop and the cached total are O(1); largest() is O(QUICK_MAX / 32) bitmap words. Space: two int32s
// per slot, (QUICK_MAX + 1) * QUICK_DEPTH of them (132 KiB), whatever the number of blocks; only the top of each
// stack is touched, a few KiB.

/** Largest cached size, in granules (4 KiB at align 16): the benchmark's and most mappings' sizes. */
export const QUICK_MAX = 256;
const DEPTH_LOG2 = 6;
/** Most blocks a stack holds: past it, a block of that size is merged as usual. */
export const QUICK_DEPTH = 1 << DEPTH_LOG2;
/** One bit per size 0..QUICK_MAX: its stack is non-empty. */
const BITMAP_WORDS = (QUICK_MAX >>> 5) + 1;

export class QuickLists {
  /** Most granules the cache may hold, as a fraction of the live granules: 0 turns the cache off. */
  declare readonly share: number;
  /** Granules in cached blocks: the allocator counts them as free, and merges them when this is over its share. */
  cached = 0;
  /** Blocks on each size's stack. */
  private declare readonly counts: Int32Array;
  /** The stack of size s is slots [s << DEPTH_LOG2, (s << DEPTH_LOG2) + counts[s]), top last; slot k is a block's
   *  granule address at entries[k << 1] and its id at entries[(k << 1) | 1]. */
  private declare readonly entries: Int32Array;
  private declare readonly nonEmpty: Int32Array;

  /** `share` must be in [0, 1] (the allocator checks its options). */
  constructor(share: number) {
    this.share = share;
    this.counts = new Int32Array(QUICK_MAX + 1);
    this.entries = new Int32Array((QUICK_MAX + 1) << (DEPTH_LOG2 + 1));
    this.nonEmpty = new Int32Array(BITMAP_WORDS);
  }

  /** Caches block `id` of `size` granules at granule `g`, freed while `live` granules stay allocated, if its
   *  stack has room and the cache stays within its share; returns false (and caches nothing) otherwise. */
  push(g: number, id: number, size: number, live: number): boolean {
    if (size > QUICK_MAX) return false;
    const n = this.counts[size]!;
    const cached = this.cached + size;
    if (n === QUICK_DEPTH || cached > live * this.share) return false;
    const k = ((size << DEPTH_LOG2) | n) << 1;
    this.entries[k] = g;
    this.entries[k | 1] = id;
    this.counts[size] = n + 1;
    this.cached = cached;
    if (n === 0) this.nonEmpty[size >>> 5] = this.nonEmpty[size >>> 5]! | (1 << (size & 31));
    return true;
  }

  /** Takes the block of `size` granules cached last off the cache and returns its slot, for granuleAt and idAt
   *  (valid until the next push), or -1 if none is cached. */
  pop(size: number): number {
    if (size > QUICK_MAX) return -1;
    const n = this.counts[size]! - 1;
    if (n < 0) return -1;
    this.counts[size] = n;
    this.cached -= size;
    if (n === 0) this.nonEmpty[size >>> 5] = this.nonEmpty[size >>> 5]! & ~(1 << (size & 31));
    return (size << DEPTH_LOG2) | n;
  }

  /** The granule address of the block in `slot`. */
  granuleAt(slot: number): number {
    return this.entries[slot << 1]!;
  }

  /** The id of the block in `slot`. */
  idAt(slot: number): number {
    return this.entries[(slot << 1) | 1]!;
  }

  /** True while the cache holds more than its share of `live` granules: the allocator then merges some back. */
  overShare(live: number): boolean {
    return this.cached > live * this.share;
  }

  /** The largest size with a cached block, or 0 if the cache is empty. */
  largest(): number {
    for (let w = BITMAP_WORDS - 1; w >= 0; w--) {
      const bits = this.nonEmpty[w]!;
      if (bits !== 0) return (w << 5) + 31 - Math.clz32(bits);
    }
    return 0;
  }

  /** Calls `each(g, id, size)` for every cached block, without taking it off (for the allocator's check()). */
  forEach(each: (g: number, id: number, size: number) => void): void {
    for (let size = 1; size <= QUICK_MAX; size++) {
      for (let i = 0; i < this.counts[size]!; i++) {
        const slot = (size << DEPTH_LOG2) | i;
        each(this.granuleAt(slot), this.idAt(slot), size);
      }
    }
  }

  /** Throws a descriptive Error if the counts, the bitmap and the cached total disagree (for check()). */
  check(): void {
    let granules = 0;
    for (let size = 0; size <= QUICK_MAX; size++) {
      const n = this.counts[size]!;
      if (n < 0 || n > QUICK_DEPTH || (size === 0 && n !== 0)) throw new Error(`quick lists broken: ${n} blocks of ${size} granules`);
      if ((n !== 0) !== ((this.nonEmpty[size >>> 5]! & (1 << (size & 31))) !== 0)) {
        throw new Error(`quick lists broken: the bitmap bit of size ${size} disagrees with its ${n} blocks`);
      }
      granules += n * size;
    }
    if (granules !== this.cached) throw new Error(`quick lists broken: ${granules} granules on the stacks, ${this.cached} counted`);
  }
}
