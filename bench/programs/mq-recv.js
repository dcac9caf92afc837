// Message queue throughput, the receiver (started by mq-send.js with the queue's name): per batch, a header
// message with the count, that many messages, then one acknowledgement byte on stdout; a count of -1 ends it.
import { sys, O_RDONLY } from 'agentix/userland';

export default function main(argv) {
  const q = sys.mq_open(O_RDONLY, 0, 0, 0, argv[1]);
  const { mq_receive, write } = sys;
  const ackByte = new Uint8Array([1]);
  for (;;) {
    const { data } = mq_receive(q, -1);
    const count = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(0, true);
    if (count < 0) return 0;
    for (let i = 0; i < count; i++) mq_receive(q, -1);
    write(1, ackByte);
  }
}
