// POSIX message queues: named queues of messages with priorities. Highest priority first, oldest first within a
// priority. Blocking, non-blocking (O_NONBLOCK: EAGAIN) and timed (ETIMEDOUT) send and receive.
//
// The message bytes live in the queue's region, a SharedArrayBuffer of maxmsg slots of msgsize bytes; the order
// (a heap of slot numbers) and the lengths stay in kernel memory, where no process sharing the queue can corrupt
// them. Unlike a pipe, every send and receive comes to the kernel: a queue is a kernel object in POSIX too, and
// its priority order is what the kernel guarantees.
//
// A queue lives while its name is linked or a descriptor is open. Its storage is allocated at mq_open (charged
// against the creator's RLIMIT_AS) and charged to every process holding a descriptor to it.

import { ERRNO } from '../abi/errno.js';
import { MQ_PRIO_MAX } from '../abi/limits.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLIN, POLLOUT } from '../abi/syscalls.js';
import { BLOCK, type OpenFile } from './fd.js';
import { Holders, type Region } from './mm.js';
import type { Proc } from './proc.js';
import { Namespace, type Named } from './ipcname.js';
import { park, WaitQueue, type IpcKernel } from './waitq.js';

/** Linux's defaults for a queue created without attributes. */
const DEFAULT_MAXMSG = 10;
const DEFAULT_MSGSIZE = 8192;
/** Sequence numbers below this keep FIFO order within a priority in one Float64 key (prio above it). */
const SEQ_SPAN = 2 ** 36;

let lastId = 0;

export interface MqKernel extends IpcKernel {
  /** Sets the second result slot of p's call (the received message's priority). */
  setRet1(p: Proc, v: number): void;
}

class MessageQueue implements Named {
  readonly id = ++lastId;
  linked = true;
  opens = 0;
  readonly queue: WaitQueue;
  readonly holders: Holders;
  /** Free slots (a stack), and each slot's message length and priority. */
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly length: Int32Array;
  private readonly prio: Int32Array;
  /** Queued slots as a binary min-heap on key = (MQ_PRIO_MAX - prio) * SEQ_SPAN + seq. */
  private readonly heap: Int32Array;
  private readonly key: Float64Array;
  private count = 0;
  private seq = 0;
  private readonly bytes: Uint8Array;

  constructor(
    k: IpcKernel,
    readonly name: string,
    readonly mode: number,
    readonly maxmsg: number,
    readonly msgsize: number,
    readonly region: Region,
  ) {
    this.queue = new WaitQueue();
    this.holders = new Holders(k.memory, region);
    this.bytes = new Uint8Array(region.sab);
    this.free = new Int32Array(maxmsg);
    for (let i = 0; i < maxmsg; i++) this.free[i] = maxmsg - 1 - i;
    this.freeTop = maxmsg;
    this.length = new Int32Array(maxmsg);
    this.prio = new Int32Array(maxmsg);
    this.heap = new Int32Array(maxmsg);
    this.key = new Float64Array(maxmsg);
  }

  get size(): number {
    return this.count;
  }

  /** Queues a copy of msg; false when the queue is full. */
  push(msg: Uint8Array, prio: number): boolean {
    if (this.freeTop === 0) return false;
    const slot = this.free[--this.freeTop]!;
    this.bytes.set(msg, slot * this.msgsize);
    this.length[slot] = msg.length;
    this.prio[slot] = prio;
    this.key[slot] = (MQ_PRIO_MAX - prio) * SEQ_SPAN + (this.seq++ % SEQ_SPAN);
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = this.heap[parent]!;
      if (this.key[ps]! <= this.key[slot]!) break;
      this.heap[i] = ps;
      i = parent;
    }
    this.heap[i] = slot;
    return true;
  }

  /** Copies the first message into out; returns its length (its priority in prioOut[0]), or -1 when empty. */
  pop(out: Uint8Array, prioOut: Int32Array): number {
    if (this.count === 0) return -1;
    const slot = this.heap[0]!;
    const n = this.length[slot]!;
    out.set(this.bytes.subarray(slot * this.msgsize, slot * this.msgsize + n));
    prioOut[0] = this.prio[slot]!;
    const last = this.heap[--this.count]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.count) break;
      const r = l + 1;
      const c = r < this.count && this.key[this.heap[r]!]! < this.key[this.heap[l]!]! ? r : l;
      if (this.key[this.heap[c]!]! >= this.key[last]!) break;
      this.heap[i] = this.heap[c]!;
      i = c;
    }
    this.heap[i] = last;
    this.free[this.freeTop++] = slot;
    return n;
  }

  /** Free slots, and each queued message's slot, length and priority in heap order (read-only: for checkers). */
  get freeSlots(): number {
    return this.freeTop;
  }

  messages(): { slot: number; length: number; prio: number }[] {
    return Array.from(this.heap.subarray(0, this.count), (slot) => ({ slot, length: this.length[slot]!, prio: this.prio[slot]! }));
  }

  changed(k: IpcKernel): void {
    if (this.queue.size > 0) this.queue.wakeAll(k);
  }
}

export class MessageQueues {
  private readonly names = new Namespace<MessageQueue>();
  private readonly prioOut = new Int32Array(1);

  constructor(private readonly k: MqKernel) {}

  /** mq_open: an open file for the queue called name, or -errno. */
  open(p: Proc, name: string, oflag: number, mode: number, maxmsg: number, msgsize: number): OpenFile | number {
    if ((oflag & O_ACCMODE) === O_ACCMODE) return -ERRNO.EINVAL.no;
    const r = this.names.open(name, oflag, () => {
      const max = maxmsg === 0 ? DEFAULT_MAXMSG : maxmsg;
      const size = msgsize === 0 ? DEFAULT_MSGSIZE : msgsize;
      const region = this.k.memory.alloc(p, max * size, 'mq', name);
      return typeof region === 'number' ? region : new MessageQueue(this.k, name, mode, max, size, region);
    });
    if (typeof r === 'number') return r;
    const q = r.obj;
    if (r.created) this.k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'create', object: 'mq', objectId: q.id, name, bytes: q.region.size });
    return new MqFile(this, q, oflag & (O_ACCMODE | O_NONBLOCK));
  }

  unlink(p: Proc, name: string): number {
    const q = this.names.unlink(name);
    if (typeof q === 'number') return q;
    this.k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'unlink', object: 'mq', objectId: q.id, name, bytes: q.region.size });
    this.settle(q);
    return 0;
  }

  settle(q: MessageQueue): void {
    if (q.linked || q.opens > 0) return;
    this.k.stream.emit({ kind: 'ipc', pid: 0, op: 'destroy', object: 'mq', objectId: q.id, name: q.name, bytes: q.region.size });
    this.k.memory.drop(q.region);
  }

  send(p: Proc, f: MqFile, msg: Uint8Array, prio: number, timeoutMs: number): number {
    const q = f.mq;
    if ((f.flags & O_ACCMODE) === O_RDONLY) return -ERRNO.EBADF.no;
    if (msg.length > q.msgsize) return -ERRNO.EMSGSIZE.no;
    const nonblock = (f.flags & O_NONBLOCK) !== 0;
    return park(this.k, p, [q.queue], () => {
      if (q.push(msg, prio)) {
        q.changed(this.k);
        return 0;
      }
      return nonblock ? -ERRNO.EAGAIN.no : BLOCK;
    }, { reason: `mq_send to ${q.name}`, timeoutMs });
  }

  /** Copies the message into out and sets ret1 to its priority; returns its length. */
  receive(p: Proc, f: MqFile, out: Uint8Array, timeoutMs: number): number {
    const q = f.mq;
    if ((f.flags & O_ACCMODE) === O_WRONLY) return -ERRNO.EBADF.no;
    const nonblock = (f.flags & O_NONBLOCK) !== 0;
    return park(this.k, p, [q.queue], () => {
      const n = q.pop(out, this.prioOut);
      if (n < 0) return nonblock ? -ERRNO.EAGAIN.no : BLOCK;
      this.k.setRet1(p, this.prioOut[0]!);
      q.changed(this.k);
      return n;
    }, { reason: `mq_receive from ${q.name}`, timeoutMs });
  }

  /** The linked queues themselves (read-only: for invariant checkers). */
  objects(): IterableIterator<MessageQueue> {
    return this.names.values();
  }

  list(): { name: string; maxmsg: number; msgsize: number; curmsgs: number; opens: number }[] {
    return [...this.names.values()].map((q) => ({ name: q.name, maxmsg: q.maxmsg, msgsize: q.msgsize, curmsgs: q.size, opens: q.opens }));
  }
}

export class MqFile implements OpenFile {
  readonly kind = 'mq';
  refs = 0;

  constructor(
    private readonly mqs: MessageQueues,
    readonly mq: MessageQueue,
    public flags: number,
  ) {
    mq.opens++;
  }

  get waiters(): WaitQueue {
    return this.mq.queue;
  }

  read(): number {
    return -ERRNO.EINVAL.no;
  }

  write(): number {
    return -ERRNO.EINVAL.no;
  }

  poll(): number {
    const mode = this.flags & O_ACCMODE;
    const q = this.mq;
    return (mode !== O_WRONLY && q.size > 0 ? POLLIN : 0) | (mode !== O_RDONLY && q.size < q.maxmsg ? POLLOUT : 0);
  }

  attr(): { flags: number; maxmsg: number; msgsize: number; curmsgs: number } {
    return { flags: this.flags & O_NONBLOCK, maxmsg: this.mq.maxmsg, msgsize: this.mq.msgsize, curmsgs: this.mq.size };
  }

  charged(): Region {
    return this.mq.region;
  }

  hold(p: Proc): void {
    this.mq.holders.hold(p);
  }

  unhold(p: Proc): void {
    this.mq.holders.unhold(p);
  }

  release(): void {
    this.mq.opens--;
    this.mqs.settle(this.mq);
  }

  describe(): string {
    return `mq ${this.mq.name}`;
  }
}

