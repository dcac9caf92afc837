// One pair of the many suite (bench/suites/many.ts), the pinger: makes two pipes and a child that echoes bytes
// (pipe-pong.js), makes one round trip so that both are up, then prints "ready". For each line "<ms>" on stdin
// it runs one-byte round trips for that many ms of the kernel's monotonic clock, timing each one, and prints one
// line of JSON: the count, the sum, and a histogram of round-trip times in buckets 2 % wide (bucket i holds times
// near 1.02^i ns). Exits 0 at end of stdin, after its child.
//
// A round trip's time is taken between consecutive clock_gettime calls, so it includes one clock call (a
// non-blocking syscall) besides the write and the blocking read.
import { sys, writeAll, CLOCK_MONOTONIC, O_CLOEXEC, WEXITSTATUS, WIFEXITED } from 'agentix/userland';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);
const NEWLINE = 10;
const BUCKET_BASE = Math.log(1.02);

export default function main() {
  const there = sys.pipe2(O_CLOEXEC);
  const back = sys.pipe2(O_CLOEXEC);
  const pong = sys.spawn({ path: here('pipe-pong.js'), argv: ['pipe-pong'], fds: [there.rfd, back.wfd, 2] });
  sys.close(there.rfd);
  sys.close(back.wfd);
  const { write, read, clock_gettime } = sys;
  const { log, round } = Math;
  const out = there.wfd;
  const input = back.rfd;
  const byte = new Uint8Array([1]);
  const nowNs = () => {
    const { sec, nsec } = clock_gettime(CLOCK_MONOTONIC);
    return sec * 1e9 + nsec;
  };
  const roundTrip = () => {
    write(out, byte);
    if (read(input, 1).length !== 1) throw new Error('the ponger closed its stdout');
  };

  const run = (ms) => {
    const buckets = new Map();
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = 0;
    let t0 = nowNs();
    const end = t0 + ms * 1e6;
    while (t0 < end) {
      roundTrip();
      const t1 = nowNs();
      const ns = t1 - t0;
      const b = round(log(ns) / BUCKET_BASE);
      buckets.set(b, (buckets.get(b) ?? 0) + 1);
      count++;
      sum += ns;
      if (ns < min) min = ns;
      if (ns > max) max = ns;
      t0 = t1;
    }
    return JSON.stringify({ count, sum, min, max, buckets: [...buckets] });
  };

  roundTrip();
  writeAll(1, 'ready\n');
  let line = '';
  for (;;) {
    const chunk = sys.read(0, 64);
    if (chunk.length === 0) break;
    for (const c of chunk) {
      if (c !== NEWLINE) {
        line += String.fromCharCode(c);
        continue;
      }
      writeAll(1, `${run(Number(line))}\n`);
      line = '';
    }
  }
  sys.close(out);
  const { status } = sys.waitpid(pong, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) === 0 ? 0 : 1;
}
