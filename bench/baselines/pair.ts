// The host side of the IPC suite's thread baselines: two bare worker threads, a driver that runs and times
// batches when the host asks (bench/workers/sab-ipc.ts's driver roles, or bench/workers/post.ts's sender) and
// the peer it talks to. The host only starts batches and collects their times (driver.ts), the way
// bench/pingpong.ts does.

import { MessageChannel, Worker } from 'node:worker_threads';
import { ringOf, RING_HEADER_BYTES, RING_READERS, RING_WRITERS } from '../../abi/ring.js';
import type { Batch } from '../suite.js';
import { DriverLink } from './driver.js';
import type { PostWorkerData } from '../workers/post.js';
import type { SabRole, SabWorkerData } from '../workers/sab-ipc.js';

const SAB_WORKER = new URL('../workers/sab-ipc.js', import.meta.url);
const POST_WORKER = new URL('../workers/post.js', import.meta.url);

function ready(w: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('message', () => resolve());
  });
}

/** A ring laid out as a pipe's (abi/ring.ts), with the header a new pipe gets: one reader and one writer open. */
export function newRing(capacity: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
  const ring = ringOf(sab);
  if (ring === null) throw new Error(`a ring of ${capacity} bytes is not a power of two`);
  Atomics.store(ring.i32, RING_READERS, 1);
  Atomics.store(ring.i32, RING_WRITERS, 1);
  return sab;
}

export class WorkerPair {
  private readonly link: DriverLink;

  private constructor(
    private readonly driver: Worker,
    private readonly peer: Worker,
  ) {
    this.link = new DriverLink(Promise.all([ready(driver), ready(peer)]), (req) => driver.postMessage(req));
    driver.on('message', (ms: unknown) => this.link.answered(ms));
    for (const w of [driver, peer]) w.on('error', (e: unknown) => this.link.failed(e));
  }

  /** Raw SharedArrayBuffer roles over two rings laid out as a pipe's, each of `ringBytes` bytes of data. */
  static rings(driver: SabRole, peer: SabRole, ringBytes: number): WorkerPair {
    return WorkerPair.sab(driver, peer, [newRing(ringBytes), newRing(ringBytes)]);
  }

  /** The futex roles over one shared turn word. */
  static futex(): WorkerPair {
    const word = new SharedArrayBuffer(4);
    return WorkerPair.sab('futex-ping', 'futex-pong', [word, word]);
  }

  private static sab(driver: SabRole, peer: SabRole, sabs: readonly [SharedArrayBuffer, SharedArrayBuffer]): WorkerPair {
    const start = (role: SabRole): Worker => new Worker(SAB_WORKER, { workerData: { role, sabs } satisfies SabWorkerData });
    return new WorkerPair(start(driver), start(peer));
  }

  /** A postMessage sender and receiver joined by a MessageChannel of their own. */
  static post(): WorkerPair {
    const { port1, port2 } = new MessageChannel();
    const start = (data: PostWorkerData): Worker => new Worker(POST_WORKER, { workerData: data, transferList: [data.port] });
    return new WorkerPair(start({ role: 'sender', port: port1 }), start({ role: 'receiver', port: port2 }));
  }

  /** Batches of `ops` operations; `size` is the bytes per write for stream roles. */
  batch(size = 0): Batch {
    return this.link.batch(size);
  }

  async close(): Promise<void> {
    // The peers never return (they wait for bytes or turns forever); terminate ends a thread even in Atomics.wait.
    await Promise.all([this.driver.terminate(), this.peer.terminate()]);
  }
}
