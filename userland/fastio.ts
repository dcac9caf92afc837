// The pipe fast path: read and write on a pipe move bytes through the pipe's ring (abi/ring.ts) in this process,
// without a syscall, whenever no wait is needed. Anything else (an empty ring, a full one, no reader left, a lock
// another process holds, any descriptor that is not a pipe) goes to the kernel, which runs the same ring code and
// decides: wait, end of file, EAGAIN, EPIPE with SIGPIPE. After moving bytes, a process that sees others parked
// on the pipe asks the kernel to wake them (futex_wake on the ring).
//
// Which descriptors are pipes is asked of the kernel once per descriptor (pipe_ring) and cached until the kernel
// says the descriptor table changed (kFdGen in the channel).

import { ERRNO } from '../abi/errno.js';
import { kFdGen } from '../abi/layout.js';
import { PIPE_BUF } from '../abi/limits.js';
import { ringOf, ringRead, ringUsed, ringWrite, RING_READERS, RING_WAITERS, type Ring } from '../abi/ring.js';
import { O_ACCMODE, O_RDONLY, O_WRONLY } from '../abi/syscalls.js';
import { SysError, type Stub, type Trap } from './trap.js';

const { load } = Atomics;
const Uint8ArrayCtor = Uint8Array;

interface PipeFd {
  readonly ring: Ring;
  /** Where this process sees the ring (futex_wake's address). */
  readonly addr: number;
  readonly readable: boolean;
  readonly writable: boolean;
}

export interface FastIoStubs {
  readonly pipeRing: Stub;
  readonly futexWake: Stub;
  readonly getpid: Stub;
}

export class FastIo {
  /** Per descriptor: its pipe ring, null (not a pipe), or undefined (not asked yet). */
  private cache: (PipeFd | null | undefined)[] = [];
  private gen: number;
  private pid = 0;
  private readonly wakeArgs: [number, number] = [0, 0x7fffffff];

  constructor(
    private readonly trap: Trap,
    private readonly stubs: FastIoStubs,
  ) {
    this.gen = trap.i32[kFdGen]!;
  }

  private lookup(fd: unknown): PipeFd | null {
    if (typeof fd !== 'number') return null;
    const gen = this.trap.i32[kFdGen]!;
    if (gen !== this.gen) {
      this.cache = [];
      this.gen = gen;
    }
    const known = this.cache[fd];
    if (known !== undefined) return known;
    let entry: PipeFd | null = null;
    try {
      const m = this.trap.callSync(this.stubs.pipeRing, [fd]) as { addr: number; bytes: Uint8Array; flags: number };
      const ring = ringOf(m.bytes.buffer as SharedArrayBuffer);
      const mode = m.flags & O_ACCMODE;
      if (ring !== null) entry = { ring, addr: m.addr, readable: mode !== O_WRONLY, writable: mode !== O_RDONLY };
    } catch (e: unknown) {
      // EBADF: not open now; ask again next time rather than remember it. Anything else: not a pipe.
      if (!(e instanceof SysError)) throw e;
      if (e.errno === ERRNO.EBADF.no) return null;
    }
    this.cache[fd] = entry;
    if (this.pid === 0 && entry !== null) this.pid = this.trap.callSync(this.stubs.getpid, []) as number;
    return entry;
  }

  private wakeIfWaiting(p: PipeFd): void {
    if (load(p.ring.i32, RING_WAITERS) === 0) return;
    this.wakeArgs[0] = p.addr;
    this.trap.callSync(this.stubs.futexWake, this.wakeArgs);
  }

  /** The bytes read from a pipe without the kernel, or null when the call must go to the kernel. */
  read(fd: unknown, count: unknown): Uint8Array | null {
    const p = this.lookup(fd);
    if (p === null || !p.readable || typeof count !== 'number' || !(count > 0)) return null;
    const used = ringUsed(p.ring);
    if (used <= 0) return null;
    const out = new Uint8ArrayCtor(count < used ? count : used);
    const n = ringRead(p.ring, out, this.pid);
    if (n <= 0) return null;
    this.wakeIfWaiting(p);
    return n === out.length ? out : out.subarray(0, n);
  }

  /**
   * Writes what fits of bytes to a pipe without the kernel (all of it, for at most PIPE_BUF bytes, or nothing):
   * the count written, or null when nothing was and the call must go to the kernel. The caller sends the rest of
   * a longer write to the kernel, which waits for room as a blocking write must.
   */
  writeSome(fd: unknown, bytes: Uint8Array): number | null {
    const p = this.lookup(fd);
    if (p === null || !p.writable || bytes.length === 0 || load(p.ring.i32, RING_READERS) === 0) return null;
    const n = ringWrite(p.ring, bytes, bytes.length <= PIPE_BUF, this.pid);
    if (n <= 0) return null;
    this.wakeIfWaiting(p);
    return n;
  }
}
