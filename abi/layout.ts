// The syscall channel: one SharedArrayBuffer per process, shared only between that process and the kernel.
// Every offset lives here; the kernel and the userland trap both index through these names.
//
//   bytes 0..63     Int32 words (below, by index)
//   bytes 64..111   6 argument slots, Float64 (integers up to 2^53 travel without msgpack)
//   bytes 112..127  2 result slots, Float64
//   bytes 128..     payload: raw bytes (write/read data) or one msgpack value (structured arguments and results)

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
export const kInt32Words = 16;

/** Channel states. Userland owns the channel in IDLE and REPLY, the kernel in REQUEST. */
export const STATE_IDLE = 0;
export const STATE_REQUEST = 1;
export const STATE_REPLY = 2;
/** The process is gone: nothing will answer; userland must unwind. */
export const STATE_DEAD = 3;

export const ARG_SLOTS = 6;
export const kArgsByte = 64;
export const kRet0Byte = 112;
export const kRet1Byte = 120;
export const kPayloadByte = 128;

/** Largest payload one frame carries; longer writes are split by userland and return short counts (POSIX write). */
export const PAYLOAD_MAX = 64 * 1024;
export const CHANNEL_BYTES = kPayloadByte + PAYLOAD_MAX;
