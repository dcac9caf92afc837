// The cold-start baseline for spawn: a worker that does nothing but announce that it is up. The time from
// `new Worker` to this message is what any thread-per-process design pays when it has no warm thread to reuse.

import { parentPort } from 'node:worker_threads';

parentPort!.postMessage('up');
