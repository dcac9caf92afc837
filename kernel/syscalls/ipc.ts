// IPC syscalls: pipes, shared memory, futexes, message queues. The objects are in ../pipe.ts, ../shm.ts,
// ../futex.ts and ../mq.ts; these handlers check descriptors and install what the objects make.

import { ERRNO } from '../../abi/errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../../abi/syscalls.js';
import type { OpenFile } from '../fd.js';
import type { KernelCore as Kernel } from '../kernel.js';
import type { Handler } from '../executor.js';
import { MqFile } from '../mq.js';
import { Pipe } from '../pipe.js';
import type { Proc } from '../proc.js';

/** Installs a file an object just made; on failure the file is let go at once (no descriptor ever held it). */
function installNew(p: Proc, f: OpenFile | number, cloexec: boolean): number {
  if (typeof f === 'number') return f;
  const fd = p.fds.install(f, -1, cloexec);
  if (fd < 0) f.release();
  return fd;
}

function makePipe(k: Kernel, p: Proc, flags: number): number {
  const ends = Pipe.create(k, p, k.params.pipeBytes, (flags & O_NONBLOCK) !== 0);
  if (typeof ends === 'number') return ends;
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const [r, w] = ends;
  const rfd = p.fds.install(r, -1, cloexec);
  if (rfd < 0) {
    r.release();
    w.release();
    return rfd;
  }
  const wfd = p.fds.install(w, -1, cloexec);
  if (wfd < 0) {
    w.release();
    p.fds.close(rfd);
    return wfd;
  }
  k.setRet1(p, wfd);
  return rfd;
}

/** pipe implements pipe(2). */
export const pipe: Handler<'pipe', Kernel> = (k, p) => makePipe(k, p, 0);

/** pipe2 implements pipe2(2) with O_NONBLOCK and O_CLOEXEC. */
export const pipe2: Handler<'pipe2', Kernel> = (k, p, flags) => makePipe(k, p, flags);

/** shm_open implements shm_open(3); the descriptor is close-on-exec, as POSIX requires. */
export const shm_open: Handler<'shm_open', Kernel> = (k, p, oflag, mode, name) =>
  installNew(p, k.shm.open(p, name, oflag, mode), true);

/** shm_unlink implements shm_unlink(3). */
export const shm_unlink: Handler<'shm_unlink', Kernel> = (k, p, name) => k.shm.unlink(p, name);

/** futex_wait implements FUTEX_WAIT with a relative timeout in milliseconds. */
export const futex_wait: Handler<'futex_wait', Kernel> = (k, p, addr, expected, timeoutMs) =>
  k.futexes.wait(p, addr, expected, timeoutMs);

/** futex_wake implements FUTEX_WAKE. */
export const futex_wake: Handler<'futex_wake', Kernel> = (k, p, addr, count) => k.futexes.wake(p, addr, count);

/** mq_open implements mq_open(3). */
export const mq_open: Handler<'mq_open', Kernel> = (k, p, oflag, mode, maxmsg, msgsize, name) =>
  installNew(p, k.mqs.open(p, name, oflag, mode, maxmsg, msgsize), (oflag & O_CLOEXEC) !== 0);

function mqFile(p: Proc, mqd: number): MqFile | null {
  const f = p.fds.get(mqd);
  return f instanceof MqFile ? f : null;
}

/** mq_send implements mq_timedsend(3) with a relative timeout (-1: none). */
export const mq_send: Handler<'mq_send', Kernel> = (k, p, mqd, prio, timeoutMs, msg) => {
  const f = mqFile(p, mqd);
  return f === null ? -ERRNO.EBADF.no : k.mqs.send(p, f, msg, prio, timeoutMs);
};

/** mq_receive implements mq_timedreceive(3): the message into the reply payload, its priority in ret1. */
export const mq_receive: Handler<'mq_receive', Kernel> = (k, p, mqd, timeoutMs) => {
  const f = mqFile(p, mqd);
  return f === null ? -ERRNO.EBADF.no : k.mqs.receive(p, f, p.channel.payload, timeoutMs);
};

/** mq_getattr implements mq_getattr(3). */
export const mq_getattr: Handler<'mq_getattr', Kernel> = (k, p, mqd) => {
  const f = mqFile(p, mqd);
  return f === null ? -ERRNO.EBADF.no : k.replyRecord(p, f.attr());
};

/** mq_unlink implements mq_unlink(3). */
export const mq_unlink: Handler<'mq_unlink', Kernel> = (k, p, name) => k.mqs.unlink(p, name);
