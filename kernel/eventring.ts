// The event ring: the last `capacity` events, in columns. Syscall enter and exit are two of every call's events
// and nearly all of a trace, so they are written field by field into typed arrays (no object, no copy of the
// argument list); their event objects are built only when a consumer asks for one (`event`). Every other kind is
// rare next to them and is kept as the object it was emitted as. Consumers that can read the columns directly
// (the strace tap, reader filters) never build an object for a call at all.
//
// Slot of event `id`: id % capacity (a power of two). The stream (events.ts) owns the ids and knows which ids the
// ring still holds: the last `capacity` ones.

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

// A slot's fields, as offsets into its row of `rows` (rowOf). One row per slot rather than one array per field:
// writing an event then touches two cache lines instead of one per field, which on a ring of 65,536 slots
// (megabytes, cold by the time it wraps) is most of what recording a call costs. The offsets are exported for
// a consumer that reads many events in a hot loop (trace.ts's strace lines): V8 does not inline the accessors
// below into a loop that already inlines a formatter, and a call per field cost more than formatting the line.
export const F_KIND = 0;
export const F_TS = 1;
const F_CAUSE = 2;
export const F_PID = 3;
export const F_NR = 4;
/** An enter's argument count; an exit's errno. */
export const F_AUX = 5;
/** Bytes kept in `bytes` (at most TRACE_BYTES), or NO_BYTES, or RECORD_ARG. */
export const F_BYTES = 6;
/** ARG_SLOTS fields from here: an enter's slot arguments, or an exit's result, ret1, durationNs and enter id. */
const F_NUMS = 8;
const ROW = 16;

export const EXIT_RESULT = F_NUMS;
export const EXIT_RET1 = F_NUMS + 1;
export const EXIT_DURATION = F_NUMS + 2;
const EXIT_ENTER = F_NUMS + 3;

/** F_BYTES of a slot with no bytes (an exit with no data, an enter without a bytes argument). */
const NO_BYTES = -1;
/** F_BYTES of an enter whose last argument is a record (kept in `objects`). */
const RECORD_ARG = -2;

const NAMES: (string | undefined)[] = [];
for (const d of SYSCALLS as readonly SyscallDef[]) NAMES[d.nr] = d.name;

/** The name a call has in events: its ABI name, or `syscall_<nr>` for a number the table lacks. */
export function syscallName(nr: number): string {
  return NAMES[nr] ?? `syscall_${nr}`;
}

export class EventRing {
  /** ROW numbers per slot (the F_* fields). */
  readonly rows: Float64Array;
  /** TRACE_BYTES per slot: an enter's bytes argument or an exit's data, the first F_BYTES of them. */
  readonly bytes: Uint8Array;
  /** Object events, and enters' record arguments. A slot's entry is read only when its row says it holds one, and
   *  is not cleared when a call reuses the slot (that would cost one more cache line per event): the ring keeps
   *  at most `capacity` stale references. */
  readonly objects: unknown[];

  /** capacity - 1: a slot is `id & mask`, since ids are positive integers below 2^53 and `&` keeps their low 32
   *  bits. Readers ask for several fields per event, and `%` by a capacity known only at run time is a division. */
  private readonly mask: number;

  /** `capacity`: a power of two from 2 to 2^24. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 24 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`event ring capacity must be a power of two from 2 to 2^24, not ${capacity}`);
    }
    this.mask = capacity - 1;
    this.rows = new Float64Array(capacity * ROW);
    this.bytes = new Uint8Array(capacity * TRACE_BYTES);
    this.objects = new Array<unknown>(capacity).fill(undefined);
  }

  /** Records a validated call about to run. `args`: numbers for slot arguments, then (last) the payload
   *  argument as the executor decoded it: bytes (of which TRACE_BYTES are kept) or a record (kept as is: the
   *  executor decodes a fresh one per call). */
  enter(id: number, ts: number, cause: number, pid: number, nr: number, args: readonly unknown[], argc: number): void {
    const s = id & this.mask;
    const r = this.rows;
    const row = s * ROW;
    r[row + F_KIND] = SLOT_ENTER;
    r[row + F_TS] = ts;
    r[row + F_CAUSE] = cause;
    r[row + F_PID] = pid;
    r[row + F_NR] = nr;
    r[row + F_AUX] = argc;
    r[row + F_BYTES] = NO_BYTES;
    for (let i = 0; i < argc; i++) {
      const a = args[i];
      if (typeof a === 'number') {
        if (i < ARG_SLOTS) r[row + F_NUMS + i] = a;
      } else if (a instanceof Uint8Array) {
        const n = Math.min(a.length, TRACE_BYTES);
        this.bytes.set(n === a.length ? a : a.subarray(0, n), s * TRACE_BYTES);
        r[row + F_BYTES] = n;
      } else {
        this.objects[s] = a;
        r[row + F_BYTES] = RECORD_ARG;
      }
    }
  }

  /** Records a call's answer. `data`/`dataLen`: the reply payload and how many of its bytes to keep (-1: none). */
  exit(
    id: number, ts: number, cause: number, pid: number, nr: number, result: number, ret1: number, errno: number,
    durationNs: number, enter: number, data: Uint8Array, dataLen: number,
  ): void {
    const s = id & this.mask;
    const r = this.rows;
    const row = s * ROW;
    r[row + F_KIND] = SLOT_EXIT;
    r[row + F_TS] = ts;
    r[row + F_CAUSE] = cause;
    r[row + F_PID] = pid;
    r[row + F_NR] = nr;
    r[row + F_AUX] = errno;
    r[row + EXIT_RESULT] = result;
    r[row + EXIT_RET1] = ret1;
    r[row + EXIT_DURATION] = durationNs;
    r[row + EXIT_ENTER] = enter;
    const n = Math.min(dataLen, TRACE_BYTES);
    if (n > 0) this.bytes.set(data.subarray(0, n), s * TRACE_BYTES);
    r[row + F_BYTES] = n < 0 ? NO_BYTES : n;
  }

  /** Keeps an event that is already an object (stamped by the stream). */
  object(id: number, e: Stamped): void {
    const s = id & this.mask;
    this.rows[s * ROW + F_KIND] = SLOT_OBJECT;
    this.rows[s * ROW + F_PID] = e.pid;
    this.objects[s] = e;
  }

  // ---- reading, by id (the caller knows the ring still holds it) ----

  /** Where event id's fields start in `rows` (add an F_* offset). */
  rowOf(id: number): number {
    return (id & this.mask) * ROW;
  }

  private field(id: number, f: number): number {
    return this.rows[(id & this.mask) * ROW + f]!;
  }

  /** SLOT_OBJECT, SLOT_ENTER or SLOT_EXIT. */
  slotOf(id: number): number {
    return this.field(id, F_KIND);
  }

  kindOf(id: number): EventKind {
    const k = this.field(id, F_KIND);
    return k === SLOT_ENTER ? 'sys_enter' : k === SLOT_EXIT ? 'sys_exit' : (this.objects[id & this.mask] as Stamped).kind;
  }

  pidOf(id: number): number {
    return this.field(id, F_PID);
  }

  /** The syscall number of an enter or exit. */
  nrOf(id: number): number {
    return this.field(id, F_NR);
  }

  tsOf(id: number): number {
    return this.field(id, F_TS);
  }

  /** An enter's argument count. */
  argcOf(id: number): number {
    return this.field(id, F_AUX);
  }

  /** An enter's argument i: a number, a view of its kept bytes (valid until the slot is reused), or a record. */
  argOf(id: number, i: number): unknown {
    const s = id & this.mask;
    const row = s * ROW;
    const len = this.rows[row + F_BYTES]!;
    if (i === this.rows[row + F_AUX]! - 1 && len !== NO_BYTES) {
      return len === RECORD_ARG ? this.objects[s] : this.bytes.subarray(s * TRACE_BYTES, s * TRACE_BYTES + len);
    }
    return i < ARG_SLOTS ? this.rows[row + F_NUMS + i]! : 0;
  }

  /** An exit's fields. */
  resultOf(id: number): number {
    return this.field(id, EXIT_RESULT);
  }

  ret1Of(id: number): number {
    return this.field(id, EXIT_RET1);
  }

  errnoOf(id: number): number {
    return this.field(id, F_AUX);
  }

  durationOf(id: number): number {
    return this.field(id, EXIT_DURATION);
  }

  /** An exit's data: a view of its kept bytes (valid until the slot is reused), or null. */
  dataOf(id: number): Uint8Array | null {
    const s = id & this.mask;
    const len = this.rows[s * ROW + F_BYTES]!;
    return len < 0 ? null : this.bytes.subarray(s * TRACE_BYTES, s * TRACE_BYTES + len);
  }

  /** The object of an event that is not a call's enter or exit. */
  objectOf(id: number): Stamped {
    return this.objects[id & this.mask] as Stamped;
  }

  /** The event as its object, built now for an enter or exit (its bytes copied: it outlives the slot). */
  event(id: number): Stamped {
    const k = this.field(id, F_KIND);
    if (k === SLOT_OBJECT) return this.objects[id & this.mask] as Stamped;
    const pid = this.field(id, F_PID);
    const nr = this.field(id, F_NR);
    const name = syscallName(nr);
    const ts = this.field(id, F_TS);
    const cause = this.field(id, F_CAUSE);
    if (k === SLOT_ENTER) {
      const argc = this.field(id, F_AUX);
      const args: unknown[] = [];
      for (let i = 0; i < argc; i++) {
        const a = this.argOf(id, i);
        args.push(a instanceof Uint8Array ? a.slice() : a);
      }
      return { kind: 'sys_enter', pid, nr, name, args, id, ts, cause };
    }
    const enter = this.field(id, EXIT_ENTER);
    const data = this.dataOf(id);
    return {
      kind: 'sys_exit', pid, nr, name, result: this.field(id, EXIT_RESULT), ret1: this.field(id, EXIT_RET1),
      errno: this.field(id, F_AUX), durationNs: this.field(id, EXIT_DURATION), enter: enter === 0 ? null : enter,
      data: data === null ? null : data.slice(), id, ts, cause,
    };
  }
}
