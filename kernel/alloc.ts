// The simulated physical memory allocator: TLSF (Two-Level Segregated Fit, Masmano et al. 2004) over the address
// range [0, total). It hands out addresses and sizes only; the bytes of an allocation live in a buffer of its own,
// created by whoever asked, so nothing here touches memory contents. docs/memory.md has the long version.
//
// Algorithm. Every granule (align bytes) of [0, total) belongs to exactly one block, live or free, and blocks are
// linked in address order. Free blocks sit in one list per size class:
//   - below 32 granules every size has its own class (16 B steps up to 512 B at align 16); above, each range
//     [2^f, 2^(f+1)) is cut into 32 equal classes (16 B steps up to 1 KiB, 32 B up to 2 KiB, ... 3% wide).
//     A 32-bit bitmap per range marks its non-empty classes and one more marks the non-empty ranges, so
//     Math.clz32 finds the first non-empty class at or above any class in a few word operations.
//   - alloc rounds the size up to whole granules and searches from the first class whose every block fits (the
//     request's own class if the size is its lower bound, else the next: "good fit"), so it never inspects a
//     block. If that finds nothing, it tries the head of the request's own class. It carves the block it got at
//     the front: the rest stays free, and stays where it is in its list unless it dropped to a smaller class.
//   - free merges the block at once with a free left and a free right neighbour: no two free blocks touch. The
//     free neighbour absorbs the block, and stays where it is in its list unless it grew into a larger class.
//
// Quick lists (kernel/quicklist.ts) sit in front: free() of a block of at most 256 granules pushes it, unmerged,
// on the stack of its exact size, and alloc() pops a block of the exact size before it searches. The cache holds
// at most `cacheShare` of the live granules (so it never costs more than that share of footprint), each stack at
// most 64 blocks; a block it refuses is merged as above. A cached block is free memory to every caller: alloc
// merges the whole cache back and retries before it fails, and stats() and largestFree() merge it first.
//
// Metadata lives out of band (never charged to the simulated memory), in typed arrays. The hot paths create no
// objects (but when an array doubles) and keep one counter, the live granules, for the cache's share; stats()
// derives its figures from the lists. At 10,000 blocks the records no longer fit in a core's cache, so the layout
// counts cache lines:
//   - a record of int32s per block, indexed by block id: address, size, class, physical and list links. Ids are
//     recycled through a stack. Id 0 is a boundary block, never free, that closes the physical chain at both
//     ends (merging needs no test for an end of memory), and id 1 ends every free list (unlinking needs no test
//     for an end of a list).
//   - one bit per id, set while the block is free, in an array small enough to stay in cache: free tests both
//     neighbours there, and reads their records only to merge them.
//   - the head of each class's list in an array of its own. Only the blocks after a head keep a valid list
//     prev (a head's is stale), so taking a list's head writes nothing but the head array.
//   - one more bit per id, set while the block is cached: a cached block keeps its directory entry, so a second
//     free of it finds it there and is refused by this bit, and taking it back clears the bit and nothing else.
//   - a directory from granule to the id and size of the live or cached block that starts there (id 0: none),
//     so free and sizeOf find a block with one load, and caching a small block reads nothing else. It is paged by
//     2^20 granules; a page is created by the first allocation in its range and is zero-filled memory the host
//     commits only where it is written.
//
// Bounds.
//   time: alloc and free are O(1) whatever the number of blocks: two bitmap words, at most two merges and one
//     split, each a bounded number of list and link updates, one directory load or store; growing an array is
//     amortised O(1). A quick list push or pop is O(1); the one exception is an alloc that finds no block: it
//     merges every cached block back (O(cached blocks), at most 64 per size) before it fails. A free that leaves
//     the cache over its share merges cached blocks back, largest first: each cached block is merged at most once,
//     so that is amortised O(1). stats() is O(classes + free + cached blocks); check() is O(blocks + directory
//     pages in use).
//   space: 36 bytes per block id (as many ids as the peak number of blocks, live and free), 132 KiB of quick
//     list slots, and 8 bytes per granule of each 2^20-granule range a block was ever allocated in, committed by the
//     host only where written (at align 16, at most half the address range in use).
//   internal fragmentation: a block is the size rounded up to the alignment, so at most align - 1 bytes are lost
//     per block (15 B at the default 16); there is no header.
//   external fragmentation: with the cache merged (as stats() does), free space is in at most liveBlocks + 1
//     blocks, and freeing everything gives back one block of size total; cached blocks are at most cacheShare
//     of the live bytes. A request is served from the request's rounded class, at most ~6% larger than
//     the request, whenever that class has a block; else from the smallest larger class, even if a block of the
//     request's own class would have fitted (the price of never scanning a list). No allocator that never moves
//     blocks escapes adversarial fragmentation (Robson); stats().fragmentation measures it.
//   largestFree(): exact for alloc: alloc(n) succeeds if and only if n <= largestFree(). It merges the cache,
//     then reads the head of the highest non-empty class: within 3% of the largest free block, and equal to it
//     when that class holds one block (in particular when everything is free).

import { checkAllocator } from './alloccheck.js';
import { QuickLists } from './quicklist.js';

export const SL_LOG2 = 5;
/** Second-level classes per power-of-two range: one 32-bit bitmap word. */
const SL_COUNT = 1 << SL_LOG2;
const NIL = -1;
/** Sizes and addresses are kept in granules (units of the alignment) as int32: at most 2^31 - 1 of them. */
const MAX_GRANULES = 2 ** 31 - 1;
const MAX_ALIGN = 2 ** 20;
const DEFAULT_CACHE_SHARE = 0.25;
/** A multiple of 32: the free bits are whole int32 words. */
const INITIAL_IDS = 256;

/** Closes the physical chain at both ends; never free. As a directory entry: no block starts here. */
export const BOUNDARY = 0;
/** Ends every free list: an empty class's head, and a record that takes the list-prev writes aimed at it. */
export const END = 1;
const FIRST_BLOCK = 2;

// A block's record: eight consecutive int32s at id * 8, one cache line per block. Fields are addressed as
// (id << STRIDE_LOG2) | FIELD: an or of a field below the stride cannot overflow, so the JIT emits no check for it.
export const ADDR = 0;
export const SIZE = 1;
export const PHYS_PREV = 2;
export const PHYS_NEXT = 3;
/** Valid only while the block is free and not the head of its list. */
export const FREE_PREV = 4;
export const FREE_NEXT = 5;
/** Valid only while the block is free. */
export const CLASS = 6;
export const STRIDE_LOG2 = 3;

/** Directory pages: 2^20 granules, an id and a size each: 8 MiB of int32, of which the host commits only what is
 *  written. An id's slot is (granule & PAGE_MASK) << 1, its size's the next one. */
export const PAGE_LOG2 = 20;
export const PAGE_MASK = (1 << PAGE_LOG2) - 1;

/** The most memory an allocator with this alignment can manage (sizes are kept as int32 granules). */
export function maxTotal(align = 16): number {
  return MAX_GRANULES * align;
}

export interface AllocatorOptions {
  /** Alignment of every address and granularity of every size: a power of two, default 16. */
  align?: number;
  /** Most memory the quick lists may hold back unmerged, as a fraction of the live bytes, from 0 (no quick
   *  lists: every free merges at once) to 1; default 1/4. */
  cacheShare?: number;
}

export interface SizeClassStat {
  readonly min: number;
  readonly max: number;
  readonly freeBlocks: number;
  readonly freeBytes: number;
}

export interface AllocStats {
  /** Bytes managed; used + free === total. */
  readonly total: number;
  readonly used: number;
  readonly free: number;
  readonly largestFree: number;
  /** 1 - largestFree / free, or 0 when nothing is free. */
  readonly fragmentation: number;
  readonly liveBlocks: number;
  readonly freeBlocks: number;
  /** Every class a block can fall in, by increasing size. */
  readonly classes: readonly SizeClassStat[];
}

// The helpers below are const arrow functions, not function declarations: a module's function declaration is a
// mutable binding, which optimized code re-checks at every call; a const binding is folded into the caller.

/** Index of the lowest set bit of a non-zero int32. */
const ctz = (bits: number): number => 31 - Math.clz32(bits & -bits);

/**
 * The class of a block of `g` granules: g itself below SL_COUNT, then SL_COUNT classes per power of two. Without
 * a branch: `s`, the bits below the second-level index, is 0 for every g below 2 * SL_COUNT, which makes the two
 * cases one formula. Also right for a g of 2^31 or more passed as a wrapped int32 (its class is past the last).
 */
export const classOf = (g: number): number => {
  const s = 26 - Math.clz32(g | SL_COUNT);
  return (s << SL_LOG2) + (g >>> s);
};

/** The lowest class whose every block holds `g` granules: a size's own class unless it is inside it. */
const searchClassOf = (g: number): number =>
  // `| 0` wraps a sum past 2^31 - 1 rather than leaving int32 arithmetic; classOf reads it back unsigned.
  classOf((g + (1 << (26 - Math.clz32(g | SL_COUNT))) - 1) | 0);

/** The smallest size in granules that falls in class `c`. */
const classLow = (c: number): number => {
  const fl = c >>> SL_LOG2;
  const sl = c & (SL_COUNT - 1);
  return fl === 0 ? sl : 2 ** (fl - 1) * (SL_COUNT + sl);
};

export class Allocator {
  // Fields set in the constructor are `declare`d: a class field without an initialiser would first be defined as
  // undefined, and V8 would then type it as a value of whatever kind and check every hot-path load of it.

  /** Bytes managed: the size given, rounded down to the alignment (the tail could never be handed out). */
  declare readonly total: number;
  declare readonly align: number;
  /** 1 / align: exact, as align is a power of two, and a multiplication is cheaper than a division. */
  private declare readonly perByte: number;
  private declare readonly granules: number;
  private declare readonly flCount: number;
  private declare readonly classes: number;

  /** Bit sl of slMap[fl]: class (fl, sl) is non-empty. Bit fl of flMap: slMap[fl] is not 0. */
  private declare readonly slMap: Int32Array;
  private flMap = 0;
  /** Per class, the first block of its list, or END. */
  private declare readonly heads: Int32Array;

  private declare rec: Int32Array;
  /** Bit id & 31 of word id >>> 5: block id is free (in a free list, merged). */
  private declare freeBits: Int32Array;
  /** Likewise: block id is freed but held unmerged by a quick list. */
  private declare cachedBits: Int32Array;
  private declare spareIds: Int32Array;
  private spareCount = 0;

  /** Directory pages by granule >>> PAGE_LOG2; `absent` (all zero, never written) until a block starts there. */
  private declare readonly pages: Int32Array[];
  private declare readonly absent: Int32Array;

  private declare readonly quick: QuickLists;
  /** Granules in live blocks (cached ones excluded): what the cache's share is of. */
  private liveGranules = 0;

  /** Throws RangeError for an alignment that is not a power of two up to 2^20, a total that is not a whole
   *  number from align to (2^31 - 1) * align (32 GiB at align 16), or a cache share outside [0, 1]: kernel
   *  configuration, checked at boot. */
  constructor(total: number, opts: AllocatorOptions = {}) {
    const align = opts.align ?? 16;
    if (!Number.isInteger(align) || align < 1 || align > MAX_ALIGN || (align & (align - 1)) !== 0) {
      throw new RangeError(`allocator: align must be a power of two from 1 to ${MAX_ALIGN}, got ${String(align)}`);
    }
    if (!Number.isInteger(total) || total < align || total / align >= MAX_GRANULES + 1) {
      throw new RangeError(`allocator: total must be a whole number of bytes from ${align} to ${MAX_GRANULES} * ${align}, got ${String(total)}`);
    }
    const share = opts.cacheShare ?? DEFAULT_CACHE_SHARE;
    if (!(share >= 0 && share <= 1)) throw new RangeError(`allocator: cacheShare must be from 0 to 1, got ${String(share)}`);
    this.quick = new QuickLists(share);
    this.align = align;
    this.perByte = 1 / align;
    this.granules = Math.floor(total / align);
    this.total = this.granules * align;
    this.flCount = (classOf(this.granules) >>> SL_LOG2) + 1;
    this.classes = this.flCount * SL_COUNT;
    this.slMap = new Int32Array(this.flCount);
    this.heads = new Int32Array(this.classes).fill(END);
    this.rec = new Int32Array(INITIAL_IDS << STRIDE_LOG2);
    this.freeBits = new Int32Array(INITIAL_IDS >>> 5);
    this.cachedBits = new Int32Array(INITIAL_IDS >>> 5);
    this.spareIds = new Int32Array(INITIAL_IDS);
    for (let id = INITIAL_IDS - 1; id > FIRST_BLOCK; id--) this.spareIds[this.spareCount++] = id;
    this.absent = new Int32Array(this.pageLength(0) << 1);
    // Array.from, not new Array(n).fill: a packed array, so loads from it need no hole check.
    this.pages = Array.from({ length: ((this.granules - 1) >>> PAGE_LOG2) + 1 }, () => this.absent);
    // The first block is all of memory, between the boundary's two ends.
    this.rec[(BOUNDARY << STRIDE_LOG2) | ADDR] = this.granules;
    this.rec[(BOUNDARY << STRIDE_LOG2) | PHYS_PREV] = FIRST_BLOCK;
    this.rec[(BOUNDARY << STRIDE_LOG2) | PHYS_NEXT] = FIRST_BLOCK;
    this.rec[(FIRST_BLOCK << STRIDE_LOG2) | SIZE] = this.granules;
    this.push(FIRST_BLOCK, classOf(this.granules));
  }

  /** Returns the address of a block of at least `size` bytes (rounded up to the alignment), or -1 if none fits
   *  (with every cached block merged back) or the size is not a whole number in [1, total]. Succeeds whenever
   *  size <= largestFree(). */
  alloc(size: number): number {
    if (!(size > 0 && size <= this.total) || !Number.isInteger(size)) return NIL;
    const need = Math.ceil(size * this.perByte) | 0; // at most granules: an int32
    const slot = this.quick.pop(need);
    if (slot !== NIL) {
      // Its record and its directory entry were kept: it only has to lose its cached bit.
      const b = this.quick.idAt(slot);
      this.cachedBits[b >>> 5] = this.cachedBits[b >>> 5]! & ~(1 << (b & 31));
      this.liveGranules += need;
      return this.quick.granuleAt(slot) * this.align;
    }
    return this.carve(need);
  }

  /** The TLSF's alloc of `need` granules: a block from the free lists, carved at the front. A method apart from
   *  alloc, so that alloc is small enough for V8 to inline its quick list path into a caller's loop. */
  private carve(need: number): number {
    let c = this.firstFit(need);
    if (c === NIL) {
      // The cache must never make an allocation fail: merge it back and search once more.
      if (this.quick.cached === 0) return NIL;
      this.drain();
      c = this.firstFit(need);
      if (c === NIL) return NIL;
    }
    const b = this.heads[c]!;
    let rec = this.rec;
    const o = b << STRIDE_LOG2;
    const rest = rec[o | SIZE]! - need;
    let live = b;
    if (rest === 0) {
      this.popHead(b, c);
      this.freeBits[b >>> 5] = this.freeBits[b >>> 5]! & ~(1 << (b & 31));
    } else {
      // Carve at the front: b keeps the rest, and its place unless the rest belongs to a smaller class.
      if (this.spareCount === 0) rec = this.growIds();
      live = this.spareIds[--this.spareCount]!;
      const ol = live << STRIDE_LOG2;
      const prev = rec[o | PHYS_PREV]!;
      const addr = rec[o | ADDR]!;
      rec[ol | ADDR] = addr;
      rec[ol | SIZE] = need;
      rec[ol | PHYS_PREV] = prev;
      rec[ol | PHYS_NEXT] = b;
      rec[(prev << STRIDE_LOG2) | PHYS_NEXT] = live;
      rec[o | ADDR] = addr + need;
      rec[o | SIZE] = rest;
      rec[o | PHYS_PREV] = live;
      const rc = classOf(rest);
      if (rc !== c) {
        this.popHead(b, c);
        this.push(b, rc);
      }
    }
    const g = rec[(live << STRIDE_LOG2) | ADDR]!;
    let page = this.pages[g >>> PAGE_LOG2]!;
    if (page === this.absent) page = this.pages[g >>> PAGE_LOG2] = new Int32Array(this.pageLength(g) << 1);
    const i = (g & PAGE_MASK) << 1;
    page[i] = live;
    page[i | 1] = need;
    this.liveGranules += need;
    return g * this.align;
  }

  /** Frees a block returned by alloc; returns false (and changes nothing) for an address that is not a live block,
   *  a block already freed (cached or merged) included. */
  free(addr: number): boolean {
    const g = this.granuleOf(addr);
    if (g === NIL) return false;
    const page = this.pages[g >>> PAGE_LOG2]!;
    const i = (g & PAGE_MASK) << 1;
    const b = page[i]!;
    if (b === BOUNDARY) return false;
    const word = this.cachedBits[b >>> 5]!;
    if (((word >>> (b & 31)) & 1) !== 0) return false; // already freed, to a quick list
    const size = page[i | 1]!;
    const live = this.liveGranules - size;
    this.liveGranules = live;
    if (this.quick.push(g, b, size, live)) {
      this.cachedBits[b >>> 5] = word | (1 << (b & 31));
      return true;
    }
    page[i] = BOUNDARY;
    this.merge(b, g, size);
    // Fewer live granules lower the cache's share: give back what is over it.
    if (this.quick.overShare(live)) this.trim(live);
    return true;
  }

  /** The usable size of a live block (its rounded size), or -1. */
  sizeOf(addr: number): number {
    const g = this.granuleOf(addr);
    if (g === NIL) return NIL;
    const page = this.pages[g >>> PAGE_LOG2]!;
    const i = (g & PAGE_MASK) << 1;
    const b = page[i]!;
    return b === BOUNDARY || ((this.cachedBits[b >>> 5]! >>> (b & 31)) & 1) !== 0 ? NIL : page[i | 1]! * this.align;
  }

  /** Bytes in freed blocks the quick lists hold unmerged: free memory, at most cacheShare of the live bytes. */
  get cachedBytes(): number {
    return this.quick.cached * this.align;
  }

  /** Largest size alloc could satisfy right now: alloc(n) succeeds if and only if 1 <= n <= largestFree().
   *  Merges the cached blocks first, so that the answer is exact. */
  largestFree(): number {
    if (this.quick.cached !== 0) this.drain();
    if (this.flMap === 0) return 0;
    const fl = 31 - Math.clz32(this.flMap);
    const c = (fl << SL_LOG2) + 31 - Math.clz32(this.slMap[fl]!);
    return this.rec[(this.heads[c]! << STRIDE_LOG2) | SIZE]! * this.align;
  }

  /** O(classes + free and cached blocks): merges the cached blocks, then takes every figure from the lists, so the
   *  hot paths keep no counters for it. */
  stats(): AllocStats {
    if (this.quick.cached !== 0) this.drain();
    const classes: SizeClassStat[] = [];
    const limit = this.idsInUse();
    let freeBlocks = 0;
    let freeGranules = 0;
    for (let c = 1; c < this.classes && classLow(c) <= this.granules; c++) {
      let blocks = 0;
      let granules = 0;
      for (let b = this.heads[c]!; b !== END; b = this.rec[(b << STRIDE_LOG2) | FREE_NEXT]!) {
        // A cycle would make this loop forever: report it as the broken invariant it is.
        if (++blocks > limit) throw new Error(`allocator invariant broken: class ${c} lists more blocks than are in use`);
        granules += this.rec[(b << STRIDE_LOG2) | SIZE]!;
      }
      freeBlocks += blocks;
      freeGranules += granules;
      classes.push({
        min: classLow(c) * this.align,
        max: Math.min(classLow(c + 1) - 1, this.granules) * this.align,
        freeBlocks: blocks,
        freeBytes: granules * this.align,
      });
    }
    const free = freeGranules * this.align;
    const largestFree = this.largestFree();
    return {
      total: this.total, used: this.total - free, free, largestFree,
      fragmentation: free === 0 ? 0 : 1 - largestFree / free,
      liveBlocks: limit - freeBlocks, freeBlocks, classes,
    };
  }

  /** Walks every block, list, bitmap and directory page; throws a descriptive Error at the first broken invariant
   *  (kernel/alloccheck.ts). */
  check(): void {
    checkAllocator({
      total: this.total, align: this.align, granules: this.granules, flCount: this.flCount, classes: this.classes,
      slMap: this.slMap, flMap: this.flMap, heads: this.heads, rec: this.rec, freeBits: this.freeBits,
      cachedBits: this.cachedBits, spare: this.spareIds.subarray(0, this.spareCount), idsInUse: this.idsInUse(),
      pages: this.pages, absent: this.absent, quick: this.quick, liveGranules: this.liveGranules,
    });
  }

  /** Merges block b (of `size` granules at granule g, already out of the directory) with its free neighbours and
   *  files the result: the eager free. */
  private merge(b: number, g: number, size: number): void {
    const rec = this.rec;
    const o = b << STRIDE_LOG2;
    const left = rec[o | PHYS_PREV]!;
    const right = rec[o | PHYS_NEXT]!;
    const rightFree = (this.freeBits[right >>> 5]! >>> (right & 31)) & 1;
    if (((this.freeBits[left >>> 5]! >>> (left & 31)) & 1) !== 0) {
      // The left neighbour absorbs b, and the right one too if it is free.
      const ol = left << STRIDE_LOG2;
      let merged = rec[ol | SIZE]! + size;
      let after = right;
      if (rightFree !== 0) {
        merged += rec[(right << STRIDE_LOG2) | SIZE]!;
        after = rec[(right << STRIDE_LOG2) | PHYS_NEXT]!;
        this.unlink(right);
        this.recycle(right);
      }
      rec[ol | SIZE] = merged;
      rec[ol | PHYS_NEXT] = after;
      rec[(after << STRIDE_LOG2) | PHYS_PREV] = left;
      this.spareIds[this.spareCount++] = b;
      this.refile(left, merged);
    } else if (rightFree !== 0) {
      // The right neighbour absorbs b: it starts where b did.
      const or = right << STRIDE_LOG2;
      const merged = rec[or | SIZE]! + size;
      rec[or | ADDR] = g;
      rec[or | SIZE] = merged;
      rec[or | PHYS_PREV] = left;
      rec[(left << STRIDE_LOG2) | PHYS_NEXT] = right;
      this.spareIds[this.spareCount++] = b;
      this.refile(right, merged);
    } else {
      this.push(b, classOf(size));
    }
  }

  // ---- quick lists

  /** Merges the cached block of `size` granules in quick list slot `slot`, just taken off its stack. */
  private release(slot: number, size: number): void {
    const g = this.quick.granuleAt(slot);
    const b = this.quick.idAt(slot);
    this.pages[g >>> PAGE_LOG2]![(g & PAGE_MASK) << 1] = BOUNDARY;
    this.cachedBits[b >>> 5] = this.cachedBits[b >>> 5]! & ~(1 << (b & 31));
    this.merge(b, g, size);
  }

  /** Merges cached blocks, largest first (the fewest merges for the granules), until the cache is within its share
   *  of `live` granules. */
  private trim(live: number): void {
    while (this.quick.overShare(live)) {
      const size = this.quick.largest();
      this.release(this.quick.pop(size), size);
    }
  }

  /** Merges every cached block: afterwards the free lists hold all free memory, coalesced. */
  private drain(): void {
    for (let size = this.quick.largest(); size !== 0; size = this.quick.largest()) {
      for (let slot = this.quick.pop(size); slot !== NIL; slot = this.quick.pop(size)) this.release(slot, size);
    }
  }

  /** The granule at byte address `addr`, or NIL for an address that is not a granule of [0, total). */
  private granuleOf(addr: number): number {
    const g = addr * this.perByte;
    // Rejects NaN, out of range and (through the int32 round trip, exact below 2^31) fractional granules.
    return g >= 0 && g < this.granules && (g | 0) === g ? g : NIL;
  }

  /** A non-empty class whose head holds `need` granules, or NIL. */
  private firstFit(need: number): number {
    const c = searchClassOf(need);
    let fl = c >>> SL_LOG2;
    if (fl < this.flCount) {
      let bits = this.slMap[fl]! & (-1 << (c & 31));
      if (bits === 0) {
        // fl + 1 <= 27: the shift never wraps.
        const above = this.flMap & (-2 << fl);
        if (above !== 0) {
          fl = ctz(above);
          bits = this.slMap[fl]!;
        }
      }
      if (bits !== 0) return (fl << SL_LOG2) + ctz(bits); // every block there fits
    }
    // Only the request's own class is left, whose head may be large enough.
    const own = classOf(need);
    if (own >= this.classes) return NIL;
    const head = this.heads[own]!;
    return head !== END && this.rec[(head << STRIDE_LOG2) | SIZE]! >= need ? own : NIL;
  }

  // ---- free lists

  /** Files free block b at the head of class c (LIFO: the block freed last is reused first). */
  private push(b: number, c: number): void {
    const rec = this.rec;
    const head = this.heads[c]!;
    rec[(b << STRIDE_LOG2) | FREE_NEXT] = head;
    rec[(b << STRIDE_LOG2) | CLASS] = c;
    rec[(head << STRIDE_LOG2) | FREE_PREV] = b; // the old head is no longer one; END takes the write if none
    this.heads[c] = b;
    this.freeBits[b >>> 5] = this.freeBits[b >>> 5]! | (1 << (b & 31));
    if (head === END) {
      const fl = c >>> SL_LOG2;
      this.slMap[fl] = this.slMap[fl]! | (1 << (c & 31));
      this.flMap |= 1 << fl;
    }
  }

  /** Takes b, the head of class c, off its list; the caller gives it its next state. */
  private popHead(b: number, c: number): void {
    const next = this.rec[(b << STRIDE_LOG2) | FREE_NEXT]!;
    this.heads[c] = next;
    if (next === END) {
      const fl = c >>> SL_LOG2;
      const bits = this.slMap[fl]! & ~(1 << (c & 31));
      this.slMap[fl] = bits;
      if (bits === 0) this.flMap &= ~(1 << fl);
    }
  }

  /** Takes free block b off its list, wherever it is. */
  private unlink(b: number): void {
    const rec = this.rec;
    const c = rec[(b << STRIDE_LOG2) | CLASS]!;
    if (this.heads[c] === b) {
      this.popHead(b, c);
      return;
    }
    const prev = rec[(b << STRIDE_LOG2) | FREE_PREV]!;
    const next = rec[(b << STRIDE_LOG2) | FREE_NEXT]!;
    rec[(prev << STRIDE_LOG2) | FREE_NEXT] = next;
    rec[(next << STRIDE_LOG2) | FREE_PREV] = prev;
  }

  /** Moves free block b, just grown to `size` granules by a merge, to its new class if it has one. */
  private refile(b: number, size: number): void {
    const c = classOf(size);
    if (c === this.rec[(b << STRIDE_LOG2) | CLASS]) return;
    this.unlink(b);
    this.push(b, c);
  }

  // ---- ids

  /** Returns a free block merged away to the spare ids. */
  private recycle(b: number): void {
    this.freeBits[b >>> 5] = this.freeBits[b >>> 5]! & ~(1 << (b & 31));
    this.spareIds[this.spareCount++] = b;
  }

  /** Doubles the id arrays, all new ids spare, and returns the new record array. */
  private growIds(): Int32Array {
    const old = this.spareIds.length;
    const rec = new Int32Array((old * 2) << STRIDE_LOG2);
    rec.set(this.rec);
    this.rec = rec;
    const freeBits = new Int32Array((old * 2) >>> 5);
    freeBits.set(this.freeBits);
    this.freeBits = freeBits;
    const cachedBits = new Int32Array((old * 2) >>> 5);
    cachedBits.set(this.cachedBits);
    this.cachedBits = cachedBits;
    this.spareIds = new Int32Array(old * 2);
    this.spareCount = 0;
    for (let id = old * 2 - 1; id >= old; id--) this.spareIds[this.spareCount++] = id;
    return rec;
  }

  /** Live and free blocks: every id but the boundary, END and the spare ones. */
  private idsInUse(): number {
    return this.spareIds.length - FIRST_BLOCK - this.spareCount;
  }

  /** Granules in the directory page holding granule g: 2^20, less for the last page. */
  private pageLength(g: number): number {
    return Math.min(PAGE_MASK + 1, this.granules - ((g >>> PAGE_LOG2) << PAGE_LOG2));
  }
}
