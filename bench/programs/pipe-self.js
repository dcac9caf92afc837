// A pipe, one process: each operation writes 64 bytes into a pipe of its own and reads them back, so neither
// call waits and both take the fast path (no syscall). The baseline of mq-self.js.
import { sys } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

const MSG_BYTES = 64;

export default function main() {
  const { rfd, wfd } = sys.pipe();
  const { write, read } = sys;
  const msg = new Uint8Array(MSG_BYTES).fill(0x5a);
  return serveBatches((ops) => {
    const start = monotonicMs();
    for (let i = 0; i < ops; i++) {
      write(wfd, msg);
      read(rfd, MSG_BYTES);
    }
    return monotonicMs() - start;
  });
}
