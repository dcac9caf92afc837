// Quick lists for the physical memory allocator (kernel/alloc.ts): a bounded cache of freed small blocks, kept
// whole and unmerged, one stack per exact size, so that the next allocation of that size takes one back in O(1)
// without searching, splitting or touching any list of the TLSF. docs/memory.md has the long version.
//
// What is cached. A block of at most QUICK_MAX granules, while its size's stack holds fewer than QUICK_DEPTH
// blocks and the cache would stay within `share` of the live granules. The allocator asks through push() and
// merges the block as usual when it is refused.
//
// What the cache knows. Only granule addresses and sizes: a stack holds the start granules of its blocks, and a
// block's size is the stack it is on. The allocator keeps every other fact about a cached block (its record, its
// directory entry), and treats it as live in every neighbour test, so a cached block is never merged by accident.
//
// Bounds. push, pop and the cached total are O(1); largest() is O(QUICK_MAX / 32) bitmap words. Space: one int32
// per slot, (QUICK_MAX + 1) * QUICK_DEPTH of them (66 KiB), whatever the number of blocks.

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
  /** The stack of size s is slots [s << DEPTH_LOG2, (s << DEPTH_LOG2) + counts[s]): granule addresses, top last. */
  private declare readonly slots: Int32Array;
  private declare readonly nonEmpty: Int32Array;

  /** `share` must be in [0, 1] (the allocator checks its options). */
  constructor(share: number) {
    this.share = share;
    this.counts = new Int32Array(QUICK_MAX + 1);
    this.slots = new Int32Array((QUICK_MAX + 1) << DEPTH_LOG2);
    this.nonEmpty = new Int32Array(BITMAP_WORDS);
  }

  /** Caches the block of `size` granules at granule `g`, freed while `live` granules stay allocated, if its
   *  stack has room and the cache stays within its share; returns false (and caches nothing) otherwise. */
  push(g: number, size: number, live: number): boolean {
    if (size > QUICK_MAX) return false;
    const n = this.counts[size]!;
    const cached = this.cached + size;
    if (n === QUICK_DEPTH || cached > live * this.share) return false;
    this.slots[(size << DEPTH_LOG2) | n] = g;
    this.counts[size] = n + 1;
    this.cached = cached;
    if (n === 0) this.nonEmpty[size >>> 5] = this.nonEmpty[size >>> 5]! | (1 << (size & 31));
    return true;
  }

  /** Takes the block of `size` granules cached last off the cache and returns its granule address, or -1. */
  pop(size: number): number {
    if (size > QUICK_MAX) return -1;
    const n = this.counts[size]! - 1;
    if (n < 0) return -1;
    this.counts[size] = n;
    this.cached -= size;
    if (n === 0) this.nonEmpty[size >>> 5] = this.nonEmpty[size >>> 5]! & ~(1 << (size & 31));
    return this.slots[(size << DEPTH_LOG2) | n]!;
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

  /** Calls `each(g, size)` for every cached block, without taking it off (for the allocator's check()). */
  forEach(each: (g: number, size: number) => void): void {
    for (let size = 1; size <= QUICK_MAX; size++) {
      for (let i = 0; i < this.counts[size]!; i++) each(this.slots[(size << DEPTH_LOG2) | i]!, size);
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
