// Writes "line 1" .. "line N" to stdout.
import { writeAll } from 'agentix/userland';

export default function main(argv) {
  const n = Number(argv[1] ?? 10);
  let batch = '';
  for (let i = 1; i <= n; i++) {
    batch += `line ${i}\n`;
    if (batch.length > 3000) {
      writeAll(1, batch);
      batch = '';
    }
  }
  writeAll(1, batch);
  return 0;
}
