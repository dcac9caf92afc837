// Suite: process creation. A trivial program (bench/programs/true.js returns 0 at once) is spawned, runs, exits
// and is reaped, beside a cold worker-thread start in the same run.
//
// Figures:
//   spawn-wait   kernel.spawn(true.js).wait() from the host: process table entry, a warm pooled worker, a fresh
//                sandbox (vm context, SDK) for the program, load and run it, exit, release, and the exit status.
//                One spawn per sample, timed by tinybench around the host's await, back to back: each spawn
//                also competes for the two cores with the preparation of the sandbox that replaces the one the
//                previous process used, and piscina starts extra (cold) workers when every warm one is busy.
//   spawn-idle   the same spawn after a 10 ms pause (outside the sample), so that the pool is idle and every
//                sandbox prepared: the latency of one spawn on a quiet machine, like the cold-worker figure.
//   in-process   sys.spawn + sys.waitpid of true.js in a loop inside a process, batched and timed by the program
//                as the syscall suite does (bench/programs/spawn-wait.js).
//   cold-worker  new Worker(file) until its first message; the terminate that follows is outside the sample.
//                This is what a spawn would cost with no warm thread to reuse.

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Kernel } from '../../kernel/index.js';
import { BatchProgram, programPath } from '../program.js';
import type { FnReturnedObject } from 'tinybench';
import {
  assertNoBugs, batched, batchTargetMs, calibrate, measureThenRelease, newBench, runAndSummarize, settle,
  type RunOptions, type Suite,
} from '../suite.js';

const FIRST_MESSAGE = new URL('../workers/first-message.js', import.meta.url);
/** Long enough for the previous process's worker to prepare its next sandbox (about 2.5 ms of CPU) and go idle. */
const QUIET_MS = 10;

async function coldWorker(): Promise<FnReturnedObject> {
  const start = performance.now();
  const w = new Worker(FIRST_MESSAGE);
  await once(w, 'message');
  const up = performance.now() - start;
  await w.terminate();
  return { overriddenDuration: up, overriddenIterationCost: performance.now() - start };
}

export const spawnSuite: Suite = {
  id: 'spawn',
  title: 'Process creation',
  comparisons: [
    { figure: 'spawn/spawn-wait', baseline: 'spawn/cold-worker', relation: 'faster', factor: 20 },
    { figure: 'spawn/spawn-idle', baseline: 'spawn/cold-worker', relation: 'faster', factor: 20 },
    { figure: 'spawn/in-process', baseline: 'spawn/cold-worker', relation: 'faster' },
  ],

  async run(opts: RunOptions) {
    const kernel = await Kernel.boot();
    const trivial = programPath('true.js');
    const parent = new BatchProgram(kernel, 'spawn-wait.js');
    const spawnWait = async (): Promise<void> => {
      const r = await kernel.spawn(trivial, [], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }).wait();
      if (r.code !== 0) throw new Error(`true.js ended with code ${r.code}, signal ${r.signalName}`);
    };
    const spawnIdle = async (): Promise<FnReturnedObject> => {
      const quiet = performance.now();
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      const start = performance.now();
      await spawnWait();
      const end = performance.now();
      return { overriddenDuration: end - start, overriddenIterationCost: end - quiet };
    };
    return measureThenRelease(
      async () => {
        await settle(opts);
        const inProcessOps = await calibrate(parent.batch, 2, batchTargetMs(opts));
        const bench = newBench('spawn', opts);
        bench.add('spawn/spawn-wait', spawnWait, { async: true });
        bench.add('spawn/spawn-idle', spawnIdle, { async: true });
        bench.add('spawn/in-process', batched(parent.batch, inProcessOps), { async: true });
        bench.add('spawn/cold-worker', coldWorker, { async: true });
        const summaries = await runAndSummarize(bench, [
          { id: 'spawn/spawn-wait', label: 'kernel.spawn(true.js).wait() from the host', opsPerSample: 1 },
          { id: 'spawn/spawn-idle', label: `the same after ${QUIET_MS} ms of quiet (pool idle)`, opsPerSample: 1 },
          { id: 'spawn/in-process', label: 'sys.spawn + sys.waitpid of true.js in a process', opsPerSample: inProcessOps },
          { id: 'spawn/cold-worker', label: 'cold new Worker() to its first message', opsPerSample: 1 },
        ]);
        assertNoBugs('spawn', kernel.bugs);
        return summaries;
      },
      [() => parent.close(), () => kernel.shutdown()],
    );
  },
};
