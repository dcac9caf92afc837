// Pipes. The bytes live in a ring in a SharedArrayBuffer (abi/ring.ts) that every process holding an end maps:
// a read or write that need not wait is done by the process itself (userland/fastio.ts), and only calls that must
// wait, fail or signal come here, where the same ring code runs on the caller's behalf. The kernel keeps what must
// not be forged: which ends are open, who holds the pipe, and who waits on it.
//
// Memory: the ring is one region, allocated when the pipe is made (charged against the maker's RLIMIT_AS), held
// by the pipe while either end is open, and charged to every process holding a descriptor to either end.

import { ERRNO } from '../abi/errno.js';
import { PIPE_BUF } from '../abi/limits.js';
import {
  ringOf, ringRead, ringUsed, ringWakeSleepers, ringWrite, RING_BUSY, RING_CORRUPT, RING_HEADER_BYTES, RING_READERS, RING_RLOCK,
  RING_WAITERS, RING_WLOCK, RING_WRITERS, type Ring,
} from '../abi/ring.js';
import { SIGNALS } from '../abi/signals.js';
import { O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT } from '../abi/syscalls.js';
import { BLOCK, descriptorsChanged, type OpenFile } from './fd.js';
import { Holders, type Region } from './mm.js';
import type { Proc } from './proc.js';
import { park, WaitQueue, type IpcKernel } from './waitq.js';

let lastId = 0;

export class Pipe {
  readonly id = ++lastId;
  readonly ring: Ring;
  /** Readers, writers and pollers parked on this pipe; its size is mirrored in the ring for userland. */
  readonly queue: WaitQueue;
  /** Open ends: each end is one open file, however many descriptors share it. */
  private readers = true;
  private writers = true;
  private readonly holders: Holders;

  private constructor(
    private readonly k: IpcKernel,
    readonly region: Region,
  ) {
    const ring = ringOf(region.sab);
    if (ring === null) throw new Error(`kernel bug: a pipe region of ${region.length} B is not a ring`);
    this.ring = ring;
    this.holders = new Holders(k.memory, region);
    this.queue = new WaitQueue((n) => Atomics.store(ring.i32, RING_WAITERS, n));
    Atomics.store(ring.i32, RING_READERS, 1);
    Atomics.store(ring.i32, RING_WRITERS, 1);
    region.wake = () => this.queue.wakeAll(k);
  }

  /** Makes a pipe for p; returns its read and write ends (not yet installed), or -errno. */
  static create(k: IpcKernel, p: Proc, capacity: number, nonblock: boolean): [PipeEnd, PipeEnd] | number {
    const region = k.memory.alloc(p, RING_HEADER_BYTES + capacity, 'pipe', 'pipe');
    if (typeof region === 'number') return region;
    const pipe = new Pipe(k, region);
    k.pipes.add(pipe);
    k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'create', object: 'pipe', objectId: pipe.id, name: null, bytes: region.size });
    const flags = nonblock ? O_NONBLOCK : 0;
    return [new PipeEnd(k, pipe, true, O_RDONLY | flags), new PipeEnd(k, pipe, false, O_WRONLY | flags)];
  }

  /** An end's status flags changed: every holder's userland forgets what it cached (it may wait in place). */
  flagsChanged(): void {
    for (const p of this.holders.procs()) descriptorsChanged(p);
  }

  /** For introspection: bytes buffered (-1: corrupt), processes holding it, processes parked on it. */
  info(): { id: number; capacity: number; buffered: number; readers: boolean; writers: boolean; holders: number; waiters: number } {
    return {
      id: this.id, capacity: this.ring.capacity, buffered: ringUsed(this.ring), readers: this.readers, writers: this.writers,
      holders: this.holders.size, waiters: this.queue.size,
    };
  }

  /** Each process holding an end, with its number of descriptors to either end (read-only: for checkers). */
  holderCounts(): IterableIterator<[Proc, number]> {
    return this.holders.entries();
  }

  get hasReaders(): boolean {
    return this.readers;
  }
  get hasWriters(): boolean {
    return this.writers;
  }

  /** p got a descriptor to an end: its first one maps the ring into p (charged to p). */
  hold(p: Proc): void {
    this.holders.hold(p);
  }

  /** p dropped a descriptor: with its last one, the ring leaves p, and any lock p died holding is freed. */
  unhold(p: Proc): void {
    if (!this.holders.unhold(p)) return;
    const i32 = this.ring.i32;
    let freed = Atomics.compareExchange(i32, RING_WLOCK, p.pid, 0) === p.pid;
    freed = Atomics.compareExchange(i32, RING_RLOCK, p.pid, 0) === p.pid || freed;
    if (freed) this.changed();
  }

  /** One end's last descriptor closed. */
  closeEnd(reading: boolean): void {
    if (reading) this.readers = false;
    else this.writers = false;
    Atomics.store(this.ring.i32, reading ? RING_READERS : RING_WRITERS, 0);
    // Readers now see end of file, writers EPIPE, pollers POLLHUP or POLLERR: in the kernel and in place.
    ringWakeSleepers(this.ring);
    this.changed();
    if (this.readers || this.writers) return;
    this.region.wake = null;
    this.k.pipes.delete(this);
    this.k.stream.emit({ kind: 'ipc', pid: 0, op: 'destroy', object: 'pipe', objectId: this.id, name: null, bytes: this.region.size });
    this.k.memory.drop(this.region);
  }

  /** The ring or the ends changed: whoever waits on the pipe looks again. */
  changed(): void {
    if (this.queue.size > 0) this.queue.wakeAll(this.k);
  }

  /**
   * A lock in the ring names a process that holds no end of this pipe (it died, or a holder wrote garbage):
   * free it, so that one process cannot wedge the pipe for the others by a pid it made up.
   */
  breakStaleLock(word: number): boolean {
    const holder = Atomics.load(this.ring.i32, word);
    if (holder === 0) return true;
    if (this.holders.hasPid(holder)) return false;
    return Atomics.compareExchange(this.ring.i32, word, holder, 0) === holder;
  }
}

export class PipeEnd implements OpenFile {
  readonly kind = 'pipe';
  refs = 0;

  constructor(
    private readonly k: IpcKernel,
    readonly pipe: Pipe,
    readonly reading: boolean,
    public flags: number,
  ) {}

  get waiters(): WaitQueue {
    return this.pipe.queue;
  }

  private get nonblock(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  read(p: Proc, count: number, out: Uint8Array): number {
    if (!this.reading) return -ERRNO.EBADF.no;
    const dst = out.subarray(0, Math.min(count, out.length));
    if (dst.length === 0) return 0;
    const pipe = this.pipe;
    return park(this.k, p, [pipe.queue], () => {
      let n = ringRead(pipe.ring, dst, p.pid);
      if (n === RING_BUSY && pipe.breakStaleLock(RING_RLOCK)) n = ringRead(pipe.ring, dst, p.pid);
      if (n > 0) {
        pipe.changed();
        return n;
      }
      if (n === RING_CORRUPT) return -ERRNO.EIO.no;
      if (n === 0 && !pipe.hasWriters) return 0;
      return this.nonblock ? -ERRNO.EAGAIN.no : BLOCK;
    }, { reason: `read from pipe ${pipe.id}` });
  }

  /**
   * POSIX pipe write: up to PIPE_BUF bytes go in whole or not at all; a longer blocking write goes in pieces as
   * room appears and returns when all of it is in (a non-blocking one returns what fitted). No reader: SIGPIPE,
   * and EPIPE unless some bytes already went in.
   */
  write(p: Proc, data: Uint8Array): number {
    if (this.reading) return -ERRNO.EBADF.no;
    const pipe = this.pipe;
    const atomic = data.length <= PIPE_BUF;
    let written = 0;
    return park(this.k, p, [pipe.queue], () => {
      if (!pipe.hasReaders) {
        this.k.signal(p, SIGNALS.SIGPIPE.no, 0);
        return written > 0 ? written : -ERRNO.EPIPE.no;
      }
      if (data.length === 0) return 0;
      const src = written === 0 ? data : data.subarray(written);
      let n = ringWrite(pipe.ring, src, atomic, p.pid);
      if (n === RING_BUSY && pipe.breakStaleLock(RING_WLOCK)) n = ringWrite(pipe.ring, src, atomic, p.pid);
      if (n === RING_CORRUPT) return written > 0 ? written : -ERRNO.EIO.no;
      if (n > 0) {
        written += n;
        pipe.changed();
        if (written === data.length || this.nonblock) return written;
      }
      if (this.nonblock) return written > 0 ? written : -ERRNO.EAGAIN.no;
      return BLOCK;
    }, { reason: `write to pipe ${pipe.id}`, interrupted: () => (written > 0 ? written : -ERRNO.EINTR.no) });
  }

  poll(): number {
    const pipe = this.pipe;
    const used = ringUsed(pipe.ring);
    if (used === RING_CORRUPT) return POLLERR;
    if (this.reading) return (used > 0 ? POLLIN : 0) | (pipe.hasWriters ? 0 : POLLHUP);
    if (!pipe.hasReaders) return POLLERR;
    return pipe.ring.capacity - used >= Math.min(PIPE_BUF, pipe.ring.capacity) ? POLLOUT : 0;
  }

  hold(p: Proc): void {
    this.pipe.hold(p);
  }

  unhold(p: Proc): void {
    this.pipe.unhold(p);
  }

  ring(): Region {
    return this.pipe.region;
  }

  flagsChanged(): void {
    this.pipe.flagsChanged();
  }

  charged(): Region {
    return this.pipe.region;
  }

  release(): void {
    this.pipe.closeEnd(this.reading);
  }

  describe(): string {
    return `pipe:[${this.pipe.id}] ${this.reading ? 'read' : 'write'} end`;
  }
}
