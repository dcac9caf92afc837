// Message queue, one process: each operation sends a 64-byte message to a queue of its own and receives it back,
// so neither call ever waits. pipe-self.js does the same through a pipe.
import { sys, O_CREAT, O_EXCL, O_RDWR } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

const MSG_BYTES = 64;

export default function main() {
  const name = `/bench-mq-self-${sys.getpid()}`;
  const q = sys.mq_open(O_RDWR | O_CREAT | O_EXCL, 0o600, 16, MSG_BYTES, name);
  sys.mq_unlink(name); // the queue lives on while this descriptor is open
  const { mq_send, mq_receive } = sys;
  const msg = new Uint8Array(MSG_BYTES).fill(0x5a);
  return serveBatches((ops) => {
    const start = monotonicMs();
    for (let i = 0; i < ops; i++) {
      mq_send(q, 0, -1, msg);
      mq_receive(q, -1);
    }
    return monotonicMs() - start;
  });
}
