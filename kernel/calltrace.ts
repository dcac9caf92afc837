// What the request path records of each call it serves, as sys_enter and sys_exit events (events.ts), while anyone
// consumes events. A call's enter is recorded once its frame is validated; its exit in two steps around the reply:
// what the event keeps of the channel is copied before it (once it has its answer, the process may write its next
// request over the channel), and the event itself is recorded after it, so that reading the clock for it and
// writing its row overlap the process's own work instead of lengthening its call.

import { performance } from 'node:perf_hooks'; // not the global's getter (clock.ts)
import { kNr } from '../abi/layout.js';
import type { SyscallDef } from '../abi/types.js';
import { RET1 } from './channel.js';
import type { Clock } from './clock.js';
import { TRACE_BYTES, type EventStream } from './events.js';
import type { Proc } from './proc.js';

export class CallTracer {
  /** What the answer being sent keeps for its sys_exit event, from before the reply (keep). */
  private readonly kept = { nr: 0, ret1: 0, dataLen: -1, data: new Uint8Array(TRACE_BYTES) };

  constructor(
    private readonly stream: EventStream,
    private readonly clock: Clock,
  ) {}

  /** p's call, validated, is about to run. */
  enter(p: Proc, def: SyscallDef, args: readonly unknown[], argc: number): void {
    const stream = this.stream;
    stream.cause = 0;
    // On the wall clock the request path has just read it (callStartNs); events are stamped in wall ms.
    const ts = this.clock.virtual || p.callStartNs === 0 ? performance.now() : p.callStartNs / 1e6;
    p.enterEvent = stream.sysEnter(p.pid, def.nr, args, argc, ts);
    p.wakeEvent = 0;
    stream.cause = p.enterEvent;
  }

  /** Copies from p's channel what its sys_exit keeps (the call's number, the second result, the first bytes of
   *  the data): called before the reply. */
  keep(p: Proc): void {
    const ch = p.channel;
    const k = this.kept;
    const r = p.result;
    k.nr = ch.i32[kNr]!;
    k.ret1 = r < 0 ? 0 : ch.f64[RET1]!;
    k.dataLen = r >= 0 && p.replyLen > 0 ? Math.min(p.replyLen, TRACE_BYTES) : -1;
    if (k.dataLen > 0) k.data.set(ch.payload.subarray(0, k.dataLen));
  }

  /** Records p's answer (what keep copied), once the reply is out; returns the clock reading it took (ns). */
  exit(p: Proc): number {
    const stream = this.stream;
    const r = p.result;
    const k = this.kept;
    const now = this.clock.nowNs();
    const cause = stream.cause;
    stream.cause = p.wakeEvent !== 0 ? p.wakeEvent : p.enterEvent;
    stream.sysExit(
      p.pid, k.nr, r < 0 ? -1 : r, k.ret1, r < 0 ? -r : 0, p.callStartNs === 0 ? 0 : now - p.callStartNs, p.enterEvent,
      k.data, k.dataLen, this.clock.virtual ? performance.now() : now / 1e6,
    );
    stream.cause = cause;
    p.enterEvent = 0;
    p.wakeEvent = 0;
    return now;
  }
}
