// The allocator's invariant check (Allocator.check in kernel/alloc.ts), apart from the allocator because it is
// long and never on a hot path: the tests and the fuzzers' oracles call it after every step. It reads a snapshot
// of the allocator's fields and throws a descriptive Error at the first broken invariant.

import {
  ADDR, BOUNDARY, CLASS, classOf, END, FREE_NEXT, FREE_PREV, PAGE_LOG2, PAGE_MASK, PHYS_NEXT, PHYS_PREV, SIZE, SL_LOG2,
  STRIDE_LOG2,
} from './alloc.js';
import type { QuickLists } from './quicklist.js';

/** What the check reads of an allocator: its fields as they are (alloc.ts documents each). */
export interface AllocatorState {
  readonly total: number;
  readonly align: number;
  readonly granules: number;
  readonly flCount: number;
  readonly classes: number;
  readonly slMap: Int32Array;
  readonly flMap: number;
  readonly heads: Int32Array;
  readonly rec: Int32Array;
  readonly freeBits: Int32Array;
  readonly cachedBits: Int32Array;
  /** The spare (unused) block ids. */
  readonly spare: Int32Array;
  /** Live, cached and free blocks: every id but the boundary, END and the spare ones. */
  readonly idsInUse: number;
  readonly pages: readonly Int32Array[];
  readonly absent: Int32Array;
  readonly quick: QuickLists;
  readonly liveGranules: number;
}

/** Walks every block, list, bitmap and directory page of the allocator `s` describes; throws at the first broken
 *  invariant. */
export function checkAllocator(s: AllocatorState): void {
  const fail = (what: string): never => {
    throw new Error(`allocator invariant broken: ${what}`);
  };
  const field = (b: number, f: number): number => s.rec[(b << STRIDE_LOG2) | f]!;
  const isFree = (b: number): boolean => ((s.freeBits[b >>> 5]! >>> (b & 31)) & 1) !== 0;
  const spare = new Set(s.spare);
  const isCached = (b: number): boolean => ((s.cachedBits[b >>> 5]! >>> (b & 31)) & 1) !== 0;
  for (const id of [BOUNDARY, END, ...spare]) {
    if (isFree(id) || isCached(id)) fail(`#${id} is marked free or cached but is not a block`);
  }
  const entryAt = (g: number, slot: number): number => s.pages[g >>> PAGE_LOG2]![((g & PAGE_MASK) << 1) | slot]!;
  let nextAddr = 0;
  let live = 0;
  let cached = 0;
  let liveGranules = 0;
  let free = 0;
  let prev = BOUNDARY;
  for (let b = field(BOUNDARY, PHYS_NEXT); b !== BOUNDARY; prev = b, b = field(b, PHYS_NEXT)) {
    // A function: the walk runs after every fuzzed call, and a string per block was most of its cost.
    const at = (): string => `block #${b} at ${field(b, ADDR) * s.align}`;
    if (b === END || spare.has(b) || live + cached + free >= s.idsInUse) fail(`${at()}: in the chain but not a block in use (a cycle?)`);
    if (field(b, ADDR) !== nextAddr) fail(`${at()}: expected address ${nextAddr * s.align}`);
    if (field(b, PHYS_PREV) !== prev) fail(`${at()}: physical prev is #${field(b, PHYS_PREV)}, expected #${prev}`);
    const size = field(b, SIZE);
    if (!(size > 0)) fail(`${at()}: size ${size * s.align}`);
    nextAddr += size;
    if (isFree(b)) {
      free++;
      if (isCached(b)) fail(`${at()}: both free and cached`);
      if (isFree(prev)) fail(`${at()}: free and so is its left neighbour #${prev}`);
      if (field(b, CLASS) !== classOf(size)) fail(`${at()}: ${size * s.align} bytes filed under class ${field(b, CLASS)}`);
    } else {
      if (entryAt(field(b, ADDR), 0) !== b) fail(`${at()}: live but not found by address`);
      if (isCached(b)) {
        cached++;
      } else {
        live++;
        liveGranules += size;
      }
      if (entryAt(field(b, ADDR), 1) !== size) fail(`${at()}: the directory gives it ${entryAt(field(b, ADDR), 1) * s.align} bytes`);
    }
  }
  if (nextAddr !== s.granules) fail(`the blocks cover [0, ${nextAddr * s.align}), not [0, ${s.total})`);
  if (field(BOUNDARY, PHYS_PREV) !== prev) fail(`the boundary's physical prev is #${field(BOUNDARY, PHYS_PREV)}, the last block is #${prev}`);
  let listed = 0;
  for (let c = 0; c < s.classes; c++) {
    const head = s.heads[c]!;
    if ((head !== END) !== ((s.slMap[c >>> SL_LOG2]! & (1 << (c & 31))) !== 0)) fail(`class ${c}: bitmap bit disagrees with its list`);
    for (let b = head, before = END; b !== END; before = b, b = field(b, FREE_NEXT)) {
      if (++listed > free) fail(`the free lists hold more blocks than the ${free} free ones (a cycle?)`);
      if (b !== head && field(b, FREE_PREV) !== before) fail(`class ${c}: block #${b} has list prev #${field(b, FREE_PREV)}, expected #${before}`);
      if (!isFree(b) || field(b, CLASS) !== c) fail(`class ${c}: holds block #${b}, which is not a free block of the class`);
    }
  }
  if (listed !== free) fail(`${listed} blocks in the free lists, ${free} free blocks in the chain`);
  for (let fl = 0; fl < s.flCount; fl++) {
    if (((s.flMap & (1 << fl)) !== 0) !== (s.slMap[fl] !== 0)) fail(`first level ${fl}: bitmap bit disagrees with its classes`);
  }
  let entries = 0;
  for (const page of s.pages) {
    if (page !== s.absent) for (let i = 0; i < page.length; i += 2) if (page[i] !== BOUNDARY) entries++;
  }
  if (entries !== live + cached) fail(`the directory holds ${entries} blocks, ${live} are live and ${cached} cached`);
  if (live + cached + free !== s.idsInUse) fail(`${s.idsInUse - live - cached - free} block ids leaked`);
  if (liveGranules !== s.liveGranules) fail(`${liveGranules} granules are live, ${s.liveGranules} counted`);
  s.quick.check();
  const onStacks = new Set<number>();
  s.quick.forEach((g, b, size) => {
    if (entryAt(g, 0) !== b || !isCached(b) || field(b, ADDR) !== g || field(b, SIZE) !== size || onStacks.has(b)) {
      fail(`the quick list of ${size * s.align} bytes holds ${g * s.align}, not a cached block of that size (or twice)`);
    }
    onStacks.add(b);
  });
  if (onStacks.size !== cached) fail(`${onStacks.size} blocks on the quick lists, ${cached} cached in the chain`);
  if (s.quick.overShare(s.liveGranules)) fail(`the quick lists hold more than their share of ${s.liveGranules} live granules`);
}
