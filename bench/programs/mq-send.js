// Message queue throughput, the sender (a batch program): per batch, a header message (the batch's message count,
// a little-endian float64), then `ops` messages of 64 bytes to a child (mq-recv.js), then one acknowledgement byte
// read from the child's stdout once it has received them all: the pipe throughput protocol (pipe-stream.js) with
// messages instead of writes. The queue holds 1,024 messages, as many 64-byte messages as a 64 KiB pipe.
import { sys, O_CLOEXEC, O_CREAT, O_EXCL, O_WRONLY, WEXITSTATUS, WIFEXITED } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);
const MSG_BYTES = 64;
const MAX_MSGS = 1024;

export default async function main() {
  const name = `/bench-mq-${sys.getpid()}`;
  const q = sys.mq_open(O_WRONLY | O_CREAT | O_EXCL, 0o600, MAX_MSGS, MSG_BYTES, name);
  const ack = sys.pipe2(O_CLOEXEC);
  const recv = sys.spawn({ path: here('mq-recv.js'), argv: ['mq-recv', name], fds: [-1, ack.wfd, 2] });
  sys.close(ack.wfd);
  const { mq_send, read } = sys;
  const msg = new Uint8Array(MSG_BYTES).fill(0x5a);
  const header = new Uint8Array(8);
  const headerView = new DataView(header.buffer);
  const batch = (ops) => {
    headerView.setFloat64(0, ops, true);
    const start = monotonicMs();
    mq_send(q, 0, -1, header);
    for (let i = 0; i < ops; i++) mq_send(q, 0, -1, msg);
    if (read(ack.rfd, 1).length !== 1) throw new Error('the receiver closed its stdout');
    return monotonicMs() - start;
  };
  await serveBatches(batch);
  headerView.setFloat64(0, -1, true); // the end
  mq_send(q, 0, -1, header);
  const { status } = sys.waitpid(recv, 0);
  sys.mq_unlink(name);
  return WIFEXITED(status) && WEXITSTATUS(status) === 0 ? 0 : 1;
}
