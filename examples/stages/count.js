// Counts lines and bytes on stdin, and prints the last line.
import { sys, print } from 'agentix/userland';

export default function main() {
  let lines = 0;
  let bytes = 0;
  let tail = '';
  const decoder = new TextDecoder();
  for (;;) {
    const chunk = sys.read(0, 65536);
    if (chunk.length === 0) break;
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-64);
  }
  const last = tail.trimEnd().split('\n').pop();
  print(`${lines} lines, ${bytes} bytes, last: ${last}`);
  return 0;
}
