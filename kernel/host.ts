// Hosting: piscina keeps worker threads warm so a spawn does not pay a cold worker start. One process occupies
// one worker for its whole life (it may block the thread in Atomics.wait). A process that exits hands its worker
// back; one killed by a signal, or that will not let go after exiting, has its worker terminated (piscina then
// starts a fresh one).

import { Piscina } from 'piscina';
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { ProcessTask } from '../userland/loader.js';

const LOADER = fileURLToPath(new URL('../userland/loader.js', import.meta.url));

export interface HostOptions {
  maxProcs: number;
  warmWorkers: number;
  workerIdleMs: number;
  heapMb: number;
}

export interface Running {
  /** Settles when the worker is done with the process: resolved after a clean exit, rejected if it crashed. */
  readonly done: Promise<void>;
  /** Terminates the worker thread now. */
  terminate(): void;
  /** Hands the process a region's buffer; it takes it synchronously (receiveMessageOnPort) when the call returns. */
  grant(sab: SharedArrayBuffer): void;
}

// piscina loads a worker's file with require() first, then import() if that fails. Since Node 20.19, require() of an
// ES module is on by default, and once in about 90,000 fuzz inputs a worker in that path aborted the whole host
// process (a native assertion in ModuleWrap::CreateRequiredModuleFacade, from piscina's require of the loader; the
// second one-hour fuzz run). Turned off in the workers, require() refuses the loader at once and piscina imports it.
const WORKER_FLAGS = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : [];

export class Host {
  private readonly pool: Piscina;

  constructor(opts: HostOptions) {
    this.pool = new Piscina({
      filename: LOADER,
      minThreads: Math.min(opts.warmWorkers, opts.maxProcs),
      maxThreads: opts.maxProcs,
      idleTimeout: opts.workerIdleMs,
      concurrentTasksPerWorker: 1,
      // Programs are compiled into vm contexts as ES modules; that API is still behind a flag in Node 20.
      execArgv: ['--experimental-vm-modules', '--no-warnings', ...WORKER_FLAGS],
      ...(opts.heapMb > 0 ? { resourceLimits: { maxOldGenerationSizeMb: opts.heapMb } } : {}),
      recordTiming: false,
    });
  }

  start(task: Omit<ProcessTask, 'grants'>): Running {
    const abort = new AbortController();
    // The grant port: a SharedArrayBuffer cannot travel inside the channel (itself a SharedArrayBuffer), so
    // regions reach the process as messages it reads synchronously while its call is being answered.
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    const done = this.pool.run({ ...task, grants: port2 }, { signal: abort.signal, transferList: [port2] }) as Promise<void>;
    void done.then(
      () => port1.close(),
      () => port1.close(),
    );
    return { done, terminate: () => abort.abort(), grant: (sab) => port1.postMessage(sab) };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
