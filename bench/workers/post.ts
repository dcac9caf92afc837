// The postMessage baseline of pipe throughput (the host side is bench/baselines/pair.ts): a sender worker moves
// a batch's bytes to a receiver worker over a MessagePort, one message per write, each a fresh ArrayBuffer the
// sender fills from its source bytes (the copy a pipe writer makes into the ring) and transfers, so no byte is
// copied again on the way. The first message of a batch is its byte count; the receiver answers one message
// when it has received them all, and the sender times the batch from its first message to that answer, as the
// stream protocol of workers/stream.ts does.
//
// There is no flow control: postMessage queues without bound, so the sender never waits for room the way a pipe
// writer waits for a full ring. That is postMessage as it is; the batch size (calibrated to about 15 ms) bounds
// what can be queued.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { DriverRequest } from './stream.js';

export interface PostWorkerData {
  readonly role: 'sender' | 'receiver';
  readonly port: MessagePort;
}

const { role, port } = workerData as PostWorkerData;

if (role === 'sender') {
  let source = new Uint8Array(0);
  let acked: (() => void) | null = null;
  port.on('message', () => acked?.());
  const batch = async (req: DriverRequest): Promise<number> => {
    if (source.length !== req.size) source = new Uint8Array(req.size).fill(0x5a);
    const done = new Promise<void>((resolve) => (acked = resolve));
    const start = performance.now();
    port.postMessage(req.ops * req.size);
    for (let i = 0; i < req.ops; i++) {
      const bytes = new Uint8Array(req.size);
      bytes.set(source);
      port.postMessage(bytes, [bytes.buffer]);
    }
    await done;
    return performance.now() - start;
  };
  parentPort!.on('message', (req: DriverRequest) => void batch(req).then((ms) => parentPort!.postMessage(ms)));
} else {
  let remaining = 0;
  port.on('message', (m: number | Uint8Array) => {
    remaining = typeof m === 'number' ? m : remaining - m.byteLength;
    if (remaining === 0) port.postMessage(0);
  });
}
parentPort!.postMessage('ready');
