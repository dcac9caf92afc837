// The event ring: the last `capacity` events, in columns. Syscall enter and exit are two of every call's events
// and nearly all of a trace, so they are written field by field into typed arrays (no object, no copy of the
// argument list); their event objects are built only when a consumer asks for one (`event`). Every other kind is
// rare next to them and is kept as the object it was emitted as. Consumers that can read the columns directly
// (the strace tap, reader filters) never build an object for a call at all.
//
// Slot of event `id`: id % capacity. The stream (events.ts) owns the ids and knows which ids the ring still
// holds: the last `capacity` ones.

import { ARG_SLOTS } from '../abi/layout.js';
import { SYSCALLS } from '../abi/syscalls.js';
import type { SyscallDef } from '../abi/types.js';
import type { EventKind, Stamped } from './events.js';

/** Bytes of a syscall's data argument or result kept in its trace event. */
export const TRACE_BYTES = 64;

/** What a slot holds: an event object, or a call's enter or exit in columns. */
export const SLOT_OBJECT = 0;
export const SLOT_ENTER = 1;
export const SLOT_EXIT = 2;

/** The Float64 fields of an exit, in its row of `nums` (an enter's row holds its slot arguments). */
const EXIT_RESULT = 0;
const EXIT_RET1 = 1;
const EXIT_DURATION = 2;
const EXIT_ENTER = 3;

/** `bytesLen` of a slot with no bytes (an exit with no data, an enter without a bytes argument). */
const NO_BYTES = -1;
/** `bytesLen` of an enter whose last argument is a record (kept in `objects`). */
const RECORD_ARG = -2;

const NAMES: (string | undefined)[] = [];
for (const d of SYSCALLS as readonly SyscallDef[]) NAMES[d.nr] = d.name;

/** The name a call has in events: its ABI name, or `syscall_<nr>` for a number the table lacks. */
export function syscallName(nr: number): string {
  return NAMES[nr] ?? `syscall_${nr}`;
}

export class EventRing {
  readonly slot: Uint8Array;
  readonly ts: Float64Array;
  readonly cause: Float64Array;
  readonly pid: Int32Array;
  readonly nr: Int32Array;
  /** An enter's argument count; an exit's errno. */
  readonly aux: Int32Array;
  /** ARG_SLOTS per slot: an enter's slot arguments, or an exit's result, ret1, durationNs and enter id. */
  readonly nums: Float64Array;
  /** Bytes kept in `bytes` (at most TRACE_BYTES), or NO_BYTES, or RECORD_ARG. */
  readonly bytesLen: Int32Array;
  readonly bytes: Uint8Array;
  /** Object events, and enters' record arguments; undefined for the rest (so the ring holds no stale objects). */
  readonly objects: unknown[];

  constructor(readonly capacity: number) {
    this.slot = new Uint8Array(capacity);
    this.ts = new Float64Array(capacity);
    this.cause = new Float64Array(capacity);
    this.pid = new Int32Array(capacity);
    this.nr = new Int32Array(capacity);
    this.aux = new Int32Array(capacity);
    this.nums = new Float64Array(capacity * ARG_SLOTS);
    this.bytesLen = new Int32Array(capacity);
    this.bytes = new Uint8Array(capacity * TRACE_BYTES);
    this.objects = new Array<unknown>(capacity).fill(undefined);
  }

  /** Records a validated call about to run. `args`: numbers for slot arguments, then (last) the payload
   *  argument as the executor decoded it: bytes (of which TRACE_BYTES are kept) or a record (kept as is: the
   *  executor decodes a fresh one per call). */
  enter(id: number, ts: number, cause: number, pid: number, nr: number, args: readonly unknown[], argc: number): void {
    const s = id % this.capacity;
    this.slot[s] = SLOT_ENTER;
    this.ts[s] = ts;
    this.cause[s] = cause;
    this.pid[s] = pid;
    this.nr[s] = nr;
    this.aux[s] = argc;
    this.bytesLen[s] = NO_BYTES;
    this.objects[s] = undefined;
    const row = s * ARG_SLOTS;
    for (let i = 0; i < argc; i++) {
      const a = args[i];
      if (typeof a === 'number') {
        if (i < ARG_SLOTS) this.nums[row + i] = a;
      } else if (a instanceof Uint8Array) {
        const n = Math.min(a.length, TRACE_BYTES);
        this.bytes.set(n === a.length ? a : a.subarray(0, n), s * TRACE_BYTES);
        this.bytesLen[s] = n;
      } else {
        this.objects[s] = a;
        this.bytesLen[s] = RECORD_ARG;
      }
    }
  }

  /** Records a call's answer. `data`/`dataLen`: the reply payload and how many of its bytes to keep (-1: none). */
  exit(
    id: number, ts: number, cause: number, pid: number, nr: number, result: number, ret1: number, errno: number,
    durationNs: number, enter: number, data: Uint8Array, dataLen: number,
  ): void {
    const s = id % this.capacity;
    this.slot[s] = SLOT_EXIT;
    this.ts[s] = ts;
    this.cause[s] = cause;
    this.pid[s] = pid;
    this.nr[s] = nr;
    this.aux[s] = errno;
    this.objects[s] = undefined;
    const row = s * ARG_SLOTS;
    this.nums[row + EXIT_RESULT] = result;
    this.nums[row + EXIT_RET1] = ret1;
    this.nums[row + EXIT_DURATION] = durationNs;
    this.nums[row + EXIT_ENTER] = enter;
    const n = Math.min(dataLen, TRACE_BYTES);
    if (n > 0) this.bytes.set(data.subarray(0, n), s * TRACE_BYTES);
    this.bytesLen[s] = n < 0 ? NO_BYTES : n;
  }

  /** Keeps an event that is already an object (stamped by the stream). */
  object(id: number, e: Stamped): void {
    const s = id % this.capacity;
    this.slot[s] = SLOT_OBJECT;
    this.pid[s] = e.pid;
    this.objects[s] = e;
  }

  // ---- reading, by id (the caller knows the ring still holds it) ----

  kindOf(id: number): EventKind {
    const s = id % this.capacity;
    const k = this.slot[s]!;
    return k === SLOT_ENTER ? 'sys_enter' : k === SLOT_EXIT ? 'sys_exit' : (this.objects[s] as Stamped).kind;
  }

  pidOf(id: number): number {
    return this.pid[id % this.capacity]!;
  }

  /** The syscall number of an enter or exit. */
  nrOf(id: number): number {
    return this.nr[id % this.capacity]!;
  }

  tsOf(id: number): number {
    return this.ts[id % this.capacity]!;
  }

  /** An enter's argument count. */
  argcOf(id: number): number {
    return this.aux[id % this.capacity]!;
  }

  /** An enter's argument i: a number, a view of its kept bytes (valid until the slot is reused), or a record. */
  argOf(id: number, i: number): unknown {
    const s = id % this.capacity;
    const len = this.bytesLen[s]!;
    if (i === this.aux[s]! - 1 && len !== NO_BYTES) {
      return len === RECORD_ARG ? this.objects[s] : this.bytes.subarray(s * TRACE_BYTES, s * TRACE_BYTES + len);
    }
    return i < ARG_SLOTS ? this.nums[s * ARG_SLOTS + i]! : 0;
  }

  /** An exit's fields. */
  resultOf(id: number): number {
    return this.nums[(id % this.capacity) * ARG_SLOTS + EXIT_RESULT]!;
  }

  ret1Of(id: number): number {
    return this.nums[(id % this.capacity) * ARG_SLOTS + EXIT_RET1]!;
  }

  errnoOf(id: number): number {
    return this.aux[id % this.capacity]!;
  }

  durationOf(id: number): number {
    return this.nums[(id % this.capacity) * ARG_SLOTS + EXIT_DURATION]!;
  }

  /** An exit's data: a view of its kept bytes (valid until the slot is reused), or null. */
  dataOf(id: number): Uint8Array | null {
    const s = id % this.capacity;
    const len = this.bytesLen[s]!;
    return len < 0 ? null : this.bytes.subarray(s * TRACE_BYTES, s * TRACE_BYTES + len);
  }

  /** The object of an event that is not a call's enter or exit. */
  objectOf(id: number): Stamped {
    return this.objects[id % this.capacity] as Stamped;
  }

  /** The event as its object, built now for an enter or exit (its bytes copied: it outlives the slot). */
  event(id: number): Stamped {
    const s = id % this.capacity;
    const k = this.slot[s]!;
    if (k === SLOT_OBJECT) return this.objects[s] as Stamped;
    const pid = this.pid[s]!;
    const nr = this.nr[s]!;
    const name = syscallName(nr);
    const ts = this.ts[s]!;
    const cause = this.cause[s]!;
    if (k === SLOT_ENTER) {
      const argc = this.aux[s]!;
      const args: unknown[] = [];
      for (let i = 0; i < argc; i++) {
        const a = this.argOf(id, i);
        args.push(a instanceof Uint8Array ? a.slice() : a);
      }
      return { kind: 'sys_enter', pid, nr, name, args, id, ts, cause };
    }
    const row = s * ARG_SLOTS;
    const enter = this.nums[row + EXIT_ENTER]!;
    const data = this.dataOf(id);
    return {
      kind: 'sys_exit', pid, nr, name, result: this.nums[row + EXIT_RESULT]!, ret1: this.nums[row + EXIT_RET1]!,
      errno: this.aux[s]!, durationNs: this.nums[row + EXIT_DURATION]!, enter: enter === 0 ? null : enter,
      data: data === null ? null : data.slice(), id, ts, cause,
    };
  }
}
