// Futex ping-pong's floor inside Agentix: futex-ping.js's game between two processes, with Atomics.wait and
// Atomics.notify on the turn word instead of futex_wait and futex_wake (what the same code costs in the sandbox).
import { ping } from './futex-ping.js';

export default function main() {
  return ping(true);
}
