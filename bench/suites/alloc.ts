// Suite: the physical memory allocator (kernel/alloc.ts) under churn, with and without its quick lists, beside two
// baselines in the same run.
//
// Workload (the loop is bench/baselines/churn.ts). 10,000 blocks are live, with sizes log-uniform from 16 B to
// 4 KiB (mean about 740 B). One operation is a pair: free a live block picked at random, then allocate a new block
// of a random size in its place, so the number of live blocks stays at 10,000 and the heap reaches a steady state
// of holes and coalescing. The sizes and the victims come from a seeded generator (65,536 of each, cycled),
// identical for every allocator; a sample is a batch of pairs timed around the loop, so the harness's own cost
// (picking the victim) is in every figure alike.
//
// Each allocator runs its own instance of the loop (churn.ts explains why), all in the same run.
//
// Figures:
//   tlsf       the kernel's allocator: free(addr) looks the block up by address; a small block goes to its quick
//              list (an exact-size stack) while the cache is within its share, else it coalesces; alloc takes an
//              exact-size cached block first, else splits.
//   tlsf-eager the same allocator with the quick lists off (cacheShare 0): every free coalesces at once. The gap
//              to tlsf is what the quick lists buy.
//   floor      bare segregated fit (bench/baselines/segregated.ts): power-of-two classes, plain arrays as free
//              stacks, a bump pointer, no splitting, no coalescing, and free is told the size (no lookup). The
//              least any segregated-fit allocator can do.
//   firstfit   first fit over one address-sorted, coalescing free list (bench/baselines/firstfit.ts), free also
//              told the size: the textbook allocator whose cost grows with the number of holes.
// Each label ends with the footprint once the run is over: the highest address in use over the live bytes
// asked for (rounding, holes and cached blocks included). The target is under 1.5x for tlsf; the floor's
// power-of-two rounding alone costs it about 1.4x.

import { Allocator } from '../../kernel/alloc.js';
import type { Churn, Heap } from '../baselines/churn.js';
import { FirstFit } from '../baselines/firstfit.js';
import { SegregatedFloor } from '../baselines/segregated.js';
import {
  batchTargetMs, batched, calibrate, newBench, runAndSummarize, type RunOptions, type Suite, type TaskSpec,
} from '../suite.js';

/** Address space for tlsf and firstfit: about 9x the live bytes, so no allocation ever fails for lack of room. */
const HEAP_BYTES = 64 * 1024 * 1024;
/** Above this, the tlsf footprint target is missed. */
const FOOTPRINT_TARGET = 1.5;

type ChurnModule = typeof import('../baselines/churn.js');

/** A churn over `heap` in a module instance of its own, keyed by the task id. */
async function churnOf(id: string, heap: Heap): Promise<Churn> {
  const url = new URL(`../baselines/churn.js?heap=${encodeURIComponent(id)}`, import.meta.url);
  const mod = (await import(url.href)) as ChurnModule;
  return new mod.Churn(heap);
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
    { figure: 'alloc/tlsf-eager', baseline: 'alloc/floor', relation: 'within' },
  ],

  async run(opts: RunOptions) {
    const tasks: readonly ChurnTask[] = [
      { id: 'alloc/floor', label: 'bare segregated fit: power-of-two stacks, no split or merge', churn: await churnOf('floor', new SegregatedFloor()), probeOps: 10_000 },
      { id: 'alloc/tlsf', label: 'kernel allocator (TLSF + quick lists): free by address + alloc', churn: await churnOf('tlsf', new Allocator(HEAP_BYTES)), probeOps: 10_000 },
      { id: 'alloc/tlsf-eager', label: 'kernel allocator, quick lists off: every free coalesces', churn: await churnOf('tlsf-eager', new Allocator(HEAP_BYTES, { cacheShare: 0 })), probeOps: 10_000 },
      { id: 'alloc/firstfit', label: 'first fit over a sorted coalescing free list', churn: await churnOf('firstfit', new FirstFit(HEAP_BYTES)), probeOps: 100 },
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
