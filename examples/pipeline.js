// A three-stage pipeline wired as a shell wires `seq 1 N | upper | count`: two pipes, each child's stdin and
// stdout redirected onto them by spawn's descriptor map. Run: agentix run examples/pipeline.js [lines]
import { sys, print, O_CLOEXEC, WEXITSTATUS } from 'agentix/userland';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);

export default function main(argv) {
  const lines = argv[1] ?? '1000';
  // O_CLOEXEC: the pipes reach only the children given them in `fds`, so each end closes when its users exit.
  const a = sys.pipe2(O_CLOEXEC);
  const b = sys.pipe2(O_CLOEXEC);
  const stages = [
    sys.spawn({ path: here('stages/lines.js'), argv: ['lines', lines], fds: [0, a.wfd, 2] }),
    sys.spawn({ path: here('stages/upper.js'), argv: ['upper'], fds: [a.rfd, b.wfd, 2] }),
    sys.spawn({ path: here('stages/count.js'), argv: ['count'], fds: [b.rfd, 1, 2] }),
  ];
  // The parent keeps no end: the reader of each pipe sees end of file when its writer exits.
  for (const fd of [a.rfd, a.wfd, b.rfd, b.wfd]) sys.close(fd);
  let failed = 0;
  for (const pid of stages) if (WEXITSTATUS(sys.waitpid(pid, 0).status) !== 0) failed++;
  print(`pipeline done: ${stages.length - failed} of ${stages.length} stages succeeded`);
  return failed;
}
