// Pipe latency, the pinger (a batch program): `ops` one-byte round trips to a child (pipe-pong.js) over two pipes,
// the child's stdin and stdout: write one byte, read it back.
import { sys, O_CLOEXEC, WEXITSTATUS, WIFEXITED } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);

export default async function main() {
  const there = sys.pipe2(O_CLOEXEC);
  const back = sys.pipe2(O_CLOEXEC);
  const pong = sys.spawn({ path: here('pipe-pong.js'), argv: ['pipe-pong'], fds: [there.rfd, back.wfd, 2] });
  sys.close(there.rfd);
  sys.close(back.wfd);
  const { write, read } = sys;
  const out = there.wfd;
  const input = back.rfd;
  const byte = new Uint8Array([1]);
  const batch = (ops) => {
    const start = monotonicMs();
    for (let i = 0; i < ops; i++) {
      write(out, byte);
      if (read(input, 1).length !== 1) throw new Error('the ponger closed its stdout');
    }
    return monotonicMs() - start;
  };
  await serveBatches(batch);
  sys.close(out);
  const { status } = sys.waitpid(pong, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) === 0 ? 0 : 1;
}
