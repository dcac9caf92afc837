// Pipe throughput, the writer (a batch program, bench/programs/batch.js): per batch, an 8-byte header (the
// batch's byte count, a little-endian float64), then `ops` writes of `size` bytes into a pipe whose read end is
// the stdin of a child (pipe-sink.js), then one acknowledgement byte read back from the child's stdout once it has
// read them all. The stream protocol of bench/workers/stream.ts, which the baselines speak over their transports.
// The three programs pipe-stream-{64,4k,64k}.js run this with their write size.
import { sys, O_CLOEXEC, WEXITSTATUS, WIFEXITED } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);

export async function stream(size) {
  // O_CLOEXEC: only the sink gets the ends given in `fds`; the parent closes its copies of the sink's ends, so
  // that the sink sees end of file when this process closes the write end.
  const data = sys.pipe2(O_CLOEXEC);
  const ack = sys.pipe2(O_CLOEXEC);
  const sink = sys.spawn({ path: here('pipe-sink.js'), argv: ['pipe-sink'], fds: [data.rfd, ack.wfd, 2] });
  sys.close(data.rfd);
  sys.close(ack.wfd);
  const { write, read } = sys;
  const out = data.wfd;
  const chunk = new Uint8Array(size).fill(0x5a);
  const header = new Uint8Array(8);
  const headerView = new DataView(header.buffer);

  // Writes all of bytes; a write returns short only when a signal cut it, which nothing here sends.
  const writeAll = (bytes) => {
    for (let off = write(out, bytes); off < bytes.length; ) off += write(out, bytes.subarray(off));
  };
  const batch = (ops) => {
    headerView.setFloat64(0, ops * size, true);
    const start = monotonicMs();
    writeAll(header);
    for (let i = 0; i < ops; i++) writeAll(chunk);
    if (read(ack.rfd, 1).length !== 1) throw new Error('the sink closed its stdout');
    return monotonicMs() - start;
  };
  await serveBatches(batch);
  sys.close(out);
  const { status } = sys.waitpid(sink, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) === 0 ? 0 : 1;
}
