// The pipe ring: a byte ring in a SharedArrayBuffer that every holder of the pipe maps, so that a read or write
// that need not wait moves bytes between the processes with no kernel involved (userland/fastio.ts), while the
// kernel runs the same code for calls that come to it (kernel/pipe.ts). This file is the protocol both follow.
//
//   bytes 0..63   Int32 header words (below)
//   bytes 64..    data: `capacity` bytes, a power of two; byte i of the stream lives at 64 + (i mod capacity)
//
// head and tail count bytes consumed and produced since the pipe was made, modulo 2^32, so `tail - head` (as an
// unsigned difference) is what the ring holds and neither counter is ever reset. Only a writer holding the write
// lock moves tail, only a reader holding the read lock moves head; each publishes its counter with an Atomics
// store after copying, so a reader that loads tail sees every byte before it (the store is the release, the load
// the acquire). The locks make concurrent writers' records whole (writes of at most PIPE_BUF bytes are atomic)
// and let several readers share one end. A lock holds the holder's pid, so the kernel can free it when a process
// dies with it held.
//
// Every holder can write this memory, so nothing read from it is trusted by the kernel: counters that claim more
// than `capacity` bytes mark the ring corrupt (EIO for calls that come to the kernel), and the kernel never
// indexes with a value it did not clamp. A process can spoil only pipes it holds, as one that writes garbage into
// a pipe can.

// A process that finds the ring empty (or full) may sleep on the counter the other side moves (tail for data,
// head for room) with Atomics.wait, after announcing itself in a sleepers word; ringWrite and ringRead notify the
// counter they moved only while its sleepers word is non-zero. The announcement comes before the sleeper's last
// look at the counters and the notifier's look at the sleepers word comes after its store, so with sequentially
// consistent atomics one of them sees the other: no wake-up is lost. Such a sleep is bounded (the caller passes
// how long, see kWaitUs in abi/layout.ts); the kernel ends it early by notifying the same counter, and notifies
// both when an end closes. A sleeper always looks again after waking: a wake-up says only "look".

// Taken once: this code also runs inside each process's sandbox, where every global lookup goes through the
// context's interceptor (about 185 ns), and a read or a write would make a dozen of them.
const { load, store, add, sub, compareExchange, notify, wait } = Atomics;
const { min } = Math;

/** Header words (Int32 indices). */
export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_WLOCK = 2;
export const RING_RLOCK = 3;
/** Processes parked in the kernel on this pipe (readers, writers, pollers): after changing head or tail, a
 *  process that reads a non-zero count here asks the kernel to wake them (futex_wake on the ring's address). */
export const RING_WAITERS = 4;
/** The kernel's count of open read and write ends, mirrored for userland: with no reader, a write goes to the
 *  kernel (which raises SIGPIPE); with no writer, an empty ring is end of file. */
export const RING_READERS = 5;
export const RING_WRITERS = 6;
/** Processes sleeping in place for data (on RING_TAIL) and for room (on RING_HEAD); see the protocol above. */
export const RING_DATA_SLEEPERS = 7;
export const RING_ROOM_SLEEPERS = 8;
export const RING_HEADER_BYTES = 64;

/** Results besides a byte count. */
export const RING_BUSY = -1; // another process holds the lock
export const RING_CORRUPT = -2; // the counters are inconsistent

export interface Ring {
  readonly i32: Int32Array;
  readonly data: Uint8Array;
  /** Power of two; data.length. */
  readonly capacity: number;
}

export function ringOf(sab: SharedArrayBuffer): Ring | null {
  const capacity = sab.byteLength - RING_HEADER_BYTES;
  if (capacity <= 0 || (capacity & (capacity - 1)) !== 0) return null;
  return { i32: new Int32Array(sab, 0, RING_HEADER_BYTES / 4), data: new Uint8Array(sab, RING_HEADER_BYTES, capacity), capacity };
}

/** Bytes the ring holds now, or RING_CORRUPT. */
export function ringUsed(r: Ring): number {
  const used = (load(r.i32, RING_TAIL) - load(r.i32, RING_HEAD)) >>> 0;
  return used > r.capacity ? RING_CORRUPT : used;
}

/**
 * Copies bytes from src into the ring as `owner` (a pid). `atomic`: all of src or nothing; otherwise as much as
 * fits. Returns the count written (0: no room), RING_BUSY or RING_CORRUPT.
 */
export function ringWrite(r: Ring, src: Uint8Array, atomic: boolean, owner: number): number {
  const i32 = r.i32;
  if (compareExchange(i32, RING_WLOCK, 0, owner) !== 0) return RING_BUSY;
  const tail = load(i32, RING_TAIL);
  const used = (tail - load(i32, RING_HEAD)) >>> 0;
  let n = 0;
  if (used <= r.capacity) {
    const free = r.capacity - used;
    n = src.length <= free ? src.length : atomic ? 0 : free;
    if (n > 0) {
      const at = tail & (r.capacity - 1);
      const first = min(n, r.capacity - at);
      r.data.set(first === src.length ? src : src.subarray(0, first), at);
      if (first < n) r.data.set(src.subarray(first, n), 0);
      store(i32, RING_TAIL, (tail + n) | 0);
    }
  } else {
    n = RING_CORRUPT;
  }
  store(i32, RING_WLOCK, 0);
  if (n > 0 && load(i32, RING_DATA_SLEEPERS) !== 0) notify(i32, RING_TAIL);
  return n;
}

/** Copies up to dst.length bytes out of the ring as `owner`. Returns the count (0: empty), RING_BUSY or RING_CORRUPT. */
export function ringRead(r: Ring, dst: Uint8Array, owner: number): number {
  const i32 = r.i32;
  if (compareExchange(i32, RING_RLOCK, 0, owner) !== 0) return RING_BUSY;
  const head = load(i32, RING_HEAD);
  const used = (load(i32, RING_TAIL) - head) >>> 0;
  let n = 0;
  if (used <= r.capacity) {
    n = min(used, dst.length);
    if (n > 0) {
      const at = head & (r.capacity - 1);
      const first = min(n, r.capacity - at);
      dst.set(r.data.subarray(at, at + first), 0);
      if (first < n) dst.set(r.data.subarray(0, n - first), first);
      store(i32, RING_HEAD, (head + n) | 0);
    }
  } else {
    n = RING_CORRUPT;
  }
  store(i32, RING_RLOCK, 0);
  if (n > 0 && load(i32, RING_ROOM_SLEEPERS) !== 0) notify(i32, RING_HEAD);
  return n;
}

/**
 * Sleeps in place until the ring may hold data, for at most ms: false if the time ran out with nothing seen, true
 * otherwise (woken, or data or the end of the writers seen before sleeping): the caller looks again.
 */
export function ringSleepForData(r: Ring, ms: number): boolean {
  const i32 = r.i32;
  add(i32, RING_DATA_SLEEPERS, 1);
  const tail = load(i32, RING_TAIL);
  let slept = 'not-equal';
  if (tail === load(i32, RING_HEAD) && load(i32, RING_WRITERS) !== 0) slept = wait(i32, RING_TAIL, tail, ms);
  sub(i32, RING_DATA_SLEEPERS, 1);
  return slept !== 'timed-out';
}

/** Sleeps in place until the ring may have room for `need` bytes, for at most ms; as ringSleepForData. */
export function ringSleepForRoom(r: Ring, need: number, ms: number): boolean {
  const i32 = r.i32;
  add(i32, RING_ROOM_SLEEPERS, 1);
  const head = load(i32, RING_HEAD);
  let slept = 'not-equal';
  const free = r.capacity - ((load(i32, RING_TAIL) - head) >>> 0);
  if (free < need && load(i32, RING_READERS) !== 0) slept = wait(i32, RING_HEAD, head, ms);
  sub(i32, RING_ROOM_SLEEPERS, 1);
  return slept !== 'timed-out';
}

/** Wakes every process sleeping in place on the ring, whatever it waits for (the kernel: an end closed). */
export function ringWakeSleepers(r: Ring): void {
  notify(r.i32, RING_TAIL);
  notify(r.i32, RING_HEAD);
}
