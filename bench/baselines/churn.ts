// The allocator suite's churn loop (bench/suites/alloc.ts has the workload and the figures). The suite imports
// this module once per allocator, as `churn.js?heap=<id>`: each import is a module instance of its own, so each
// allocator runs its own copy of the loop, whose calls see one receiver and are optimized for it alone. With one
// shared loop the call sites turn polymorphic, and what V8 then inlines depends on which allocators ran before:
// a ratio between two of them would measure that as much as the allocators.

/** What the churn needs from an allocator. The baselines are told the size on free; the kernel's ignores it. */
export interface Heap {
  alloc(size: number): number;
  free(addr: number, size: number): unknown;
}

export const LIVE = 10_000;
const MIN_SIZE = 16;
const MAX_SIZE = 4096;
/** Sizes and victims are drawn from tables this long (a power of two, cycled with a mask). */
const TABLE = 1 << 16;

/** mulberry32: a small seeded generator, so every allocator (every instance of this module) sees the same sizes
 *  and victims. */
function generator(seed: number): () => number {
  let t = seed;
  return () => {
    t = (t + 0x6d2b79f5) | 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = generator(0x5eed);
const SIZES = Float64Array.from({ length: TABLE }, () => Math.floor(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** random()));
const VICTIMS = Int32Array.from({ length: TABLE }, () => Math.floor(random() * LIVE));

/** LIVE blocks on one heap, replaced one pair at a time: free a random live block, allocate a random size. */
export class Churn {
  private readonly addrs = new Float64Array(LIVE);
  private readonly sizes = new Float64Array(LIVE);
  private next = 0;

  /** Fills the heap with LIVE blocks; throws if it runs out of room. */
  constructor(private readonly heap: Heap) {
    for (let j = 0; j < LIVE; j++) this.place(j, SIZES[(j * 7919) & (TABLE - 1)]!);
  }

  /** Runs `ops` pairs and resolves with how long they took in ms (a Batch of bench/suite.ts). */
  readonly batch = async (ops: number): Promise<number> => {
    const start = performance.now();
    this.run(ops);
    return performance.now() - start;
  };

  /**
   * The loop, in a function of its own that ends with it. Written inline in batch, the loop was compiled on
   * stack (OSR) during the first batch, before the code after it had ever run; that code then had no type
   * feedback, so every later batch left the loop into a deoptimization (about 1 ms, inside the timed window:
   * some 50 ns a pair), and V8 kept reusing the same on-stack code.
   */
  private run(ops: number): void {
    for (let i = 0; i < ops; i++) {
      const k = this.next;
      const j = VICTIMS[k]!;
      this.heap.free(this.addrs[j]!, this.sizes[j]!);
      this.place(j, SIZES[k]!);
      this.next = (k + 1) & (TABLE - 1);
    }
  }

  /** Highest address in use over the live bytes asked for. */
  footprint(): number {
    let top = 0;
    let live = 0;
    for (let j = 0; j < LIVE; j++) {
      top = Math.max(top, this.addrs[j]! + this.sizes[j]!);
      live += this.sizes[j]!;
    }
    return top / live;
  }

  private place(j: number, size: number): void {
    const addr = this.heap.alloc(size);
    if (addr < 0) throw new Error(`alloc(${size}) failed with ${LIVE} blocks live: the benchmark heap is too small`);
    this.addrs[j] = addr;
    this.sizes[j] = size;
  }
}
