// The smallest Agentix program: a default export main(argv, env) that returns an exit code.
import { print, sys } from 'agentix/userland';

export default function main(argv) {
  const who = argv[1] ?? 'world';
  print(`Hello, ${who}! I am pid ${sys.getpid()}, child of pid ${sys.getppid()}.`);
  return 0;
}
