// The null syscall, synchronous: each sys.getpid() parks the thread on the channel until the kernel answers.
import { sys } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

function batch(ops) {
  const start = monotonicMs();
  for (let i = 0; i < ops; i++) sys.getpid();
  return monotonicMs() - start;
}

export default function main() {
  return serveBatches(batch);
}
