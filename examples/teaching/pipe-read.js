// What happens in a read() on an empty pipe (docs/teaching/pipe-read.md): the parent reads from a pipe its child
// has not written to yet, so the read parks; the child's write wakes it.
// Run: agentix run --deterministic --trace examples/teaching/pipe-read.js
import { sys, print } from 'agentix/userland';

export default function main(argv) {
  if (argv[1] === 'writer') {
    sys.write(1, 'hi'); // this process's stdout is the pipe's write end
    return 0;
  }
  const { rfd, wfd } = sys.pipe();
  const writer = sys.spawn({ path: import.meta.url, argv: ['pipe-read.js', 'writer'], fds: [0, wfd, 2] });
  sys.close(wfd);
  const got = sys.read(rfd, 100);
  print(`read ${got.length} bytes`);
  sys.waitpid(writer, 0);
  return 0;
}
