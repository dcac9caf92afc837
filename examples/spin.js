// A program that never ends on its own: run it and kill it (Ctrl-C, or `kill` from another process).
// `agentix run examples/spin.js` then Ctrl-C exits 130 (128 + SIGINT).
import { print, sleep } from 'agentix/userland';

export default function main() {
  print('spinning until a signal ends me');
  for (;;) sleep(50);
}
