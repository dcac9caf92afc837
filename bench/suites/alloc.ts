// Suite: the physical memory allocator (kernel/alloc.ts) under churn, beside two baselines in the same run.
//
// Workload. 10,000 blocks are live, with sizes log-uniform from 16 B to 4 KiB (mean about 740 B). One operation
// is a pair: free a live block picked at random, then allocate a new block of a random size in its place, so
// the number of live blocks stays at 10,000 and the heap reaches a steady state of holes and coalescing. The
// sizes and the victims come from a seeded generator (65,536 of each, cycled), identical for every allocator;
// a sample is a batch of pairs timed around the loop, so the harness's own cost (picking the victim, about
// 20 ns) is in every figure alike.
//
// Figures:
//   tlsf       the kernel's allocator: free(addr) looks the block up by address, coalesces, alloc splits.
//   floor      bare segregated fit (bench/baselines/segregated.ts): power-of-two classes, plain arrays as free
//              stacks, a bump pointer, no splitting, no coalescing, and free is told the size (no lookup). The
//              least any segregated-fit allocator can do.
//   firstfit   first fit over one address-sorted, coalescing free list (bench/baselines/firstfit.ts), free also
//              told the size: the textbook allocator whose cost grows with the number of holes.
// Each label ends with the footprint once the run is over: the highest address in use over the live bytes
// asked for (rounding and holes included). The target is under 1.5x for tlsf; the floor's power-of-two
// rounding alone costs it about 1.4x.

import { Allocator } from '../../kernel/alloc.js';
import { FirstFit } from '../baselines/firstfit.js';
import { SegregatedFloor } from '../baselines/segregated.js';
import {
  batched, batchTargetMs, calibrate, newBench, runAndSummarize, type Batch, type RunOptions, type Suite, type TaskSpec,
} from '../suite.js';

const LIVE = 10_000;
const MIN_SIZE = 16;
const MAX_SIZE = 4096;
/** Sizes and victims are drawn from tables this long (a power of two, cycled with a mask). */
const TABLE = 1 << 16;
/** Address space for tlsf and firstfit: about 9x the live bytes, so no allocation ever fails for lack of room. */
const HEAP_BYTES = 64 * 1024 * 1024;
/** Above this, the tlsf footprint target is missed. */
const FOOTPRINT_TARGET = 1.5;

/** What the churn needs from an allocator. The baselines are told the size on free; the kernel's ignores it. */
interface Heap {
  alloc(size: number): number;
  free(addr: number, size: number): unknown;
}

/** mulberry32: a small seeded generator, so every allocator sees the same sizes and victims. */
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

/** LIVE blocks on one heap, replaced one pair at a time. */
class Churn {
  private readonly addrs = new Float64Array(LIVE);
  private readonly sizes = new Float64Array(LIVE);
  private next = 0;

  constructor(private readonly heap: Heap) {
    for (let j = 0; j < LIVE; j++) this.place(j, SIZES[(j * 7919) & (TABLE - 1)]!);
  }

  readonly batch: Batch = async (ops) => {
    const start = performance.now();
    for (let i = 0; i < ops; i++) {
      const k = this.next;
      const j = VICTIMS[k]!;
      this.heap.free(this.addrs[j]!, this.sizes[j]!);
      this.place(j, SIZES[k]!);
      this.next = (k + 1) & (TABLE - 1);
    }
    return performance.now() - start;
  };

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

interface ChurnTask {
  readonly id: string;
  readonly label: string;
  readonly churn: Churn;
  /** Operations in the calibration probes: first fit is slow enough that 1000 would take most of a second. */
  readonly probeOps: number;
}

export const allocSuite: Suite = {
  id: 'alloc',
  title: 'Physical memory allocator',
  comparisons: [
    { figure: 'alloc/tlsf', baseline: 'alloc/floor', relation: 'within', factor: 3 },
    { figure: 'alloc/tlsf', baseline: 'alloc/firstfit', relation: 'faster', factor: 50 },
  ],

  async run(opts: RunOptions) {
    const tasks: readonly ChurnTask[] = [
      { id: 'alloc/floor', label: 'bare segregated fit: power-of-two stacks, no split or merge', churn: new Churn(new SegregatedFloor()), probeOps: 10_000 },
      { id: 'alloc/tlsf', label: 'kernel allocator (TLSF): free by address + alloc', churn: new Churn(new Allocator(HEAP_BYTES)), probeOps: 10_000 },
      { id: 'alloc/firstfit', label: 'first fit over a sorted coalescing free list', churn: new Churn(new FirstFit(HEAP_BYTES)), probeOps: 100 },
    ];
    // Nothing to release afterwards: the heaps are plain objects.
    const bench = newBench('alloc', opts);
    const specs: TaskSpec[] = [];
    for (const t of tasks) {
      const ops = await calibrate(t.churn.batch, t.probeOps, batchTargetMs(opts));
      bench.add(t.id, batched(t.churn.batch, ops), { async: true });
      specs.push({ id: t.id, label: t.label, opsPerSample: ops });
    }
    const summaries = await runAndSummarize(bench, specs);
    return summaries.map((s, i) => {
      const footprint = tasks[i]!.churn.footprint();
      if (s.id === 'alloc/tlsf' && footprint >= FOOTPRINT_TARGET && !opts.quick) {
        process.stderr.write(`bench: target missed: alloc/tlsf footprint ${footprint.toFixed(2)}x live bytes (target < ${FOOTPRINT_TARGET}x)\n`);
      }
      return { ...s, label: `${s.label}; footprint ${footprint.toFixed(2)}x live` };
    });
  },
};
