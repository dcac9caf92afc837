// Pipe latency, the ponger (started by pipe-ping.js and by the many suite's pinger): writes back every byte it
// reads, one at a time; exits 0 at end of file.
import { sys } from 'agentix/userland';

export default function main() {
  const { read, write } = sys;
  for (;;) {
    const byte = read(0, 1);
    if (byte.length === 0) return 0;
    write(1, byte);
  }
}
