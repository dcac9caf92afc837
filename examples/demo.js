// `npm run demo`: a tour of what a process can do through the kernel, in one program.
import {
  print, sys, sleep, SIGKILL, SIGTERM, WEXITSTATUS, WIFSIGNALED, WTERMSIG, CLOCK_MONOTONIC,
} from 'agentix/userland';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);

function describe(status) {
  return WIFSIGNALED(status) ? `killed by signal ${WTERMSIG(status)}` : `exited with code ${WEXITSTATUS(status)}`;
}

export default function main() {
  const t0 = sys.clock_gettime(CLOCK_MONOTONIC);
  print(`demo: I am pid ${sys.getpid()}; every line you read went through write(2) on fd 1.`);

  print('\n1. spawn three children and reap them with waitpid');
  const kids = [0, 1, 2].map((i) => sys.spawn({ path: here('child.js'), argv: ['child', String(i)] }));
  for (const _ of kids) {
    const { pid, status } = sys.waitpid(-1, 0);
    print(`   reaped pid ${pid}: ${describe(status)}`);
  }

  print('\n2. a child that catches SIGTERM and shuts down cleanly');
  const graceful = sys.spawn({ path: here('graceful.js') });
  sleep(100);
  sys.kill(graceful, SIGTERM);
  print(`   pid ${graceful}: ${describe(sys.waitpid(graceful, 0).status)}`);

  print('\n3. a child that never stops, ended with SIGKILL');
  const spinner = sys.spawn({ path: here('spin.js') });
  sleep(100);
  sys.kill(spinner, SIGKILL);
  print(`   pid ${spinner}: ${describe(sys.waitpid(spinner, 0).status)}`);

  print('\n4. errors come back as errnos');
  try {
    sys.kill(30000, SIGTERM);
  } catch (e) {
    print(`   kill(30000) -> ${e.code}: ${e.message}`);
  }
  try {
    sys.waitpid(-1, 0);
  } catch (e) {
    print(`   waitpid with no children -> ${e.code}`);
  }

  const t1 = sys.clock_gettime(CLOCK_MONOTONIC);
  const ms = (t1.sec - t0.sec) * 1e3 + (t1.nsec - t0.nsec) / 1e6;
  print(`\ndemo done in ${ms.toFixed(0)} ms of monotonic time`);
  return 0;
}
