// Futex ping-pong, the pinger (a batch program): a turn word in a shared-memory segment, flipped back and forth
// with a child (futex-pong.js). Each round trip: give the turn to the child and wake it (futex_wake), then sleep
// (futex_wait) until the child gives it back. bench/workers/sab-ipc.ts does the same with Atomics.wait and
// Atomics.notify between two bare threads; atomics-ping.js does it with Atomics between two Agentix processes.
import { sys, O_CREAT, O_EXCL, O_RDWR, WEXITSTATUS, WIFEXITED } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);
export const TURN_PING = 0;
export const TURN_PONG = 1;
export const TURN_END = 2;

const { load, store, wait, notify } = Atomics;

/** futex_wait that takes EAGAIN (the word changed before the kernel looked) as the wake it is. */
export function futexWait(addr, expected) {
  try {
    sys.futex_wait(addr, expected, -1);
  } catch (e) {
    if (e.code !== 'EAGAIN') throw e;
  }
}

/** Sleeps until the word no longer holds `expected`, then wakes the other side: with the SDK's futex calls, or
 *  (raw) with Atomics.wait/notify straight on the word, the floor for the same code inside Agentix processes. */
export function turns(addr, word, raw) {
  const { futex_wake } = sys;
  return {
    give(turn) {
      store(word, 0, turn);
      if (raw) notify(word, 0, 1);
      else futex_wake(addr, 1);
    },
    await(mine) {
      const other = mine === TURN_PING ? TURN_PONG : TURN_PING;
      while (load(word, 0) === other) {
        if (raw) wait(word, 0, other);
        else futexWait(addr, other);
      }
    },
  };
}

/** The pinger; raw: Atomics instead of futex calls (atomics-ping.js). */
export async function ping(raw) {
  const name = `/bench-futex-${sys.getpid()}`;
  const fd = sys.shm_open(O_RDWR | O_CREAT | O_EXCL, 0o600, name);
  sys.ftruncate(fd, 4096);
  const { addr, bytes } = sys.fdmap(fd);
  const word = new Int32Array(bytes.buffer, 0, 1);
  const pong = sys.spawn({ path: here('futex-pong.js'), argv: ['futex-pong', name, raw ? 'raw' : 'futex'], fds: [-1, -1, 2] });
  const t = turns(addr, word, raw);
  const batch = (ops) => {
    const start = monotonicMs();
    for (let i = 0; i < ops; i++) {
      t.give(TURN_PONG);
      t.await(TURN_PING);
    }
    return monotonicMs() - start;
  };
  await serveBatches(batch);
  t.give(TURN_END);
  const { status } = sys.waitpid(pong, 0);
  sys.shm_unlink(name);
  return WIFEXITED(status) && WEXITSTATUS(status) === 0 ? 0 : 1;
}

export default function main() {
  return ping(false);
}
