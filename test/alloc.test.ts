// The physical memory allocator (kernel/alloc.ts) on its own: a model-based property test of random alloc/free
// sequences against a Map of live blocks, then unit tests of exhaustion, alignment, splitting and coalescing.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator, type AllocStats } from '../dist/kernel/alloc.js';
import { assert, checkLiveBlocks } from './alloc-model.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function roundUp(size: number, align: number): number {
  return Math.ceil(size / align) * align;
}

/** The allocator's observable state as one string, for "changes nothing" comparisons (deep equality over
 *  hundreds of class records is slow). */
function snapshot(a: Allocator): string {
  const s: AllocStats = a.stats();
  const classes = s.classes.map((c) => `${c.freeBlocks}:${c.freeBytes}`).join(' ');
  return `${s.used} ${s.free} ${s.largestFree} ${s.liveBlocks} ${s.freeBlocks} | ${classes}`;
}

// ---- model-based

/** The reference: every live block the allocator handed out, by address, with the size it was asked for. */
interface Model {
  readonly live: Map<number, number>;
  readonly align: number;
  readonly total: number;
}

/** Invariants that must hold between any two operations. */
function expectConsistent(m: Model, a: Allocator): void {
  a.check();
  const s = a.stats();
  const used = checkLiveBlocks(m.live, m.align, m.total, a);
  expect(s.used).toBe(used);
  expect(s.used + s.free).toBe(s.total);
  expect(s.liveBlocks).toBe(m.live.size);
  expect(s.freeBlocks).toBe(s.classes.reduce((n, c) => n + c.freeBlocks, 0));
  expect(s.free).toBe(s.classes.reduce((n, c) => n + c.freeBytes, 0));
}

/** How big a generated size may be, relative to the memory: most let dozens of blocks coexist. */
type SizeRange = 'small' | 'medium' | 'any';

/** Allocates a size drawn from `range`: the command is generated before the configuration is known (so that
 *  both shrink independently), and scales itself to the model's memory when it runs. */
class AllocCommand implements fc.Command<Model, Allocator> {
  private size = 0;
  constructor(
    readonly range: SizeRange,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, a: Allocator): void {
    const limit = this.range === 'small' ? Math.floor(m.total / 32) : this.range === 'medium' ? 64 * m.align : m.total;
    this.size = 1 + (this.n % Math.max(1, Math.min(limit, m.total)));
    const fits = this.size <= a.largestFree();
    const addr = a.alloc(this.size);
    // largestFree() is exact: a size fits if and only if it is at most largestFree().
    expect(addr !== -1, `alloc(${this.size}) with largestFree ${fits ? '>=' : '<'} size`).toBe(fits);
    if (addr !== -1) {
      expect(m.live.has(addr), `alloc returned live address ${addr} again`).toBe(false);
      m.live.set(addr, this.size);
    }
    expectConsistent(m, a);
  }
  toString(): string {
    return `alloc(${this.size})`;
  }
}

class FreeCommand implements fc.Command<Model, Allocator> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.live.size > 0;
  }
  run(m: Model, a: Allocator): void {
    const addr = [...m.live.keys()][this.pick % m.live.size]!;
    expect(a.free(addr)).toBe(true);
    m.live.delete(addr);
    expect(a.sizeOf(addr)).toBe(-1);
    // A second free of the same address is refused and changes nothing.
    const before = snapshot(a);
    expect(a.free(addr)).toBe(false);
    expect(snapshot(a)).toBe(before);
    expectConsistent(m, a);
  }
  toString(): string {
    return `free(#${this.pick})`;
  }
}

/** Frees an address that is not a live block: inside one, past the end, unaligned, negative or not an integer.
 *  A finite `at` is scaled into [-total, 2 * total) when the command runs; other values are used as they are. */
class BogusFreeCommand implements fc.Command<Model, Allocator> {
  private addr = 0;
  constructor(readonly at: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, a: Allocator): void {
    this.addr = Number.isSafeInteger(this.at) ? (Math.abs(this.at) % (3 * m.total)) - m.total : this.at;
    if (m.live.has(this.addr)) return;
    const before = snapshot(a);
    expect(a.free(this.addr), `free(${this.addr})`).toBe(false);
    expect(a.sizeOf(this.addr)).toBe(-1);
    expect(snapshot(a)).toBe(before);
  }
  toString(): string {
    return `bogusFree(${this.addr})`;
  }
}

describe('allocator model', () => {
  const config = fc.record({
    align: fc.constantFrom(1, 8, 16, 256),
    granules: fc.integer({ min: 1, max: 3000 }),
    /** Bytes past the last whole granule: the allocator must leave them out of total. */
    tail: fc.nat({ max: 255 }),
  });
  const range = fc.constantFrom<SizeRange>('small', 'small', 'small', 'small', 'small', 'small', 'medium', 'medium', 'any');
  const commands = fc.commands(
    [
      fc.tuple(range, fc.nat()).map(([r, n]) => new AllocCommand(r, n)),
      fc.tuple(range, fc.nat()).map(([r, n]) => new AllocCommand(r, n)),
      fc.tuple(range, fc.nat()).map(([r, n]) => new AllocCommand(r, n)),
      fc.nat().map((i) => new FreeCommand(i)),
      fc.nat().map((i) => new FreeCommand(i)),
      fc.oneof(fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, -0.5, 0.5, 2 ** 40 + 0.5)).map((x) => new BogusFreeCommand(x)),
    ],
    { maxCommands: 200, size: 'max' },
  );

  it('random alloc/free sequences keep blocks disjoint, aligned and exactly accounted, and coalesce back to one block', () => {
    fc.assert(
      fc.property(config, commands, (cfg, cmds) => {
        const total = cfg.granules * cfg.align;
        const a = new Allocator(total + (cfg.tail % cfg.align), { align: cfg.align });
        expect(a.total).toBe(total);
        const m: Model = { live: new Map(), align: cfg.align, total };
        fc.modelRun(() => ({ model: m, real: a }), cmds);
        for (const addr of m.live.keys()) expect(a.free(addr)).toBe(true);
        m.live.clear();
        expectConsistent(m, a);
        const s = a.stats();
        expect(s.used).toBe(0);
        expect(s.freeBlocks).toBe(1);
        expect(s.largestFree).toBe(total);
        expect(s.fragmentation).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});

// ---- unit tests

/** A deterministic permutation of 0..n-1 (mulberry32), so a failure replays. */
function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let t = seed;
  const next = (): number => {
    t = (t + 0x6d2b79f5) | 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

describe('allocator', () => {
  it('rejects sizes that are not whole numbers in [1, total] with -1 and changes nothing', () => {
    const a = new Allocator(64 * KiB);
    const before = snapshot(a);
    for (const size of [0, -1, -16, 0.5, 16.5, NaN, Infinity, -Infinity, 64 * KiB + 1, 2 ** 53]) {
      expect(a.alloc(size), `alloc(${size})`).toBe(-1);
    }
    expect(snapshot(a)).toBe(before);
    expect(a.alloc(64 * KiB)).toBe(0);
  });

  it('exhausting memory returns -1, and freeing one block makes an allocation of its size succeed', () => {
    const a = new Allocator(64 * KiB);
    // 1000 bytes take 1008 at align 16: 65 fit, with 16 bytes left over.
    const blocks = Array.from({ length: 65 }, () => a.alloc(1000));
    expect(blocks.includes(-1)).toBe(false);
    expect(a.largestFree()).toBe(16);
    expect(a.alloc(1000)).toBe(-1);
    const victim = blocks[7]!;
    expect(a.free(victim)).toBe(true);
    expect(a.largestFree()).toBeGreaterThanOrEqual(1000);
    expect(a.alloc(1000)).toBe(victim);
    expect(a.alloc(1000)).toBe(-1);
    a.check();
  });

  it('fills memory exactly with blocks of the alignment, then refuses one more byte', () => {
    const a = new Allocator(4 * KiB, { align: 64 });
    for (let i = 0; i < 64; i++) expect(a.alloc(1)).toBe(i * 64);
    expect(a.stats()).toMatchObject({ used: 4 * KiB, free: 0, largestFree: 0, fragmentation: 0, freeBlocks: 0 });
    expect(a.alloc(1)).toBe(-1);
    a.check();
  });

  it('aligns every address and rounds every size up to the alignment', () => {
    for (const align of [1, 2, 16, 64, 4096]) {
      const a = new Allocator(1 * MiB + align - 1, { align });
      expect(a.total).toBe(1 * MiB);
      for (const size of [1, align - 1, align, align + 1, 3 * align + 7, 1000, 4097]) {
        if (size < 1) continue;
        const addr = a.alloc(size);
        expect(addr % align, `align ${align}, alloc(${size}) at ${addr}`).toBe(0);
        expect(a.sizeOf(addr)).toBe(roundUp(size, align));
      }
      a.check();
    }
  });

  it('splits a block at the rounded size and keeps the rest as one free block after it', () => {
    const a = new Allocator(1 * MiB);
    expect(a.alloc(100)).toBe(0);
    expect(a.alloc(1)).toBe(112);
    expect(a.stats()).toMatchObject({ used: 128, liveBlocks: 2, freeBlocks: 1, largestFree: 1 * MiB - 128 });
    a.check();
  });

  it('free coalesces with a free left neighbour, a free right neighbour, and both', () => {
    const a = new Allocator(64 * KiB);
    const [b0, b1, b2, b3, b4] = [0, 1, 2, 3, 4].map(() => a.alloc(1024)) as [number, number, number, number, number];
    const rest = 64 * KiB - 5 * KiB;
    // Layout: b0 b1 b2 b3 b4 [rest]. Freeing b4 merges right into the rest.
    expect(a.free(b4)).toBe(true);
    expect(a.stats()).toMatchObject({ freeBlocks: 1, largestFree: rest + 1024 });
    // b1 has live neighbours on both sides: a hole of its own.
    expect(a.free(b1)).toBe(true);
    expect(a.stats().freeBlocks).toBe(2);
    // b0's right neighbour b1 is free: merge right; the hole is now 2 KiB at 0.
    expect(a.free(b0)).toBe(true);
    expect(a.stats().freeBlocks).toBe(2);
    expect(a.alloc(2048)).toBe(0);
    expect(a.free(0)).toBe(true);
    // b2's left neighbour (the 2 KiB hole) is free: merge left into a 3 KiB hole.
    expect(a.free(b2)).toBe(true);
    expect(a.stats().freeBlocks).toBe(2);
    expect(a.sizeOf(b2)).toBe(-1);
    // b3 sits between the 3 KiB hole and the rest: merging both ways leaves one block of everything.
    expect(a.free(b3)).toBe(true);
    expect(a.stats()).toMatchObject({ used: 0, freeBlocks: 1, largestFree: 64 * KiB });
    a.check();
  });

  it('free of an address inside a block, of a freed block, or past the end returns false', () => {
    const a = new Allocator(64 * KiB);
    const x = a.alloc(256);
    const before = snapshot(a);
    for (const addr of [x + 16, x + 1, 64 * KiB, 128 * KiB, -16, 256]) expect(a.free(addr), `free(${addr})`).toBe(false);
    expect(snapshot(a)).toBe(before);
    expect(a.free(x)).toBe(true);
    expect(a.free(x)).toBe(false);
    a.check();
  });

  it('largestFree is the largest size alloc accepts: one more granule is refused', () => {
    const a = new Allocator(1 * MiB);
    const held: number[] = [];
    for (let i = 0; i < 200; i++) held.push(a.alloc(100 + ((i * 7919) % 5000)));
    for (const i of shuffled(200, 3).slice(0, 120)) a.free(held[i]!);
    const largest = a.largestFree();
    expect(a.alloc(largest + 16)).toBe(-1);
    expect(a.alloc(largest)).not.toBe(-1);
    a.check();
  });

  it('thousands of live blocks stay findable by address as the tables grow and blocks leave in any order', () => {
    const a = new Allocator(16 * MiB);
    const n = 3000;
    const addrs = Array.from({ length: n }, (_, i) => a.alloc(16 + (i % 13) * 16));
    expect(addrs.includes(-1)).toBe(false);
    a.check();
    const gone = new Set<number>();
    for (const [k, i] of shuffled(n, 7).entries()) {
      expect(a.free(addrs[i]!)).toBe(true);
      gone.add(i);
      // Removal moves table entries back; every remaining block must still be found after each one.
      if (k % 50 === 0) {
        for (let j = 0; j < n; j++) {
          if (!gone.has(j)) assert(a.sizeOf(addrs[j]!) === 16 + (j % 13) * 16, () => `block ${j} at ${addrs[j]} was lost`);
        }
        a.check();
      }
    }
    expect(a.stats()).toMatchObject({ used: 0, liveBlocks: 0, freeBlocks: 1, largestFree: 16 * MiB });
  });

  it('finds, frees and merges blocks in every page of the address directory, the short last one included', () => {
    // At align 1 a directory page covers 2^20 bytes: 3 MiB + 7 bytes is three full pages and one of 7 bytes.
    const total = 3 * MiB + 7;
    const a = new Allocator(total, { align: 1 });
    const addrs: number[] = [];
    for (let addr = a.alloc(1000); addr !== -1; addr = a.alloc(1000)) addrs.push(addr);
    const tail = a.alloc(a.largestFree());
    expect(tail + a.sizeOf(tail)).toBe(total);
    addrs.push(tail);
    expect(a.stats()).toMatchObject({ free: 0, liveBlocks: addrs.length });
    a.check();
    for (const [k, i] of shuffled(addrs.length, 11).entries()) {
      expect(a.free(addrs[i]!), `free(${addrs[i]})`).toBe(true);
      expect(a.sizeOf(addrs[i]!)).toBe(-1);
      if (k % 1000 === 0) a.check();
    }
    a.check();
    expect(a.stats()).toMatchObject({ used: 0, liveBlocks: 0, freeBlocks: 1, largestFree: total });
  });

  it('free and sizeOf of an address in a directory page no block ever started in fail and change nothing', () => {
    const a = new Allocator(4 * MiB, { align: 1 });
    a.alloc(100);
    const before = snapshot(a);
    for (const addr of [MiB, 2 * MiB + 5, 4 * MiB - 1]) {
      expect(a.free(addr), `free(${addr})`).toBe(false);
      expect(a.sizeOf(addr)).toBe(-1);
    }
    expect(snapshot(a)).toBe(before);
    a.check();
  });

  it('reports one class record per size class, covering [align, total] without gaps, and the free bytes in them', () => {
    const a = new Allocator(1 * MiB);
    a.alloc(100);
    const classes = a.stats().classes;
    expect(classes[0]!.min).toBe(16);
    expect(classes.at(-1)!.max).toBe(1 * MiB);
    for (let i = 1; i < classes.length; i++) expect(classes[i]!.min).toBe(classes[i - 1]!.max + 16);
    // Exact classes below 512 B, then 32 per power of two: 1 KiB..2 KiB has 32 B steps.
    expect(classes.find((c) => c.min === 496)).toMatchObject({ max: 496 });
    expect(classes.find((c) => c.min === 1024)).toMatchObject({ max: 1056 - 16 });
    expect(classes.filter((c) => c.freeBlocks > 0)).toEqual([
      expect.objectContaining({ freeBlocks: 1, freeBytes: 1 * MiB - 112 }),
    ]);
  });

  it('manages up to 2^31 - 1 granules and refuses a bigger total or a bad alignment', () => {
    const big = (2 ** 31 - 1) * 16;
    const a = new Allocator(big);
    expect(a.largestFree()).toBe(big);
    const x = a.alloc(big - 16);
    expect(x).toBe(0);
    expect(a.alloc(16)).toBe(big - 16);
    expect(a.alloc(1)).toBe(-1);
    a.check();
    expect(() => new Allocator(2 ** 31 * 16)).toThrow(RangeError);
    expect(() => new Allocator(8)).toThrow(RangeError);
    expect(() => new Allocator(1.5 * KiB + 0.5)).toThrow(RangeError);
    for (const align of [0, 3, 24, -16, 0.5, 2 ** 21]) expect(() => new Allocator(MiB, { align })).toThrow(RangeError);
  });
});
