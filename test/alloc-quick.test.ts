// The allocator's quick lists (kernel/quicklist.ts, used by kernel/alloc.ts): a model-based property test of
// alloc/free sequences that leaves the cache populated between checks (nothing here calls stats() or
// largestFree() on the way, as both merge the cache), then unit tests of the cache's contracts: a cached block
// is still refused a second free, it never makes an allocation fail, and it stays within its share.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator } from '../dist/kernel/alloc.js';
import { assert, checkLiveBlocks } from './alloc-model.js';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Model {
  /** Live blocks by address, with their requested sizes. */
  readonly live: Map<number, number>;
  readonly align: number;
  readonly total: number;
  readonly share: number;
}

/** Rounded bytes of the model's live blocks. */
function liveBytes(m: Model): number {
  let bytes = 0;
  for (const size of m.live.values()) bytes += Math.ceil(size / m.align) * m.align;
  return bytes;
}

/** Invariants that must hold between operations, checked without merging the cache. */
function expectConsistent(m: Model, a: Allocator): void {
  a.check();
  checkLiveBlocks(m.live, m.align, m.total, a);
  const live = liveBytes(m);
  assert(a.cachedBytes <= live * m.share, () => `${a.cachedBytes} bytes cached, over ${m.share} of ${live} live`);
}

class AllocCommand implements fc.Command<Model, Allocator> {
  private size = 0;
  constructor(readonly n: number, readonly big: boolean) {}
  check(): boolean {
    return true;
  }
  run(m: Model, a: Allocator): void {
    // Mostly sizes the quick lists cache (up to 256 granules), so that a pop of an exact size is common.
    const limit = this.big ? m.total : Math.min(m.total, 24 * m.align);
    this.size = 1 + (this.n % limit);
    const addr = a.alloc(this.size);
    if (addr === -1) {
      // It failed with the cache merged back, so it must not fit the fully coalesced free memory either.
      expect(a.cachedBytes).toBe(0);
      expect(a.largestFree(), `alloc(${this.size}) failed`).toBeLessThan(this.size);
    } else {
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
    // Refused whether the block went to a quick list or was merged, and the refusal leaves the cache alone.
    const cached = a.cachedBytes;
    expect(a.free(addr)).toBe(false);
    expect(a.cachedBytes).toBe(cached);
    expectConsistent(m, a);
  }
  toString(): string {
    return `free(#${this.pick})`;
  }
}

/** stats() merges the cache first: its figures must then account for every byte exactly. */
class StatsCommand implements fc.Command<Model, Allocator> {
  check(): boolean {
    return true;
  }
  run(m: Model, a: Allocator): void {
    const s = a.stats();
    expect(a.cachedBytes).toBe(0);
    expect(s.used).toBe(liveBytes(m));
    expect(s.used + s.free).toBe(s.total);
    expect(s.liveBlocks).toBe(m.live.size);
    expect(s.free).toBe(s.classes.reduce((n, c) => n + c.freeBytes, 0));
    expect(s.largestFree).toBe(a.largestFree());
    expectConsistent(m, a);
  }
  toString(): string {
    return 'stats()';
  }
}

describe('allocator quick lists, model', () => {
  const config = fc.record({
    align: fc.constantFrom(1, 16, 64),
    granules: fc.integer({ min: 8, max: 2000 }),
    share: fc.constantFrom(0.25, 0.25, 0.5, 1),
  });
  const commands = fc.commands(
    [
      fc.tuple(fc.nat(), fc.boolean()).map(([n, big]) => new AllocCommand(n, big && n % 8 === 0)),
      fc.tuple(fc.nat(), fc.boolean()).map(([n, big]) => new AllocCommand(n, big && n % 8 === 0)),
      fc.tuple(fc.nat(), fc.boolean()).map(([n, big]) => new AllocCommand(n, big && n % 8 === 0)),
      fc.nat().map((i) => new FreeCommand(i)),
      fc.nat().map((i) => new FreeCommand(i)),
      fc.nat().map((i) => new FreeCommand(i)),
      fc.constant(new StatsCommand()),
    ],
    { maxCommands: 300, size: 'max' },
  );

  it('alloc/free sequences with blocks cached keep blocks disjoint and exactly accounted, and coalesce to one block', () => {
    fc.assert(
      fc.property(config, commands, (cfg, cmds) => {
        const total = cfg.granules * cfg.align;
        const a = new Allocator(total, { align: cfg.align, cacheShare: cfg.share });
        const m: Model = { live: new Map(), align: cfg.align, total, share: cfg.share };
        fc.modelRun(() => ({ model: m, real: a }), cmds);
        for (const addr of m.live.keys()) expect(a.free(addr)).toBe(true);
        m.live.clear();
        a.check();
        const s = a.stats();
        expect(s).toMatchObject({ used: 0, free: total, freeBlocks: 1, largestFree: total, fragmentation: 0 });
        a.check();
      }),
      { numRuns: 100 },
    );
  });
});

describe('allocator quick lists', () => {
  it('a second free of a cached block is refused, and the block is handed out again only once', () => {
    const a = new Allocator(1 * MiB);
    const keep = a.alloc(4 * KiB); // live bytes, so that the cache's share has room
    const addr = a.alloc(100);
    expect(a.free(addr)).toBe(true);
    expect(a.cachedBytes).toBe(112);
    expect(a.free(addr)).toBe(false);
    expect(a.sizeOf(addr)).toBe(-1);
    expect(a.cachedBytes).toBe(112);
    a.check();
    // An exact-size request takes the cached block back; the next one gets another.
    expect(a.alloc(112)).toBe(addr);
    expect(a.cachedBytes).toBe(0);
    const other = a.alloc(112);
    expect(other).not.toBe(addr);
    expect(a.free(addr)).toBe(true);
    expect(a.free(other)).toBe(true);
    expect(a.free(keep)).toBe(true);
    expect(a.stats()).toMatchObject({ used: 0, freeBlocks: 1 });
  });

  it('an allocation that finds no free block merges the cache back and succeeds', () => {
    // 8 blocks of 32 B fill 256 B. The first one freed is cached (32 B, within a quarter of the 224 B left live);
    // the second is over the share and is merged, alone: its neighbour is cached, not free.
    const a = new Allocator(256);
    const blocks = Array.from({ length: 8 }, () => a.alloc(32));
    expect(blocks).toEqual([0, 32, 64, 96, 128, 160, 192, 224]);
    expect(a.free(0)).toBe(true);
    expect(a.cachedBytes).toBe(32);
    expect(a.free(32)).toBe(true);
    expect(a.cachedBytes).toBe(32);
    a.check();
    // Plain TLSF would have coalesced [0, 64): so must this.
    expect(a.alloc(64)).toBe(0);
    expect(a.cachedBytes).toBe(0);
    a.check();
    expect(a.alloc(1)).toBe(-1);
    expect(a.stats()).toMatchObject({ used: 256, free: 0 });
  });

  it('an allocation that does not fit even with the cache merged fails and leaves a consistent heap', () => {
    const a = new Allocator(1 * KiB, { cacheShare: 1 });
    const blocks = Array.from({ length: 8 }, () => a.alloc(128));
    for (const i of [1, 3, 5]) expect(a.free(blocks[i]!)).toBe(true);
    expect(a.cachedBytes).toBe(384);
    expect(a.alloc(256)).toBe(-1); // 384 B free, in three pieces
    expect(a.cachedBytes).toBe(0);
    a.check();
    expect(a.stats()).toMatchObject({ free: 384, freeBlocks: 3, largestFree: 128 });
  });

  it('stats and largestFree count cached blocks as free memory, coalesced', () => {
    const a = new Allocator(64 * KiB, { cacheShare: 1 });
    const blocks = Array.from({ length: 16 }, () => a.alloc(1 * KiB));
    for (let i = 4; i < 8; i++) expect(a.free(blocks[i]!)).toBe(true);
    expect(a.cachedBytes).toBe(4 * KiB);
    // The four merge into [4 KiB, 8 KiB) (block 8 is live); the largest free block is the 48 KiB tail.
    const s = a.stats();
    expect(s).toMatchObject({ used: 12 * KiB, free: 52 * KiB, freeBlocks: 2, liveBlocks: 12, largestFree: 48 * KiB });
    expect(s.fragmentation).toBeCloseTo(1 - 48 / 52);
    expect(a.cachedBytes).toBe(0);
    for (let i = 8; i < 12; i++) expect(a.free(blocks[i]!)).toBe(true);
    expect(a.cachedBytes).toBe(4 * KiB);
    expect(a.largestFree()).toBe(48 * KiB);
    expect(a.cachedBytes).toBe(0);
    expect(a.stats()).toMatchObject({ free: 56 * KiB, freeBlocks: 2 });
  });

  it('holds at most its share of the live bytes, and at most 64 blocks of a size', () => {
    const a = new Allocator(16 * MiB);
    const live = Array.from({ length: 4096 }, (_, i) => a.alloc(16 * (1 + (i % 64))));
    let liveBytes = live.reduce((n, addr) => n + a.sizeOf(addr), 0);
    let peak = 0;
    // Free in an order that mixes sizes; the live bytes shrink, so the cache must give blocks back as they do.
    for (let i = 0; i < live.length; i++) {
      const addr = live[(i * 2741) % live.length]!;
      liveBytes -= a.sizeOf(addr);
      expect(a.free(addr)).toBe(true);
      expect(a.cachedBytes).toBeLessThanOrEqual(liveBytes / 4);
      peak = Math.max(peak, a.cachedBytes);
    }
    expect(peak).toBeGreaterThan(0);
    expect(a.cachedBytes).toBe(0);
    a.check();

    const b = new Allocator(16 * MiB, { cacheShare: 1 });
    const keep = b.alloc(1 * MiB);
    const same = Array.from({ length: 100 }, () => b.alloc(48));
    for (const addr of same) expect(b.free(addr)).toBe(true);
    expect(b.cachedBytes).toBe(64 * 48);
    b.check();
    expect(b.free(keep)).toBe(true);
    expect(b.stats()).toMatchObject({ used: 0, freeBlocks: 1 });
  });

  it('with cacheShare 0 every free merges at once, and a share outside [0, 1] is refused', () => {
    const a = new Allocator(64 * KiB, { cacheShare: 0 });
    const x = a.alloc(64);
    a.alloc(64);
    expect(a.free(x)).toBe(true);
    expect(a.cachedBytes).toBe(0);
    for (const share of [-0.1, 1.5, NaN, Infinity]) {
      expect(() => new Allocator(64 * KiB, { cacheShare: share })).toThrow(RangeError);
    }
  });
});
