// The raw SharedArrayBuffer floors of the IPC suite, run by two bare worker threads (the host side is
// bench/baselines/pair.ts): nothing of Agentix but the ring code itself, no sandbox, no SDK, no kernel.
//
//   stream-writer / stream-sink   pipe throughput: the batch protocol of workers/stream.ts over two rings made
//                                 and driven by abi/ring.ts's ringWrite/ringRead (the code a pipe runs), the
//                                 same capacity as the kernel's pipes
//   ping / pong                   pipe latency: one-byte round trips over two such rings
//   futex-ping / futex-pong       a turn word flipped back and forth, each side sleeping in Atomics.wait until
//                                 it is its turn and waking the other with Atomics.notify: what the Agentix
//                                 futex ping-pong does through futex_wait and futex_wake
//
// A side that finds its ring empty (reader) or full (writer) sleeps in Atomics.wait, with no spinning first, on
// the counter the other side moves, by the ring's own sleep protocol (ringSleepForData / ringSleepForRoom, and
// the notify inside ringWrite / ringRead): the handshake a pipe's fast path uses when it waits in place
// (userland/fastio.ts), here with no time limit and no kernel to fall back to.

import { parentPort, workerData } from 'node:worker_threads';
import { PIPE_BUF } from '../../abi/limits.js';
import { ringOf, ringRead, ringSleepForData, ringSleepForRoom, ringWrite, type Ring } from '../../abi/ring.js';
import { Feeder, ping, pong, sink, type ByteStream, type DriverRequest } from './stream.js';

export type SabRole = 'stream-writer' | 'stream-sink' | 'ping' | 'pong' | 'futex-ping' | 'futex-pong';

export interface SabWorkerData {
  readonly role: SabRole;
  /** Rings (stream and ping roles): the first carries bytes from the driver to its peer, the second back.
   *  Futex roles: the first holds the turn word. */
  readonly sabs: readonly [SharedArrayBuffer, SharedArrayBuffer];
}

/** What each side writes as its lock owner: any non-zero value, as a pid would be. */
const OWNER = 1;
/** The futex turn word: whose turn it is (a fresh SharedArrayBuffer is zeroed, so the pinger starts). */
const TURN_PING = 0;
const TURN_PONG = 1;

const { load, wait, notify, store } = Atomics;

/** One end of a ring as a blocking byte stream. The stream never ends: the host terminates the workers. */
function ringStream(sab: SharedArrayBuffer): ByteStream {
  const ring: Ring = ringOf(sab)!;
  return {
    writeAll(src) {
      const atomic = src.length <= PIPE_BUF;
      let off = 0;
      while (off < src.length) {
        const n = ringWrite(ring, off === 0 ? src : src.subarray(off), atomic, OWNER);
        if (n > 0) {
          off += n;
          continue;
        }
        if (n < 0) throw new Error(`ringWrite failed (${n}): one writer cannot find the ring busy or corrupt`);
        ringSleepForRoom(ring, atomic ? src.length - off : 1, Infinity);
      }
    },
    read(dst) {
      for (;;) {
        const n = ringRead(ring, dst, OWNER);
        if (n > 0) return n;
        if (n < 0) throw new Error(`ringRead failed (${n}): one reader cannot find the ring busy or corrupt`);
        ringSleepForData(ring, Infinity);
      }
    },
  };
}

function futexPing(word: Int32Array, ops: number): number {
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    store(word, 0, TURN_PONG);
    notify(word, 0, 1);
    while (load(word, 0) === TURN_PONG) wait(word, 0, TURN_PONG);
  }
  return performance.now() - start;
}

/** Never returns: the host terminates the worker. */
function futexPong(word: Int32Array): never {
  for (;;) {
    while (load(word, 0) === TURN_PING) wait(word, 0, TURN_PING);
    store(word, 0, TURN_PING);
    notify(word, 0, 1);
  }
}

/** A driver: serves batch requests from the host, answering each with its time in ms. */
function drive(run: (req: DriverRequest) => number): void {
  parentPort!.on('message', (req: DriverRequest) => parentPort!.postMessage(run(req)));
  parentPort!.postMessage('ready');
}

const { role, sabs } = workerData as SabWorkerData;
const [there, back] = sabs;
switch (role) {
  case 'stream-writer': {
    const feeder = new Feeder(ringStream(there), ringStream(back));
    drive((req) => feeder.batch(req.ops, req.size));
    break;
  }
  case 'stream-sink':
    parentPort!.postMessage('ready');
    sink(ringStream(there), ringStream(back));
    break;
  case 'ping': {
    const out = ringStream(there);
    const input = ringStream(back);
    const byte = new Uint8Array(1);
    drive((req) => ping(out, input, req.ops, byte));
    break;
  }
  case 'pong':
    parentPort!.postMessage('ready');
    pong(ringStream(there), ringStream(back));
    break;
  case 'futex-ping': {
    const word = new Int32Array(there, 0, 1);
    drive((req) => futexPing(word, req.ops));
    break;
  }
  case 'futex-pong':
    parentPort!.postMessage('ready');
    futexPong(new Int32Array(there, 0, 1));
    break;
  default: {
    const never: never = role;
    throw new Error(`unknown role ${String(never)}`);
  }
}
