// The syscall channel: one SharedArrayBuffer per process, shared only between that process and the kernel.
// Every offset lives here; the kernel and the userland trap both index through these names.
//
//   bytes 0..127    Int32 words (below, by index)
//   bytes 128..175  6 argument slots, Float64 (integers up to 2^53 travel without msgpack)
//   bytes 176..191  2 result slots, Float64
//   bytes 192..     payload: raw bytes (write/read data) or one msgpack value (structured arguments and results)

/** Int32 word indices. */
export const kState = 0; // channel state, below; the only word either side waits or notifies on
export const kNr = 1; // syscall number
export const kArgc = 2; // how many argument slots the caller filled, checked against the ABI's arity
export const kPayloadLen = 3; // request payload length in bytes
export const kErrno = 4; // reply: 0 or a positive errno
export const kReplyLen = 5; // reply payload length in bytes
export const kSignals = 6; // reply: bit mask of caught signals whose handlers userland must run now
export const kSpin = 7; // reply: how many polls userland may spin before sleeping on the next call (0: do not spin)
export const kSeq = 8; // request sequence number, for traces
export const kLife = 9; // 0 while the process lives, 1 once it is gone; only the loader waits on it (never kState,
//                         so a wake meant for the process's own wait is never taken by the loader)
// Each side announces that it is about to sleep on kState; the other side notifies only then. Both sides store
// their own flag, then re-load kState before sleeping, while the waker stores kState, then loads the flag: with
// sequentially consistent atomics one of the two always sees the other, so no wake-up is lost, and the
// Atomics.notify (a lock and a list walk in V8) is skipped on every call answered while the other side spins.
export const kUserWaiting = 10;
export const kKernelWaiting = 11;
// Bumped by the kernel whenever the process's descriptor table changes (open, close, dup2, spawn's inheritance),
// before the reply that follows: userland drops what it cached about its descriptors (userland/fastio.ts) when
// the number moves.
export const kFdGen = 12;
// Waiting in place. A process whose pipe read or write (or futex wait) must wait may first sleep on the shared
// word itself (Atomics.wait in its own thread) for up to kWaitUs microseconds, so that the other side's store
// and notify wake it directly, with no kernel thread in between; past that it asks the kernel to park it. The
// kernel writes kWaitUs with every reply: 0 when a process waits for a CPU (a sleeper in place keeps its CPU, as a
// process computing does) or in deterministic mode. While it sleeps, the process publishes the address of the
// word (low and high halves; 0 when awake), so that the kernel can end the sleep early (a signal, a process that
// wants the CPU) by notifying that word after storing 0 in kWaitUs.
export const kWaitUs = 13;
export const kSleepLo = 14;
export const kSleepHi = 15;
// Kept by the kernel: how many processes are parked in the kernel on futex words of the regions this process
// maps. futex_wake in userland wakes sleepers in place itself and calls the kernel only when this is non-zero
// (kernel/futex.ts counts a waiter in before it looks at the word, so a waker that stored first sees it).
export const kFutexParked = 16;
export const kInt32Words = 32;

/** Channel states. Userland owns the channel in IDLE and REPLY, the kernel in REQUEST. */
export const STATE_IDLE = 0;
export const STATE_REQUEST = 1;
export const STATE_REPLY = 2;
/** The process is gone: nothing will answer; userland must unwind. */
export const STATE_DEAD = 3;

export const ARG_SLOTS = 6;
export const kArgsByte = 128;
export const kRet0Byte = 176;
export const kRet1Byte = 184;
export const kPayloadByte = 192;

/** Largest payload one frame carries; longer writes are split by userland and return short counts (POSIX write). */
export const PAYLOAD_MAX = 64 * 1024;
export const CHANNEL_BYTES = kPayloadByte + PAYLOAD_MAX;
