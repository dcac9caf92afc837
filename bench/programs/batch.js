// The program side of the batch protocol (the host side is bench/program.ts): read an operation count per line
// from stdin, run that many operations, answer the time they took in ms on one stdout line; exit 0 at end of
// stdin. The time is taken with clock_gettime(CLOCK_MONOTONIC), which the kernel answers from its own clock when
// it serves the call: the window runs from the kernel serving the first clock call to it serving the second, so
// it holds the batch plus one extra round trip, and nothing of the stdin/stdout exchange around it.
import { CLOCK_MONOTONIC, sys, writeAll } from 'agentix/userland';

/** The kernel's monotonic clock in ms. */
export function monotonicMs() {
  const { sec, nsec } = sys.clock_gettime(CLOCK_MONOTONIC);
  return sec * 1e3 + nsec / 1e6;
}

const NEWLINE = 10;

/** Serves batches until end of stdin. `op(ops)` runs one batch and returns (or resolves with) its time in ms. */
export async function serveBatches(op) {
  let line = '';
  for (;;) {
    const chunk = sys.read(0, 64);
    if (chunk.length === 0) return 0;
    for (const byte of chunk) {
      if (byte !== NEWLINE) {
        line += String.fromCharCode(byte);
        continue;
      }
      const ms = await op(Number(line));
      line = '';
      writeAll(1, `${ms}\n`);
    }
  }
}
