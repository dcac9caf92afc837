// The sequence fuzzer: the input bytes drive a generator of typed call sequences across several harness
// processes at once, built from the ABI table alone. Each step attaches a process (as a child of init or of
// another actor, sharing its open files or not), signals one from the host, or makes a call: a syscall picked
// from the table, each argument generated from its type, descriptors and pids taken mostly from what earlier
// calls returned (results marked `resource` in the table), integers partly from earlier results and arguments
// (so a munmap can name what an mmap answered). A call that parks stays parked until another step wakes it; its
// answer is checked when it comes. A syscall added to the table is fuzzed with no change here.
//
// Oracle: every reply as in the frame fuzzer (well-formed, documented errno, declared result kind, no handler
// exception, no kernel log at warn), the kernel's invariants after every step (fuzz/invariants.ts), and once
// every process has been killed: no process, no memory, no open file left.

import { PAYLOAD_MAX } from '../abi/layout.js';
import { NSIG, SIGKILL, signalName } from '../abi/signals.js';
import { SYSCALLS } from '../abi/syscalls.js';
import type { SyscallDef } from '../abi/types.js';
import { slotCount } from '../abi/index.js';
import { Choices } from './choice.js';
import { encode, type Stdio } from './harness.js';
import { Session, type Actor, type Call, type SessionOptions } from './session.js';
import { bytesValue, recordValue, slotValue, type ValueContext } from './values.js';

const TABLE: readonly SyscallDef[] = SYSCALLS;
/** Harness processes alive at once at most (the kernel has more virtual CPUs than this). */
const ACTORS_MAX = 6;
const STEPS_MAX = 128;
const SIGNALS = Array.from({ length: NSIG }, (_, i) => i + 1).filter((n) => signalName(n) !== undefined);

/** A call of `def` with arguments generated from their types. Mostly as the SDK would send it; now and then with
 *  an argc or payload length that disagrees, or a record too big for one payload (cut short, as a buggy SDK would). */
function typedCall(c: Choices, def: SyscallDef, ctx: ValueContext): Call {
  const slots: number[] = [];
  const args: unknown[] = [];
  let payload: Uint8Array | null = null;
  let payloadLen: number | undefined;
  // Now and then the int arguments, in order, take an earlier answer and the int arguments that produced it.
  const tuple = ctx.tuples.length > 0 && c.chance(1, 4) ? [...c.pick(ctx.tuples.slice(-8))] : [];
  for (const a of def.args) {
    switch (a.kind) {
      case 'bytes': {
        const b = bytesValue(c);
        args.push(b.data);
        payload = b.data;
        payloadLen = b.payloadLen;
        break;
      }
      case 'record': {
        const v = recordValue(c, a.schema, ctx);
        args.push(v);
        payload = encode(v);
        break;
      }
      default: {
        const next = a.kind === 'int' ? tuple.shift() : undefined;
        const v = next !== undefined && a.kind === 'int' && next >= a.min && next <= a.max ? next : slotValue(c, a, ctx);
        slots.push(v);
        args.push(v);
      }
    }
  }
  const skewArgc = c.chance(1, 48);
  if (!skewArgc && payloadLen === undefined && (payload === null || payload.length <= PAYLOAD_MAX)) {
    return { kind: 'typed', def, args };
  }
  const body = payload === null ? new Uint8Array(0) : payload.subarray(0, PAYLOAD_MAX);
  return {
    kind: 'frame',
    frame: {
      nr: def.nr, slots, argc: skewArgc ? slotCount(def) + c.pick([-1, 1, 2]) : slots.length,
      payload: body, payloadLen: payloadLen ?? body.length,
    },
  };
}

function stdioFor(c: Choices, parent: Actor | undefined): Stdio {
  switch (c.below(4)) {
    case 0:
      return 'null';
    case 1:
      return 'none';
    case 2:
      return { input: c.take(c.below(32)) };
    default:
      return parent !== undefined && parent.lp.alive ? { share: parent.lp } : 'null';
  }
}

/** Runs one sequence-fuzzer input against a fresh kernel; throws OracleViolation when an oracle fails. */
export async function runSequence(bytes: Uint8Array, opts: SessionOptions = {}): Promise<void> {
  const s = await Session.open(opts);
  try {
    const c = new Choices(bytes);
    const root = s.attach({ name: 'seq', stdio: { input: c.take(c.below(64)) } });
    s.attach({ name: 'seq', parent: root, stdio: { share: root.lp } });
    for (let step = 0; step < STEPS_MAX && !c.exhausted; step++) {
      const live = s.live();
      const usable = live.filter((a) => a.lp.usable);
      const action = c.below(16);
      if ((action === 0 || usable.length === 0) && live.length < ACTORS_MAX) {
        const parent = c.chance(1, 3) || live.length === 0 ? undefined : c.pick(live);
        s.attach({ name: 'seq', parent, stdio: stdioFor(c, parent) });
      } else if (action === 1 || usable.length === 0) {
        // From the host: any signal to any live actor, parked ones included (that is how a parked one moves on).
        s.hostKill(c.pick(live), usable.length === 0 ? SIGKILL : c.pick(SIGNALS));
      } else {
        const a = c.pick(usable);
        const ctx: ValueContext = { fds: a.fds, addrs: a.addrs, pids: s.pids, ints: s.ints, tuples: s.tuples, strings: s.strings, names: s.names };
        s.send(a, typedCall(c, c.pick(TABLE), ctx));
      }
      s.checkInvariants(`after step ${step}`);
    }
    await s.finish();
  } catch (e: unknown) {
    await s.close().catch(() => {});
    throw e;
  }
}
