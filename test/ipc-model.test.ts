// Properties of the pipe ring and the message queue against simple models: bytes come out in the order they went
// in, none lost and none duplicated; an atomic write goes in whole or not at all; messages come out highest
// priority first, oldest first within a priority; a full queue refuses and an empty one has nothing.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '@msgpack/msgpack';
import {
  O_CREAT, O_NONBLOCK, O_RDWR, RING_BUSY, RING_HEADER_BYTES, RING_WLOCK, ringOf, ringRead, ringUsed, ringWrite,
} from '../dist/abi/index.js';
import { FrameHarness } from '../dist/fuzz/harness.js';

const ringOps = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('write' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 90 }), atomic: fc.boolean() }),
    fc.record({ op: fc.constant('read' as const), count: fc.integer({ min: 0, max: 90 }) }),
  ),
  { maxLength: 200 },
);

describe('the pipe ring against a byte-queue model', () => {
  it('order kept, nothing lost or duplicated, atomic writes whole or not at all, never more than the capacity', () => {
    fc.assert(
      fc.property(fc.constantFrom(16, 64, 128), fc.integer({ min: -5, max: 5 }), ringOps, (capacity, start, ops) => {
        const ring = ringOf(new SharedArrayBuffer(RING_HEADER_BYTES + capacity))!;
        // Counters start anywhere: they run modulo 2^32, so a ring near the wrap must behave the same.
        Atomics.store(ring.i32, 0, start);
        Atomics.store(ring.i32, 1, start);
        const model: number[] = [];
        for (const o of ops) {
          if (o.op === 'write') {
            const n = ringWrite(ring, Uint8Array.from(o.bytes), o.atomic, 7);
            const free = capacity - model.length;
            const expected = o.bytes.length <= free ? o.bytes.length : o.atomic ? 0 : free;
            expect(n).toBe(expected);
            model.push(...o.bytes.slice(0, n));
          } else {
            const out = new Uint8Array(o.count);
            const n = ringRead(ring, out, 7);
            expect(n).toBe(Math.min(o.count, model.length));
            expect([...out.subarray(0, n)]).toEqual(model.splice(0, n));
          }
          expect(ringUsed(ring)).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a held lock makes the other side of the same lock wait (RING_BUSY), and is released after every call', () => {
    const ring = ringOf(new SharedArrayBuffer(RING_HEADER_BYTES + 64))!;
    expect(ringWrite(ring, Uint8Array.of(1, 2, 3), true, 5)).toBe(3);
    expect(Atomics.load(ring.i32, RING_WLOCK)).toBe(0);
    Atomics.store(ring.i32, RING_WLOCK, 9);
    expect(ringWrite(ring, Uint8Array.of(4), true, 5)).toBe(RING_BUSY);
    expect(ringRead(ring, new Uint8Array(8), 5)).toBe(3); // readers take a different lock
  });
});

describe('the message queue against a priority model', () => {
  let h: FrameHarness;
  beforeAll(async () => {
    h = await FrameHarness.boot({ mem: '16M' });
  });
  afterAll(() => h.shutdown());

  it('receive order is highest priority first, FIFO within one; full refuses with EAGAIN, empty too', () => {
    let round = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.record({ send: fc.integer({ min: 0, max: 4 }) }), fc.constant({ receive: true as const })), { maxLength: 60 }),
        (maxmsg, ops) => {
          const p = h.attach();
          const name = `/model-${round++}`;
          const opened = p.call('mq_open', O_RDWR | O_CREAT | O_NONBLOCK, 0o600, maxmsg, 16, name);
          if (opened.kind !== 'reply' || opened.errno !== 0) throw new Error('mq_open failed');
          const q = opened.ret0;
          const model: { prio: number; body: string }[] = [];
          let seq = 0;
          for (const o of ops) {
            if ('send' in o) {
              const body = `m${seq++}`;
              const r = p.call('mq_send', q, o.send, -1, body);
              if (model.length === maxmsg) {
                expect(r).toMatchObject({ kind: 'reply', error: 'EAGAIN' });
              } else {
                expect(r).toMatchObject({ kind: 'reply', errno: 0 });
                model.push({ prio: o.send, body });
              }
            } else {
              const r = p.call('mq_receive', q, -1);
              if (model.length === 0) {
                expect(r).toMatchObject({ kind: 'reply', error: 'EAGAIN' });
                continue;
              }
              const best = model.reduce((b, m, i) => (m.prio > model[b]!.prio ? i : b), 0);
              const [want] = model.splice(best, 1);
              if (r.kind !== 'reply') throw new Error('mq_receive parked');
              expect([new TextDecoder().decode(r.payload), r.ret1]).toEqual([want!.body, want!.prio]);
            }
          }
          const attr = p.call('mq_getattr', q);
          if (attr.kind !== 'reply') throw new Error('mq_getattr parked');
          expect((decode(attr.payload) as { curmsgs: number }).curmsgs).toBe(model.length);
          p.call('mq_unlink', name);
          p.kill();
        },
      ),
      { numRuns: 150 },
    );
    expect(h.kernel.ipcs().mq).toEqual([]);
    expect(h.kernel.bugs).toBe(0);
  });
});
