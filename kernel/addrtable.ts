// An int32 -> int32 hash table for the allocator (alloc.ts): a live block's address, in granules, to its block id.
// Open addressing with linear probing and Fibonacci hashing, load at most 1/2, and backward-shift deletion so
// lookups need no tombstones. Two int32s per slot (key, value), so probes and shifts read only this table.
// Creates no objects after construction; grows by doubling.

const KEY = 0;
const VALUE = 1;
const EMPTY = -1;
const NIL = -1;

export class AddressTable {
  private table: Int32Array;
  private mask: number;
  /** 32 - log2(slots): Fibonacci hashing keeps the top bits of the product. */
  private shift: number;
  private count = 0;

  /** `slotsLog2`: the initial size, 2^slotsLog2 slots. */
  constructor(slotsLog2 = 9) {
    this.table = new Int32Array(2 << slotsLog2).fill(EMPTY);
    this.mask = (1 << slotsLog2) - 1;
    this.shift = 32 - slotsLog2;
  }

  get size(): number {
    return this.count;
  }

  /** The slot holding `key`, or -1. A key that is not a non-negative int32 (a fraction, NaN) matches nothing. */
  find(key: number): number {
    const t = this.table;
    for (let s = this.home(key); ; s = (s + 1) & this.mask) {
      const k = t[s << 1]!;
      if (k === EMPTY) return NIL; // checked first: a key of -1 would otherwise match an empty slot
      if (k === key) return s;
    }
  }

  valueAt(slot: number): number {
    return this.table[(slot << 1) + VALUE]!;
  }

  /** Adds a key that is not in the table (the caller knows: a block address is live at most once). */
  insert(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.place(key, value);
    this.count++;
  }

  /** Empties a slot and moves later entries of its probe run back. */
  removeAt(hole: number): void {
    const t = this.table;
    const mask = this.mask;
    t[(hole << 1) + KEY] = EMPTY;
    this.count--;
    for (let s = (hole + 1) & mask; ; s = (s + 1) & mask) {
      const key = t[(s << 1) + KEY]!;
      if (key === EMPTY) return;
      const h = this.home(key);
      // An entry whose home lies cyclically in (hole, s] must stay: moved to the hole, it would sit before its
      // home, where no lookup starts.
      if (hole <= s ? hole < h && h <= s : hole < h || h <= s) continue;
      t[(hole << 1) + KEY] = key;
      t[(hole << 1) + VALUE] = t[(s << 1) + VALUE]!;
      t[(s << 1) + KEY] = EMPTY;
      hole = s;
    }
  }

  /** Every entry, for consistency checks. */
  forEach(fn: (key: number, value: number, slot: number) => void): void {
    const t = this.table;
    for (let s = 0; s <= this.mask; s++) {
      const key = t[(s << 1) + KEY]!;
      if (key !== EMPTY) fn(key, t[(s << 1) + VALUE]!, s);
    }
  }

  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  private place(key: number, value: number): void {
    const t = this.table;
    let s = this.home(key);
    while (t[s << 1] !== EMPTY) s = (s + 1) & this.mask;
    t[(s << 1) + KEY] = key;
    t[(s << 1) + VALUE] = value;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2).fill(EMPTY);
    this.mask = this.mask * 2 + 1;
    this.shift--;
    for (let s = 0; s < old.length; s += 2) if (old[s + KEY] !== EMPTY) this.place(old[s + KEY]!, old[s + VALUE]!);
  }
}
