// Copies stdin to stdout in upper case.
import { sys, writeAll } from 'agentix/userland';

export default function main() {
  const decoder = new TextDecoder();
  for (;;) {
    const chunk = sys.read(0, 65536);
    if (chunk.length === 0) return 0;
    writeAll(1, decoder.decode(chunk, { stream: true }).toUpperCase());
  }
}
