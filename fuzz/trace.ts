// What a replay prints for each call, beyond kernel/strace.ts's formatting: the arguments as the kernel will read
// them from the channel (a hostile frame's slots and payload, a scribble's too), the answer in the form its
// result kind has, and a note on what makes a frame malformed.

import { Decoder } from '@msgpack/msgpack';
import { ARG_SLOTS, CHANNEL_BYTES, kArgc, kArgsByte, kNr, kPayloadByte, kPayloadLen, PAYLOAD_MAX } from '../abi/layout.js';
import { slotCount, syscallByNr } from '../abi/index.js';
import type { SyscallDef } from '../abi/types.js';
import type { LocalProcess, Reply } from './harness.js';
import type { Call } from './session.js';

const decoder = new Decoder();

/** The answer for formatCall: the bytes read, a decoded record (bytes if it does not decode), a pair, or ret0. */
export function traceResult(def: SyscallDef, r: Extract<Reply, { kind: 'reply' }>): unknown {
  switch (def.ret.kind) {
    case 'bytes':
      return r.payload;
    case 'record':
      try {
        return decoder.decode(r.payload);
      } catch {
        return r.payload;
      }
    case 'pair':
      return [r.ret0, r.ret1];
    default:
      return r.ret0;
  }
}

/**
 * The arguments the kernel will read once `call` is written to lp's channel (call before sending): the slots as
 * doubles (a frame's, or what earlier frames left in slots it does not set), then the payload by the argument's
 * type, cut at the payload length word; a record that does not decode is shown as its bytes.
 */
export function seenArgs(lp: LocalProcess, call: Call): unknown[] {
  if (call.kind === 'typed') return [...call.args];
  const ch = new Uint8Array(CHANNEL_BYTES);
  ch.set(new Uint8Array(lp.channel.i32.buffer, 0, CHANNEL_BYTES));
  const view = new DataView(ch.buffer);
  if (call.kind === 'scribble') ch.set(call.bytes);
  else {
    const f = call.frame;
    (f.slots ?? []).forEach((v, i) => view.setFloat64(kArgsByte + 8 * i, v, true));
    view.setInt32(kNr * 4, f.nr, true);
    view.setInt32(kArgc * 4, f.argc ?? (f.slots ?? []).length, true);
    const payload = f.payload ?? new Uint8Array(0);
    ch.set(payload, kPayloadByte);
    view.setInt32(kPayloadLen * 4, f.payloadLen ?? payload.length, true);
  }
  const def = syscallByNr(view.getInt32(kNr * 4, true));
  const argc = view.getInt32(kArgc * 4, true);
  const len = Math.max(0, Math.min(view.getInt32(kPayloadLen * 4, true), PAYLOAD_MAX));
  const slots = def === undefined ? Math.max(0, Math.min(argc, ARG_SLOTS)) : slotCount(def);
  const args: unknown[] = [];
  for (let i = 0; i < slots; i++) args.push(view.getFloat64(kArgsByte + 8 * i, true));
  const payload = ch.slice(kPayloadByte, kPayloadByte + len);
  const last = def?.args[def.args.length - 1];
  if (last?.kind === 'bytes') args.push(payload);
  else if (last?.kind === 'record') {
    try {
      args.push(decoder.decode(payload));
    } catch {
      args.push(payload);
    }
  }
  return args;
}

/** A malformed frame's oddities, as a trailing comment: the answer makes sense only with them. */
export function frameNotes(lp: LocalProcess, def: SyscallDef): string {
  const i32 = lp.channel.i32;
  const notes: string[] = [];
  const known = syscallByNr(def.nr) !== undefined;
  if (known && i32[kArgc] !== slotCount(def)) notes.push(`argc ${i32[kArgc]} (${def.name} takes ${slotCount(def)})`);
  const len = i32[kPayloadLen]!;
  if (len < 0 || len > PAYLOAD_MAX) notes.push(`payloadLen ${len}`);
  else if (known && len !== 0 && slotCount(def) === def.args.length) notes.push(`payloadLen ${len} (${def.name} takes no payload)`);
  return notes.length === 0 ? '' : ` /* ${notes.join(', ')} */`;
}
