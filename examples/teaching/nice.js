// How a nice value changes a schedule (docs/teaching/nice.md): two CPU-bound children, at nice 0 and nice 5,
// share one CPU. Each computes a little between syscalls, and a syscall is where the scheduler may switch.
// Run: agentix run --deterministic --seed 1 --trace=sched,process examples/teaching/nice.js
import { sys, print } from 'agentix/userland';

const CALLS = 2000;

export default function main(argv) {
  if (argv[1] === 'work') {
    let x = 1;
    for (let i = 0; i < CALLS; i++) {
      for (let j = 0; j < 2000; j++) x = (x * 31 + j) | 0;
      sys.getpid();
    }
    return x === 0 ? 1 : 0;
  }
  const kids = [0, 5].map((nice) => sys.spawn({ path: import.meta.url, argv: ['nice.js', 'work', `nice ${nice}`], nice }));
  const first = sys.waitpid(-1, 0).pid;
  sys.waitpid(-1, 0);
  print(`the child at nice ${first === kids[0] ? 0 : 5} finished first`);
  return 0;
}
