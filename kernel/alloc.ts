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
//   - free merges the block at once with a free left and a free right neighbour: no two free blocks touch.
// Metadata lives out of band (never charged to the simulated memory): one int32 record per block in a typed
// array, with ids recycled through a stack, and a hash table from a live block's address to its id (linear
// probing, load <= 1/2, backward-shift deletion). alloc and free create no objects; the record array and the
// table grow by doubling.
//
// Bounds.
//   time: alloc and free are O(1) whatever the number of blocks: two bitmap words, a bounded number of list and
//     link updates and one expected-O(1) hash probe; growth is amortised O(1). stats() is O(classes + free
//     blocks); check() is O(blocks + table).
//   internal fragmentation: a block is the size rounded up to the alignment, so at most align - 1 bytes are lost
//     per block (15 B at the default 16); there is no header.
//   external fragmentation: free space is in at most liveBlocks + 1 blocks, and freeing everything gives back
//     one block of size total. A request is served from the request's rounded class, at most ~6% larger than
//     the request, whenever that class has a block; else from the smallest larger class, even if a block of the
//     request's own class would have fitted (the price of never scanning a list). No allocator that never moves
//     blocks escapes adversarial fragmentation (Robson); stats().fragmentation measures it.
//   largestFree(): exact for alloc: alloc(n) succeeds if and only if n <= largestFree(). It is the head of the
//     highest non-empty class: within 3% of the largest free block, and equal to it when that class holds one
//     block (in particular when everything is free).

import { AddressTable } from './addrtable.js';

const SL_LOG2 = 5;
/** Second-level classes per power-of-two range: one 32-bit bitmap word. */
const SL_COUNT = 1 << SL_LOG2;
const NIL = -1;
/** Sizes and addresses are kept in granules (units of the alignment) as int32: at most 2^31 - 1 of them. */
const MAX_GRANULES = 2 ** 31 - 1;
const MAX_ALIGN = 2 ** 20;
const INITIAL_IDS = 256;

// A block's record: STRIDE consecutive int32s at id * STRIDE, so one block costs one or two cache lines to touch
// rather than one per field.
const ADDR = 0;
const SIZE = 1;
const PHYS_PREV = 2;
const PHYS_NEXT = 3;
const FREE_PREV = 4;
const FREE_NEXT = 5;
const STATE = 6;
/** The class list a free block is on. */
const CLASS = 7;
const STRIDE_LOG2 = 3;
const STRIDE = 1 << STRIDE_LOG2;

const UNUSED = 0;
const FREE = 1;
const LIVE = 2;


/** The most memory an allocator with this alignment can manage (sizes are kept as int32 granules). */
export function maxTotal(align = 16): number {
  return MAX_GRANULES * align;
}

export interface AllocatorOptions {
  /** Alignment of every address and granularity of every size: a power of two, default 16. */
  align?: number;
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

/** Index of the highest set bit of a positive int32. */
function fls(n: number): number {
  return 31 - Math.clz32(n);
}

/** Index of the lowest set bit of a non-zero int32. */
function ctz(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}

/** The class of a block of `g` granules: exact below SL_COUNT, then SL_COUNT classes per power of two. */
function classOf(g: number): number {
  if (g < SL_COUNT) return g;
  const f = fls(g);
  return ((f - SL_LOG2) << SL_LOG2) + (g >>> (f - SL_LOG2));
}

/** The lowest class whose every block holds `g` granules: a size's own class unless it is inside it. */
function searchClassOf(g: number): number {
  return g < SL_COUNT ? g : classOf(g + (1 << (fls(g) - SL_LOG2)) - 1);
}

/** The smallest size in granules that falls in class `c`. */
function classLow(c: number): number {
  const fl = c >>> SL_LOG2;
  const sl = c & (SL_COUNT - 1);
  return fl === 0 ? sl : 2 ** (fl - 1) * (SL_COUNT + sl);
}

export class Allocator {
  // Fields set in the constructor are `declare`d: a class field without an initialiser would first be defined as
  // undefined, and V8 would then type it as a value of whatever kind and check every hot-path load of it.

  /** Bytes managed: the size given, rounded down to the alignment (the tail could never be handed out). */
  declare readonly total: number;
  declare readonly align: number;
  private declare readonly alignLog2: number;
  private declare readonly granules: number;
  private declare readonly flCount: number;

  /** Per class (index fl * SL_COUNT + sl): the first block of its free list. */
  private declare readonly heads: Int32Array;
  /** Bit sl of slMap[fl]: class (fl, sl) is non-empty. Bit fl of flMap: slMap[fl] is not 0. */
  private declare readonly slMap: Int32Array;
  private flMap = 0;

  private rec = new Int32Array(INITIAL_IDS * STRIDE);
  private spareIds = new Int32Array(INITIAL_IDS);
  private spareCount = 0;

  /** Live blocks by address (in granules), for free and sizeOf. */
  private readonly table = new AddressTable();

  /** The block at address 0. */
  private first = 0;
  private usedGranules = 0;
  private liveBlocks = 0;
  private freeBlocks = 0;

  /** Throws RangeError for an alignment that is not a power of two up to 2^20, or a total that is not a whole
   *  number from align to (2^31 - 1) * align (32 GiB at align 16): kernel configuration, checked at boot. */
  constructor(total: number, opts: AllocatorOptions = {}) {
    const align = opts.align ?? 16;
    if (!Number.isInteger(align) || align < 1 || align > MAX_ALIGN || (align & (align - 1)) !== 0) {
      throw new RangeError(`allocator: align must be a power of two from 1 to ${MAX_ALIGN}, got ${String(align)}`);
    }
    if (!Number.isInteger(total) || total < align || total / align >= MAX_GRANULES + 1) {
      throw new RangeError(`allocator: total must be a whole number of bytes from ${align} to ${MAX_GRANULES} * ${align}, got ${String(total)}`);
    }
    this.align = align;
    this.alignLog2 = 31 - Math.clz32(align);
    this.granules = Math.floor(total / align);
    this.total = this.granules * align;
    this.flCount = (classOf(this.granules) >>> SL_LOG2) + 1;
    this.heads = new Int32Array(this.flCount * SL_COUNT).fill(NIL);
    this.slMap = new Int32Array(this.flCount);
    for (let id = INITIAL_IDS - 1; id >= 1; id--) this.spareIds[this.spareCount++] = id;
    this.rec[ADDR] = 0;
    this.rec[SIZE] = this.granules;
    this.rec[PHYS_PREV] = NIL;
    this.rec[PHYS_NEXT] = NIL;
    this.pushFree(0);
  }

  /** Returns the address of a block of at least `size` bytes (rounded up to the alignment), or -1 if none fits
   *  or the size is not a whole number in [1, total]. Succeeds whenever size <= largestFree(). */
  alloc(size: number): number {
    if (!(size > 0 && size <= this.total) || !Number.isInteger(size)) return NIL;
    const need = size < 2 ** 31 ? (size + this.align - 1) >>> this.alignLog2 : Math.ceil(size / this.align);
    let b = NIL;
    const c = this.firstNonEmpty(searchClassOf(need));
    if (c !== NIL) {
      b = this.heads[c]!; // every block in this class fits
    } else {
      b = this.heads[classOf(need)]!;
      if (b === NIL || this.rec[(b << STRIDE_LOG2) + SIZE]! < need) return NIL;
    }
    const live = this.rec[(b << STRIDE_LOG2) + SIZE]! === need ? this.takeWhole(b) : this.carveFront(b, need);
    this.usedGranules += need;
    this.liveBlocks++;
    const addr = this.rec[(live << STRIDE_LOG2) + ADDR]!;
    this.table.insert(addr, live);
    return addr * this.align;
  }

  /** Frees a block returned by alloc; returns false (and changes nothing) for an address that is not a live block. */
  free(addr: number): boolean {
    const slot = this.table.find(addr / this.align);
    if (slot === NIL) return false;
    let b = this.table.valueAt(slot);
    this.table.removeAt(slot);
    const rec = this.rec;
    this.usedGranules -= rec[(b << STRIDE_LOG2) + SIZE]!;
    this.liveBlocks--;
    const left = rec[(b << STRIDE_LOG2) + PHYS_PREV]!;
    if (left !== NIL && rec[(left << STRIDE_LOG2) + STATE] === FREE) {
      this.unlinkFree(left);
      this.absorbNext(left);
      b = left;
    }
    const right = rec[(b << STRIDE_LOG2) + PHYS_NEXT]!;
    if (right !== NIL && rec[(right << STRIDE_LOG2) + STATE] === FREE) {
      this.unlinkFree(right);
      this.absorbNext(b);
    }
    this.pushFree(b);
    return true;
  }

  /** The usable size of a live block (its rounded size), or -1. */
  sizeOf(addr: number): number {
    const slot = this.table.find(addr / this.align);
    return slot === NIL ? NIL : this.rec[(this.table.valueAt(slot) << STRIDE_LOG2) + SIZE]! * this.align;
  }

  /** Largest size alloc could satisfy right now: alloc(n) succeeds if and only if 1 <= n <= largestFree(). */
  largestFree(): number {
    if (this.flMap === 0) return 0;
    const fl = fls(this.flMap);
    const c = (fl << SL_LOG2) + fls(this.slMap[fl]!);
    return this.rec[(this.heads[c]! << STRIDE_LOG2) + SIZE]! * this.align;
  }

  /** O(classes + free blocks): the per-class figures come from walking the lists, so the hot path keeps no
   *  counters for them. */
  stats(): AllocStats {
    const classes: SizeClassStat[] = [];
    for (let c = 1; c < this.flCount * SL_COUNT && classLow(c) <= this.granules; c++) {
      let freeBlocks = 0;
      let granules = 0;
      for (let b = this.heads[c]!; b !== NIL; b = this.rec[(b << STRIDE_LOG2) + FREE_NEXT]!) {
        // A cycle would make this loop forever: report it as the broken invariant it is.
        if (++freeBlocks > this.freeBlocks) throw new Error(`allocator invariant broken: class ${c} lists more blocks than are free`);
        granules += this.rec[(b << STRIDE_LOG2) + SIZE]!;
      }
      classes.push({
        min: classLow(c) * this.align,
        max: Math.min(classLow(c + 1) - 1, this.granules) * this.align,
        freeBlocks,
        freeBytes: granules * this.align,
      });
    }
    const used = this.usedGranules * this.align;
    const free = this.total - used;
    const largestFree = this.largestFree();
    return {
      total: this.total, used, free, largestFree,
      fragmentation: free === 0 ? 0 : 1 - largestFree / free,
      liveBlocks: this.liveBlocks, freeBlocks: this.freeBlocks, classes,
    };
  }

  /** Walks every block, list, bitmap and table slot; throws a descriptive Error at the first broken invariant. */
  check(): void {
    const fail = (what: string): never => {
      throw new Error(`allocator invariant broken: ${what}`);
    };
    const rec = this.rec;
    const field = (b: number, f: number): number => rec[(b << STRIDE_LOG2) + f]!;
    const ids = rec.length / STRIDE;
    let nextAddr = 0;
    let live = 0;
    let free = 0;
    let used = 0;
    for (let b = this.first, prev = NIL; b !== NIL; prev = b, b = field(b, PHYS_NEXT)) {
      const at = `block #${b} at ${field(b, ADDR) * this.align}`;
      if (live + free >= ids) fail('the physical chain has a cycle');
      if (field(b, ADDR) !== nextAddr) fail(`${at}: expected address ${nextAddr * this.align}`);
      if (field(b, PHYS_PREV) !== prev) fail(`${at}: physical prev is #${field(b, PHYS_PREV)}, expected #${prev}`);
      const size = field(b, SIZE);
      if (!(size > 0)) fail(`${at}: size ${size * this.align}`);
      nextAddr += size;
      const state = field(b, STATE);
      if (state === LIVE) {
        live++;
        used += size;
        const slot = this.table.find(field(b, ADDR));
        if (slot === NIL || this.table.valueAt(slot) !== b) fail(`${at}: live but not found by address`);
      } else if (state === FREE) {
        free++;
        if (prev !== NIL && field(prev, STATE) === FREE) fail(`${at}: free and so is its left neighbour #${prev}`);
        if (field(b, CLASS) !== classOf(size)) fail(`${at}: ${size * this.align} bytes filed under class ${field(b, CLASS)}`);
      } else {
        fail(`${at}: in the chain but unused`);
      }
    }
    if (nextAddr !== this.granules) fail(`the blocks cover [0, ${nextAddr * this.align}), not [0, ${this.total})`);
    if (live !== this.liveBlocks || free !== this.freeBlocks) {
      fail(`counted ${live} live and ${free} free blocks, the counters say ${this.liveBlocks} and ${this.freeBlocks}`);
    }
    if (used !== this.usedGranules) fail(`live blocks hold ${used * this.align} bytes, the counter says ${this.usedGranules * this.align}`);
    let listed = 0;
    for (let c = 0; c < this.heads.length; c++) {
      const head = this.heads[c]!;
      if ((head !== NIL) !== ((this.slMap[c >>> SL_LOG2]! & (1 << (c & 31))) !== 0)) fail(`class ${c}: bitmap bit disagrees with its list`);
      for (let b = head, prev = NIL; b !== NIL; prev = b, b = field(b, FREE_NEXT)) {
        if (++listed > free) fail(`the free lists hold more blocks than the ${free} free ones (a cycle?)`);
        if (field(b, FREE_PREV) !== prev) fail(`class ${c}: block #${b} has list prev #${field(b, FREE_PREV)}, expected #${prev}`);
        if (field(b, STATE) !== FREE || field(b, CLASS) !== c) fail(`class ${c}: holds block #${b}, which is not a free block of the class`);
      }
    }
    if (listed !== free) fail(`${listed} blocks in the free lists, ${free} free blocks in the chain`);
    for (let fl = 0; fl < this.flCount; fl++) {
      if (((this.flMap & (1 << fl)) !== 0) !== (this.slMap[fl] !== 0)) fail(`first level ${fl}: bitmap bit disagrees with its classes`);
    }
    let occupied = 0;
    this.table.forEach((key, b, s) => {
      occupied++;
      if (field(b, STATE) !== LIVE || field(b, ADDR) !== key) fail(`address table slot ${s}: ${key * this.align} -> #${b}, not that live block`);
    });
    if (occupied !== live) fail(`the address table holds ${occupied} blocks, ${live} are live`);
    if (this.spareCount + live + free !== ids) fail(`${ids - this.spareCount - live - free} block ids leaked`);
  }

  /** The first non-empty class at or above `c`, or NIL. */
  private firstNonEmpty(c: number): number {
    let fl = c >>> SL_LOG2;
    if (fl >= this.flCount) return NIL;
    let bits = this.slMap[fl]! & (-1 << (c & 31));
    if (bits === 0) {
      // fl + 1 <= 31 because flCount <= 27; the shift never wraps.
      const above = this.flMap & (-1 << (fl + 1));
      if (above === 0) return NIL;
      fl = ctz(above);
      bits = this.slMap[fl]!;
    }
    return (fl << SL_LOG2) + ctz(bits);
  }

  // ---- free lists

  /** Files a block as free at the head of its class list (LIFO: the block freed last is reused first). */
  private pushFree(b: number): void {
    const rec = this.rec;
    const o = b << STRIDE_LOG2;
    const size = rec[o + SIZE]!;
    const c = classOf(size);
    const head = this.heads[c]!;
    rec[o + STATE] = FREE;
    rec[o + CLASS] = c;
    rec[o + FREE_PREV] = NIL;
    rec[o + FREE_NEXT] = head;
    if (head !== NIL) {
      rec[(head << STRIDE_LOG2) + FREE_PREV] = b;
    } else {
      const fl = c >>> SL_LOG2;
      this.slMap[fl] = this.slMap[fl]! | (1 << (c & 31));
      this.flMap |= 1 << fl;
    }
    this.heads[c] = b;
    this.freeBlocks++;
  }

  /** Takes a free block off its class list; the caller gives it its next state. */
  private unlinkFree(b: number): void {
    const rec = this.rec;
    const o = b << STRIDE_LOG2;
    const c = rec[o + CLASS]!;
    const prev = rec[o + FREE_PREV]!;
    const next = rec[o + FREE_NEXT]!;
    if (next !== NIL) rec[(next << STRIDE_LOG2) + FREE_PREV] = prev;
    if (prev !== NIL) {
      rec[(prev << STRIDE_LOG2) + FREE_NEXT] = next;
    } else {
      this.heads[c] = next;
      if (next === NIL) {
        const fl = c >>> SL_LOG2;
        const bits = this.slMap[fl]! & ~(1 << (c & 31));
        this.slMap[fl] = bits;
        if (bits === 0) this.flMap &= ~(1 << fl);
      }
    }
    this.freeBlocks--;
  }

  /** Makes free block b live as it is. */
  private takeWhole(b: number): number {
    this.unlinkFree(b);
    this.rec[(b << STRIDE_LOG2) + STATE] = LIVE;
    return b;
  }

  /**
   * Cuts `need` granules off the front of free block b as a new live block, and returns its id. b keeps the rest,
   * and its place in its list unless the rest belongs to a smaller class: carving a small block from a large
   * one, the common case, then touches no list or bitmap.
   */
  private carveFront(b: number, need: number): number {
    const a = this.takeId();
    const rec = this.rec;
    const o = b << STRIDE_LOG2;
    const oa = a << STRIDE_LOG2;
    const prev = rec[o + PHYS_PREV]!;
    rec[oa + ADDR] = rec[o + ADDR]!;
    rec[oa + SIZE] = need;
    rec[oa + PHYS_PREV] = prev;
    rec[oa + PHYS_NEXT] = b;
    rec[oa + STATE] = LIVE;
    if (prev !== NIL) rec[(prev << STRIDE_LOG2) + PHYS_NEXT] = a;
    else this.first = a;
    const rest = rec[o + SIZE]! - need;
    rec[o + PHYS_PREV] = a;
    rec[o + ADDR] = rec[o + ADDR]! + need;
    rec[o + SIZE] = rest;
    if (classOf(rest) !== rec[o + CLASS]) {
      this.unlinkFree(b);
      this.pushFree(b);
    }
    return a;
  }

  /** Merges b's physical successor, already off every list and out of the table, into b; recycles its id. */
  private absorbNext(b: number): void {
    const rec = this.rec;
    const o = b << STRIDE_LOG2;
    const gone = rec[o + PHYS_NEXT]!;
    const og = gone << STRIDE_LOG2;
    const after = rec[og + PHYS_NEXT]!;
    rec[o + SIZE] = rec[o + SIZE]! + rec[og + SIZE]!;
    rec[o + PHYS_NEXT] = after;
    if (after !== NIL) rec[(after << STRIDE_LOG2) + PHYS_PREV] = b;
    rec[og + STATE] = UNUSED;
    this.spareIds[this.spareCount++] = gone;
  }

  /** A fresh block id. May replace this.rec: callers load it afterwards. */
  private takeId(): number {
    if (this.spareCount === 0) this.growIds();
    return this.spareIds[--this.spareCount]!;
  }

  private growIds(): void {
    const old = this.rec.length / STRIDE;
    const rec = new Int32Array(old * 2 * STRIDE);
    rec.set(this.rec);
    this.rec = rec;
    this.spareIds = new Int32Array(old * 2);
    this.spareCount = 0;
    for (let id = old * 2 - 1; id >= old; id--) this.spareIds[this.spareCount++] = id;
  }
}
