// A parent that spawns N children (examples/child.js) and reaps each one with waitpid.
import { print, sys, WEXITSTATUS } from 'agentix/userland';

const child = import.meta.url.replace(/[^/]*$/, 'child.js');

export default function main(argv) {
  const n = Number(argv[1] ?? 4);
  const pids = [];
  for (let i = 0; i < n; i++) pids.push(sys.spawn({ path: child, argv: ['child', String(i)] }));
  print(`parent ${sys.getpid()} spawned ${pids.join(', ')}`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const { pid, status } = sys.waitpid(-1, 0);
    print(`reaped ${pid}: exit ${WEXITSTATUS(status)}`);
    sum += WEXITSTATUS(status);
  }
  print(`all ${n} children reaped; exit codes sum to ${sum}`);
  return 0;
}
