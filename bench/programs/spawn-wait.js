// spawn + waitpid from inside a process: each operation starts true.js as a child and reaps it.
import { sys, WEXITSTATUS, WIFEXITED } from 'agentix/userland';
import { monotonicMs, serveBatches } from './batch.js';

// A vm context has no URL class; the program's own URL is a string.
const TRUE = import.meta.url.replace(/[^/]*$/, 'true.js');

function batch(ops) {
  const start = monotonicMs();
  for (let i = 0; i < ops; i++) {
    const pid = sys.spawn({ path: TRUE, argv: ['true'] });
    const { status } = sys.waitpid(pid, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) !== 0) throw new Error(`child ${pid} ended with status ${status}`);
  }
  return monotonicMs() - start;
}

export default function main() {
  return serveBatches(batch);
}
