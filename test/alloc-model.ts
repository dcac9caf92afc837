// What the allocator's model-based tests (alloc.test.ts, alloc-quick.test.ts) check of the live blocks after every
// command, against their model: a Map of live addresses to the sizes asked for.

import type { Allocator } from '../dist/kernel/alloc.js';

/** Throws unless `ok`: cheaper than expect() in checks that run for every block after every command. */
export function assert(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** Checks that every live block has its rounded size, is aligned, lies in [0, total) and overlaps no other;
 *  returns their bytes. */
export function checkLiveBlocks(live: ReadonlyMap<number, number>, align: number, total: number, a: Allocator): number {
  let used = 0;
  const blocks: [number, number][] = [];
  for (const [addr, requested] of live) {
    const size = a.sizeOf(addr);
    assert(size === Math.ceil(requested / align) * align, () => `sizeOf(${addr}) is ${size}, asked for ${requested}`);
    used += size;
    blocks.push([addr, size]);
  }
  blocks.sort((x, y) => x[0] - y[0]);
  let end = 0;
  for (const [addr, size] of blocks) {
    assert(addr % align === 0, () => `address ${addr} is not aligned to ${align}`);
    assert(addr >= end, () => `block [${addr}, +${size}) overlaps the one before it, which ends at ${end}`);
    end = addr + size;
  }
  assert(end <= total, () => `a block ends at ${end}, past total ${total}`);
  return used;
}
