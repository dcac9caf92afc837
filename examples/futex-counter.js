// Two processes add to one counter in shared memory, each under a mutex built from a futex (Drepper's
// "futexes are tricky" mutex: 0 unlocked, 1 locked, 2 locked with waiters). Without the mutex, the two
// read-modify-write loops would lose updates. Run: agentix run examples/futex-counter.js [increments]
import { sys, print, O_CREAT, O_RDWR } from 'agentix/userland';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);
const SEGMENT = '/counter';

export default function main(argv) {
  const n = argv[1] ?? '20000';
  const fd = sys.shm_open(O_RDWR | O_CREAT, 0o600, SEGMENT);
  sys.ftruncate(fd, 4096);
  const { bytes } = sys.fdmap(fd);
  const words = new Int32Array(bytes.buffer);
  const kids = [0, 1].map(() => sys.spawn({ path: here('stages/adder.js'), argv: ['adder', SEGMENT, n] }));
  for (const pid of kids) sys.waitpid(pid, 0);
  print(`counter = ${words[1]} (expected ${2 * Number(n)})`);
  sys.shm_unlink(SEGMENT);
  return words[1] === 2 * Number(n) ? 0 : 1;
}
