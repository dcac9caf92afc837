// The runqueue's heap (kernel/runqueue.ts) on its own, against a model: a plain list of what is queued, sorted by
// (key, tie) when a pick is due. Ids are entity ids as the scheduler passes them; tasks are plain objects.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VruntimeHeap } from '../dist/kernel/runqueue.js';

interface Item {
  readonly id: number;
}

interface Queued {
  readonly item: Item;
  readonly key: number;
  readonly tie: number;
}

/**
 * A heap and the caller's side of its contract, as the scheduler keeps it in entity records: the key and tie each
 * id was last queued with. `push` records them and queues the item.
 */
class Rig {
  private readonly last = new Map<number, { readonly key: number; readonly tie: number }>();
  readonly h = new VruntimeHeap<Item>((id, key, tie) => {
    const q = this.last.get(id);
    return q !== undefined && q.key === key && q.tie === tie;
  });

  push(item: Item, key: number, tie: number): void {
    this.last.set(item.id, { key, tie });
    this.h.push(item, item.id, key, tie);
  }
}

function byKeyThenTie(a: Queued, b: Queued): number {
  return a.key - b.key || a.tie - b.tie;
}

/** Pops everything, checking each pop against the model (tasks with equal key and tie may come in any order). */
function drain(h: VruntimeHeap<Item>, model: readonly Queued[]): void {
  const left = [...model];
  for (const e of [...model].sort(byKeyThenTie)) {
    expect(h.minKey()).toBe(e.key);
    const t = h.pop();
    const i = left.findIndex((q) => q.item === t);
    expect(i, 'the popped task was queued').toBeGreaterThanOrEqual(0);
    expect(byKeyThenTie(left[i]!, e), 'the popped task has the least key and tie').toBe(0);
    expect(h.poppedId).toBe(t!.id);
    expect(h.poppedKey).toBe(e.key);
    left.splice(i, 1);
  }
  expect(h.size).toBe(0);
  expect(h.minKey()).toBe(Infinity);
  expect(h.pop()).toBeUndefined();
}

type Op =
  | { readonly op: 'push'; readonly id: number; readonly key: number; readonly tie: number }
  | { readonly op: 'pop' }
  | { readonly op: 'remove'; readonly i: number }
  | { readonly op: 'requeueSame'; readonly i: number };

// Few distinct keys and ties, so that equal keys (and equal key-and-tie pairs) are common.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('push' as const), id: fc.nat(60), key: fc.integer({ min: 0, max: 8 }), tie: fc.integer({ min: 0, max: 4 }) }), weight: 5 },
  { arbitrary: fc.constant({ op: 'pop' as const }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), i: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('requeueSame' as const), i: fc.nat() }), weight: 1 },
);

describe('VruntimeHeap', () => {
  it('pops tasks in (key, tie) order, equal keys by tie', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 300 }), (specs) => {
        const r = new Rig();
        const h = r.h;
        const model: Queued[] = [];
        specs.forEach(([key, tie], id) => {
          const item = { id };
          r.push(item, key, tie + id); // distinct ties, as enqueue order or a seeded generator gives
          model.push({ item, key, tie: tie + id });
        });
        expect(h.size).toBe(model.length);
        drain(h, model);
      }),
      { numRuns: 200 },
    );
  });

  it('under random pushes, pops and removals, holds exactly the queued tasks and pops the least each time', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const r = new Rig();
        const h = r.h;
        const items = new Map<number, Item>();
        const item = (id: number): Item => items.get(id) ?? items.set(id, { id }).get(id)!;
        let model: Queued[] = [];
        for (const o of ops) {
          if (o.op === 'push') {
            if (model.some((q) => q.item.id === o.id)) continue;
            r.push(item(o.id), o.key, o.tie);
            model.push({ item: item(o.id), key: o.key, tie: o.tie });
          } else if (o.op === 'pop') {
            const expected = [...model].sort(byKeyThenTie)[0];
            const t = h.pop();
            if (expected === undefined) {
              expect(t).toBeUndefined();
              continue;
            }
            // Equal (key, tie) pairs may pop in either order; the key must be the least.
            expect(h.poppedKey).toBe(expected.key);
            const popped = model.find((q) => q.item === t);
            expect(popped, 'the popped task was queued').toBeDefined();
            expect(byKeyThenTie(popped!, expected)).toBe(0);
            model = model.filter((q) => q !== popped);
          } else if (model.length > 0) {
            const victim = model[o.i % model.length]!;
            h.remove(victim.item.id);
            model = model.filter((q) => q !== victim);
            // A task removed and queued again at once with the same key and tie leaves two identical entries.
            if (o.op === 'requeueSame') {
              r.push(victim.item, victim.key, victim.tie);
              model.push(victim);
            }
          }
          expect(h.size).toBe(model.length);
          for (const q of model) expect(h.has(q.item.id)).toBe(true);
          const queued = h.tasks();
          expect(queued).toHaveLength(model.length);
          expect(new Set(queued)).toEqual(new Set(model.map((q) => q.item)));
        }
        drain(h, model);
      }),
      { numRuns: 300 },
    );
  });

  it('a removed task is never popped, and removing most of a large heap leaves the rest in order', () => {
    const r = new Rig();
    const h = r.h;
    const model: Queued[] = [];
    for (let id = 0; id < 1000; id++) {
      const item = { id };
      r.push(item, (id * 7919) % 101, id);
      if (id % 10 !== 0) h.remove(id); // 900 removals: enough to force rebuilds
      else model.push({ item, key: (id * 7919) % 101, tie: id });
    }
    expect(h.size).toBe(100);
    expect(h.tasks()).toHaveLength(100);
    drain(h, model);
  });

  it('a task removed and queued again with the same key and tie is popped once, across a rebuild', () => {
    const r = new Rig();
    const h = r.h;
    const twin = { id: 0 };
    const model: Queued[] = [{ item: twin, key: 5, tie: 1 }];
    r.push(twin, 5, 1);
    h.remove(0);
    r.push(twin, 5, 1); // two identical entries now, one of them stale
    // 33 stale entries (over the slack of 32, and more than the one live task): the last removal rebuilds.
    for (let id = 1; id <= 32; id++) r.push({ id }, 100 + id, id);
    for (let id = 1; id <= 32; id++) h.remove(id);
    const kept = { id: 41 };
    r.push(kept, 7, 2);
    model.push({ item: kept, key: 7, tie: 2 });
    expect(h.size).toBe(2);
    drain(h, model);
  });

  it('keeps the runner-up key for explanations, skipping removed entries', () => {
    const r = new Rig();
    const h = r.h;
    for (let id = 0; id < 5; id++) r.push({ id }, id * 10, id);
    expect(h.secondKey()).toBe(10);
    h.remove(1);
    expect(h.secondKey()).toBe(20);
    h.remove(2);
    expect(h.secondKey()).toBe(30);
    expect(h.minKey()).toBe(0);
  });

  it('reports Infinity as the least key, and no task, when empty', () => {
    const r = new Rig();
    const h = r.h;
    expect(h.minKey()).toBe(Infinity);
    expect(h.peek()).toBeUndefined();
    expect(h.secondKey()).toBeNull();
    r.push({ id: 3 }, 5, 0);
    h.remove(3);
    expect(h.minKey()).toBe(Infinity);
    expect(h.size).toBe(0);
  });

  it('takes entity ids far beyond its initial capacity', () => {
    const r = new Rig();
    const h = r.h;
    const a = { id: 250_000 };
    const b = { id: 7 };
    r.push(a, 1, 0);
    r.push(b, 2, 1);
    expect(h.pop()).toBe(a);
    expect(h.pop()).toBe(b);
  });

  it('refuses to queue an id twice or to remove one that is not queued (scheduler bugs)', () => {
    const r = new Rig();
    const h = r.h;
    const t = { id: 1 };
    r.push(t, 0, 0);
    expect(() => r.push(t, 5, 1)).toThrow(/queued twice/);
    expect(() => h.remove(2)).toThrow(/not queued/);
    h.remove(1);
    expect(() => h.remove(1)).toThrow(/not queued/);
  });
});
