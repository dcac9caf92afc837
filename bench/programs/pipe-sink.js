// Pipe throughput, the reader (started by pipe-stream.js): reads each batch's header and the bytes it announces
// from stdin, in reads of up to 64 KiB (the most one read returns), and writes one acknowledgement byte to stdout
// when it has them all; exits 0 at end of file.
import { sys, readInto } from 'agentix/userland';

const HEADER = 8;
const READ_BYTES = 64 * 1024;

export default function main() {
  const { write } = sys;
  const { min } = Math;
  const header = new Uint8Array(HEADER);
  const headerView = new DataView(header.buffer);
  const ackByte = new Uint8Array([1]);
  let headerHave = 0;
  let remaining = 0;
  // readInto: one buffer for the whole run, as the raw ring's reader and the OS pipe's read(2) have.
  const bytes = new Uint8Array(READ_BYTES);
  for (;;) {
    const n = readInto(0, bytes);
    if (n === 0) return 0;
    let at = 0;
    while (at < n) {
      if (headerHave < HEADER) {
        const k = min(HEADER - headerHave, n - at);
        header.set(bytes.subarray(at, at + k), headerHave);
        headerHave += k;
        at += k;
        if (headerHave === HEADER) remaining = headerView.getFloat64(0, true);
      } else {
        const k = min(remaining, n - at);
        remaining -= k;
        at += k;
      }
      if (headerHave === HEADER && remaining === 0) {
        headerHave = 0;
        write(1, ackByte);
      }
    }
  }
}
