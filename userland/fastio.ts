// The fast paths: calls on shared memory that userland can carry out itself, the kernel still deciding everything
// it must (permissions, waits that outlast a moment, end of file, signals).
//
// Pipes. read and write on a pipe move bytes through the pipe's ring (abi/ring.ts) in this process, without a
// syscall, whenever no wait is needed. A blocking call that must wait first sleeps in place on the ring's
// counter (Atomics.wait in this thread, woken directly by the other side's ringWrite or ringRead) for as long as
// the kernel allows (kWaitUs in abi/layout.ts: while nobody waits for a CPU); past that, or for anything else (no
// reader left, a lock another process holds, O_NONBLOCK, any descriptor that is not a pipe), the call goes to the
// kernel, which runs the same ring code and decides: park, end of file, EAGAIN, EPIPE with SIGPIPE. After moving
// bytes, a process that sees others parked in the kernel on the pipe asks the kernel to wake them (futex_wake on
// the ring). Which descriptors are pipes is asked of the kernel once per descriptor (pipe_ring) and cached until
// the kernel says the descriptor table changed (kFdGen).
//
// Futexes. futex_wait sleeps in place on the word while the kernel allows, then parks in the kernel; futex_wake
// wakes sleepers in place (Atomics.notify) and calls the kernel only while some process is parked there. Words are found through
// the mappings this process received (mmap, fdmap) and has not unmapped.
//
// None of this is seen by traces: the kernel never hears of a call that never reached it (docs/ipc.md).

import { ERRNO } from '../abi/errno.js';
import { kFdGen, kFutexParked, kSleepHi, kSleepLo, kWaitUs } from '../abi/layout.js';
import { PIPE_BUF } from '../abi/limits.js';
import {
  ringOf, ringRead, ringSleepForData, ringSleepForRoom, ringUsed, ringWrite, RING_READERS, RING_TAIL, RING_HEAD,
  RING_WAITERS, RING_WRITERS, type Ring,
} from '../abi/ring.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../abi/syscalls.js';
import { SysError, type Stub, type Trap } from './trap.js';

const { load, store, wait, notify } = Atomics;
const Uint8ArrayCtor = Uint8Array;
const Int32ArrayCtor = Int32Array;
const MapCtor = Map;
const TWO_32 = 2 ** 32;

interface PipeFd {
  readonly ring: Ring;
  /** Where this process sees the ring (futex_wake's address). */
  readonly addr: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly nonblock: boolean;
}

interface Mapped {
  readonly addr: number;
  readonly words: Int32Array;
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
  /** This process's mappings by address, for futex words; the last one found, since a program uses few. */
  private readonly mappings = new MapCtor<number, Mapped>();
  private lastMapping: Mapped | null = null;

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
      if (ring !== null) {
        entry = {
          ring, addr: m.addr, readable: mode !== O_WRONLY, writable: mode !== O_RDONLY, nonblock: (m.flags & O_NONBLOCK) !== 0,
        };
      }
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

  /**
   * Announces a sleep in place on the word at addr and returns how many milliseconds it may last (0: none now;
   * nothing is announced then). The address is published before kWaitUs is read, and the kernel stores 0 in
   * kWaitUs before it reads the address (both sequentially consistent): either this sees the 0, or the kernel
   * sees the address and notifies it. Only a notify that lands before Atomics.wait begins is lost, and the
   * sleep's bound covers that.
   */
  private beginSleep(addr: number): number {
    const i32 = this.trap.i32;
    store(i32, kSleepHi, (addr / TWO_32) | 0);
    store(i32, kSleepLo, addr | 0);
    const us = load(i32, kWaitUs);
    if (us > 0) return us / 1000;
    this.endSleep();
    return 0;
  }

  /** The sleep in place is over: the kernel has no word to notify. */
  private endSleep(): void {
    const i32 = this.trap.i32;
    store(i32, kSleepLo, 0);
    store(i32, kSleepHi, 0);
  }

  /**
   * Bytes the pipe behind fd holds for this process to read now, after waiting in place for some if mayWait (the
   * caller blocks its thread anyway: a sync call) and the kernel allows; 0 or less: the call goes to the kernel.
   */
  private readable(p: PipeFd, mayWait: boolean): number {
    const ring = p.ring;
    const used = ringUsed(ring);
    if (used !== 0 || !mayWait || p.nonblock || load(ring.i32, RING_WRITERS) === 0) return used;
    const ms = this.beginSleep(p.addr + RING_TAIL * 4);
    if (ms === 0) return 0;
    const woken = ringSleepForData(ring, ms);
    this.endSleep();
    return woken ? ringUsed(ring) : 0;
  }

  /** The bytes read from a pipe without the kernel, or null when the call must go to the kernel. */
  read(fd: unknown, count: unknown, mayWait: boolean): Uint8Array | null {
    const p = this.lookup(fd);
    if (p === null || !p.readable || typeof count !== 'number' || !(count > 0)) return null;
    const used = this.readable(p, mayWait);
    if (used <= 0) return null;
    const out = new Uint8ArrayCtor(count < used ? count : used);
    const n = ringRead(p.ring, out, this.pid);
    if (n <= 0) return null;
    this.wakeIfWaiting(p);
    return n === out.length ? out : out.subarray(0, n);
  }

  /** read(2) into the caller's buffer from a pipe without the kernel: the count, or -1 when the call must go to
   *  the kernel. */
  readInto(fd: unknown, dst: Uint8Array, mayWait: boolean): number {
    const p = this.lookup(fd);
    if (p === null || !p.readable || dst.length === 0 || this.readable(p, mayWait) <= 0) return -1;
    const n = ringRead(p.ring, dst, this.pid);
    if (n <= 0) return -1;
    this.wakeIfWaiting(p);
    return n;
  }

  /**
   * Writes bytes to a pipe without the kernel, as much as it can (all of it or nothing for at most PIPE_BUF
   * bytes): the count written, or null when nothing was and the call must go to the kernel. mayWait: a full
   * ring is waited for in place while the kernel allows. The caller sends the rest of a longer write to the
   * kernel, which waits for room as a blocking write must.
   */
  writeSome(fd: unknown, bytes: Uint8Array, mayWait: boolean): number | null {
    const p = this.lookup(fd);
    if (p === null || !p.writable || bytes.length === 0) return null;
    const ring = p.ring;
    const atomic = bytes.length <= PIPE_BUF;
    let done = 0;
    for (;;) {
      if (load(ring.i32, RING_READERS) === 0) break;
      const n = ringWrite(ring, done === 0 ? bytes : bytes.subarray(done), atomic, this.pid);
      if (n > 0) {
        done += n;
        this.wakeIfWaiting(p);
        if (done === bytes.length) break;
        continue;
      }
      if (n < 0 || !mayWait || p.nonblock) break;
      const ms = this.beginSleep(p.addr + RING_HEAD * 4);
      if (ms === 0) break;
      const woken = ringSleepForRoom(ring, atomic ? bytes.length : 1, ms);
      this.endSleep();
      if (!woken) break;
    }
    return done === 0 ? null : done;
  }

  // ---- futexes ----

  /** A mapping the kernel granted (mmap, fdmap). */
  mapped(addr: number, sab: SharedArrayBuffer): void {
    this.mappings.set(addr, { addr, words: new Int32ArrayCtor(sab, 0, sab.byteLength >> 2) });
  }

  /** A mapping the kernel took back (munmap succeeded). */
  unmapped(addr: number): void {
    this.mappings.delete(addr);
    this.lastMapping = null;
  }

  /** The mapping holding the 4-aligned word at addr, and the word's index, or null. */
  private word(addr: unknown): { words: Int32Array; index: number } | null {
    if (typeof addr !== 'number' || addr % 4 !== 0) return null;
    let m = this.lastMapping;
    if (m === null || addr < m.addr || addr - m.addr >= m.words.length * 4) {
      m = null;
      for (const c of this.mappings.values()) {
        if (addr >= c.addr && addr - c.addr < c.words.length * 4) {
          m = c;
          break;
        }
      }
      if (m === null) return null;
      this.lastMapping = m;
    }
    return { words: m.words, index: (addr - m.addr) >> 2 };
  }

  /**
   * futex_wait in place: true if the caller slept on the word (and was woken, or saw it change: a futex_wait may
   * return 0 without a wake, as Linux's may), false when the call must go to the kernel (the word differs, no
   * waiting allowed now, or the time allowed ran out).
   */
  futexWait(addr: unknown, expected: unknown, timeoutMs: unknown): boolean {
    if (timeoutMs === 0 || typeof expected !== 'number') return false;
    const w = this.word(addr);
    if (w === null || load(w.words, w.index) !== expected) return false;
    const ms = this.beginSleep(addr as number);
    if (ms === 0) return false;
    const slept = wait(w.words, w.index, expected, ms);
    this.endSleep();
    // Past the time allowed, the kernel finishes the wait; its timeout counts from there, so the call waits at
    // least as long as asked (as POSIX timeouts do) and at most kWaitUs longer.
    return slept !== 'timed-out';
  }

  /**
   * futex_wake without the kernel: wakes up to count sleepers in place on the word and returns how many, or null
   * when the call must go to the kernel (a bad argument, or processes parked in the kernel on words of this
   * process's mappings, kFutexParked: the kernel wakes those first, oldest first, then sleepers in place).
   */
  futexWake(addr: unknown, count: unknown): number | null {
    if (typeof count !== 'number' || !(count >= 1) || count > 0x7fffffff || load(this.trap.i32, kFutexParked) !== 0) return null;
    const w = this.word(addr);
    return w === null ? null : notify(w.words, w.index, count);
  }
}
