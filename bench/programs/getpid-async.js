// The null syscall through promises: each `await sysAsync.getpid()` waits for the answer without blocking the
// thread (a bounded spin, then Atomics.waitAsync).
import { sysAsync } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

async function batch(ops) {
  const start = monotonicMs();
  for (let i = 0; i < ops; i++) await sysAsync.getpid();
  return monotonicMs() - start;
}

export default function main() {
  return serveBatches(batch);
}
