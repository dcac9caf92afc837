// How a process's resources are released (docs/teaching/cleanup.md): a child takes a pipe, memory, a
// shared-memory object and a message queue, says it is ready, and waits for ever; its parent kills it, and the
// kernel releases everything it held, the last taken first.
// Run: agentix run --deterministic --trace examples/teaching/cleanup.js
import { sys, print, O_CREAT, O_RDWR, SIGKILL, WTERMSIG } from 'agentix/userland';

export default function main(argv) {
  if (argv[1] === 'holder') {
    const { rfd } = sys.pipe();
    sys.mmap(64 * 1024);
    const shm = sys.shm_open(O_RDWR | O_CREAT, 0o600, '/teaching-shm');
    sys.ftruncate(shm, 4096);
    sys.fdmap(shm);
    sys.mq_open(O_RDWR | O_CREAT, 0o600, 4, 64, '/teaching-mq');
    sys.write(1, 'ready');
    sys.read(rfd, 1); // parks for ever: it holds the only write end itself
    return 0;
  }
  const ready = sys.pipe();
  const holder = sys.spawn({ path: import.meta.url, argv: ['cleanup.js', 'holder'], fds: [0, ready.wfd, 2] });
  sys.close(ready.wfd);
  sys.read(ready.rfd, 5);
  sys.kill(holder, SIGKILL);
  const { status } = sys.waitpid(holder, 0);
  // Names outlive their creator: unlink them, as a shell's `rm` would.
  sys.shm_unlink('/teaching-shm');
  sys.mq_unlink('/teaching-mq');
  print(`holder killed by signal ${WTERMSIG(status)}`);
  return 0;
}
