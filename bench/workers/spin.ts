// A thread that keeps the other core busy while asked to, as a process spinning for its reply keeps it: it sleeps on
// word 0 until that is 1, says so in word 1, polls word 0 with Atomics.load until it is 0 again, then clears word 1
// and sleeps. The trace suite runs its formatting loop beside it to show what a busy sibling costs this machine.

import { workerData } from 'node:worker_threads';

const words = new Int32Array(workerData as SharedArrayBuffer);

for (;;) {
  Atomics.wait(words, 0, 0);
  Atomics.store(words, 1, 1);
  while (Atomics.load(words, 0) === 1);
  Atomics.store(words, 1, 0);
}
