// Futex ping-pong, the ponger (started by futex-ping.js or atomics-ping.js): hands the turn word back each time it
// gets it, until the pinger ends the game. argv: the segment's name, then 'futex' or 'raw' (Atomics).
import { sys, O_RDWR } from 'agentix/userland';
import { turns, TURN_END, TURN_PING, TURN_PONG } from './futex-ping.js';

const { load } = Atomics;

export default function main(argv) {
  const { addr, bytes } = sys.fdmap(sys.shm_open(O_RDWR, 0, argv[1]));
  const word = new Int32Array(bytes.buffer, 0, 1);
  const t = turns(addr, word, argv[2] === 'raw');
  for (;;) {
    t.await(TURN_PONG);
    if (load(word, 0) === TURN_END) return 0;
    t.give(TURN_PING);
  }
}
