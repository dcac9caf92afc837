// Adds 1 to word 1 of the shared segment argv[1], argv[2] times, under the futex mutex in word 0.
import { sys, O_RDWR } from 'agentix/userland';

const { compareExchange, exchange, sub, store } = Atomics;

function lock(words, addr) {
  let c = compareExchange(words, 0, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = exchange(words, 0, 2);
  while (c !== 0) {
    try {
      sys.futex_wait(addr, 2, -1); // sleeps only if the word still says "locked, with waiters"
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
    c = exchange(words, 0, 2);
  }
}

function unlock(words, addr) {
  if (sub(words, 0, 1) !== 1) {
    store(words, 0, 0);
    sys.futex_wake(addr, 1);
  }
}

export default function main(argv) {
  const fd = sys.shm_open(O_RDWR, 0, argv[1]);
  const { addr, bytes } = sys.fdmap(fd);
  const words = new Int32Array(bytes.buffer);
  for (let i = 0, n = Number(argv[2]); i < n; i++) {
    lock(words, addr);
    const v = words[1]; // a plain read-modify-write: only the mutex keeps it whole
    words[1] = v + 1;
    unlock(words, addr);
  }
  return 0;
}
