// A program that catches SIGTERM, finishes its work unit, and exits cleanly with code 0.
import { print, signal, sleep, SIGTERM } from 'agentix/userland';

export default function main() {
  let stop = false;
  signal(SIGTERM, () => {
    print('SIGTERM received: finishing up');
    stop = true;
  });
  print('working; send SIGTERM to stop me');
  let units = 0;
  while (!stop) {
    try {
      sleep(20);
    } catch (e) {
      if (e.code !== 'EINTR') throw e; // the signal cut the sleep short
    }
    units++;
  }
  print(`stopped cleanly after ${units} work units`);
  return 0;
}
