// The operating-system pipe baselines: a Node child process (not a worker thread) at each end of two named FIFOs,
// moving bytes with blocking read(2) and write(2) through fs.readSync and fs.writeSync on descriptors opened
// without O_NONBLOCK, so a side that must wait sleeps in the kernel's pipe code. The host side is
// bench/baselines/os-pipe.ts; the batch protocols are workers/stream.ts's, as for the raw ring.
//
//   node os-pipe.js writer <data fifo> <ack fifo>   throughput driver: batches requested over the IPC channel
//   node os-pipe.js sink   <data fifo> <ack fifo>   its peer; exits at end of stream
//   node os-pipe.js ping   <out fifo>  <back fifo>  latency driver
//   node os-pipe.js pong   <in fifo>   <out fifo>   its peer; exits at end of stream
//
// Opening a FIFO blocks until its other end is opened; both sides open the first FIFO, then the second, so the
// two rendezvous in order.

import { openSync, readSync, writeSync } from 'node:fs';
import { Feeder, ping, pong, sink, type ByteStream, type DriverRequest } from './stream.js';

function fdStream(fd: number): ByteStream {
  return {
    writeAll(src) {
      for (let off = 0; off < src.length; ) off += writeSync(fd, src, off, src.length - off);
    },
    read(dst) {
      return readSync(fd, dst, 0, dst.length, null);
    },
  };
}

/** A driver: serves batch requests from the host over the IPC channel, answering each with its time in ms. */
function drive(run: (req: DriverRequest) => number): void {
  process.on('message', (req: DriverRequest) => process.send!(run(req)));
  process.send!('ready');
}

const [role, first, second] = process.argv.slice(2);
if (first === undefined || second === undefined) throw new Error('usage: os-pipe.js <role> <fifo> <fifo>');
switch (role) {
  case 'writer': {
    const feeder = new Feeder(fdStream(openSync(first, 'w')), fdStream(openSync(second, 'r')));
    drive((req) => feeder.batch(req.ops, req.size));
    break;
  }
  case 'sink':
    sink(fdStream(openSync(first, 'r')), fdStream(openSync(second, 'w')));
    break;
  case 'ping': {
    const out = fdStream(openSync(first, 'w'));
    const back = fdStream(openSync(second, 'r'));
    const byte = new Uint8Array(1);
    drive((req) => ping(out, back, req.ops, byte));
    break;
  }
  case 'pong':
    pong(fdStream(openSync(first, 'r')), fdStream(openSync(second, 'w')));
    break;
  default:
    throw new Error(`unknown role '${role}'`);
}
