// A child for examples/parent.js: says hello and exits with its index as the exit code.
import { print, sys } from 'agentix/userland';

export default function main(argv) {
  const i = Number(argv[1]);
  print(`  child ${i} is pid ${sys.getpid()} (parent ${sys.getppid()})`);
  return i;
}
