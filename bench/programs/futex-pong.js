// Futex ping-pong, the ponger (started by futex-ping.js with the segment's name): sleeps until it has the turn,
// hands it back and wakes the pinger; exits 0 when the pinger ends the game.
import { sys, O_RDWR } from 'agentix/userland';
import { futexWait, TURN_END, TURN_PING } from './futex-ping.js';

const { load, store } = Atomics;

export default function main(argv) {
  const { addr, bytes } = sys.fdmap(sys.shm_open(O_RDWR, 0, argv[1]));
  const word = new Int32Array(bytes.buffer, 0, 1);
  const { futex_wake } = sys;
  for (;;) {
    while (load(word, 0) === TURN_PING) futexWait(addr, TURN_PING);
    if (load(word, 0) === TURN_END) return 0;
    store(word, 0, TURN_PING);
    futex_wake(addr, 1);
  }
}
