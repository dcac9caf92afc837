// A producer and two consumers over a priority queue: urgent jobs are taken before routine ones, and each
// consumer stops on a "stop" message, sent last at the lowest priority. Run: agentix run examples/mq.js
import { sys, print, O_CREAT, O_RDWR, O_WRONLY } from 'agentix/userland';

const here = (name) => import.meta.url.replace(/[^/]*$/, name);
const QUEUE = '/jobs';
const CONSUMERS = 2;

export default function main() {
  // Room for every job, so the producer queues them all before anyone starts taking them.
  const q = sys.mq_open(O_WRONLY | O_CREAT, 0o600, 64, 128, QUEUE);
  for (let i = 1; i <= 12; i++) {
    const urgent = i % 4 === 0;
    sys.mq_send(q, urgent ? 10 : 1, -1, `${urgent ? 'urgent' : 'routine'} job ${i}`);
  }
  for (let c = 0; c < CONSUMERS; c++) sys.mq_send(q, 0, -1, 'stop');
  const kids = [];
  for (let c = 0; c < CONSUMERS; c++) kids.push(sys.spawn({ path: here('stages/consumer.js'), argv: ['consumer', QUEUE, String(c)] }));
  for (const pid of kids) sys.waitpid(pid, 0);
  sys.mq_unlink(QUEUE);
  print('all jobs done');
  return 0;
}
