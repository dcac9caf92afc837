// A process that spawns examples/spin.js and kills it with SIGKILL, then reports how it died.
import { print, sys, sleep, SIGKILL, WIFSIGNALED, WTERMSIG } from 'agentix/userland';

export default function main() {
  const pid = sys.spawn({ path: import.meta.url.replace(/[^/]*$/, 'spin.js') });
  sleep(50);
  sys.kill(pid, SIGKILL);
  const { status } = sys.waitpid(pid, 0);
  print(`child ${pid} ${WIFSIGNALED(status) ? `was killed by signal ${WTERMSIG(status)}` : 'exited'}`);
  return 0;
}
