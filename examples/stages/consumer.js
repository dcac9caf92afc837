// Takes jobs from the queue named argv[1], highest priority first, until a "stop" message.
import { sys, print, O_RDONLY } from 'agentix/userland';

export default function main(argv) {
  const q = sys.mq_open(O_RDONLY, 0, 0, 0, argv[1]);
  const decoder = new TextDecoder();
  for (;;) {
    const { data, prio } = sys.mq_receive(q, -1);
    const job = decoder.decode(data);
    if (job === 'stop') return 0;
    print(`consumer ${argv[2]} took ${job} (priority ${prio})`);
  }
}
