// The fuzzers' only source of decisions: a reader that turns the input bytes into choices. Every choice a
// generator makes consumes bytes from the front, so a coverage-guided mutator that flips a byte changes one
// decision, and an input replays to the same calls. Past the end every read answers 0 (the first option of any
// choice), so a generator always terminates, and `exhausted` tells a loop to stop.

export class Choices {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Every byte has been read: further reads answer 0. */
  get exhausted(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Bytes read so far (at most the input's length). */
  get consumed(): number {
    return Math.min(this.pos, this.bytes.length);
  }

  byte(): number {
    const b = this.pos < this.bytes.length ? this.bytes[this.pos]! : 0;
    this.pos++;
    return b;
  }

  /** An unsigned integer of n bytes, little-endian (n at most 6, so the result is exact). */
  uint(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.byte() * 2 ** (8 * i);
    return v;
  }

  /** A signed 32-bit integer. */
  i32(): number {
    return this.uint(4) | 0;
  }

  /** Any float64, NaN payloads and infinities included: eight bytes as the channel's slots hold them. */
  f64(): number {
    const b = new Uint8Array(8);
    for (let i = 0; i < 8; i++) b[i] = this.byte();
    return new DataView(b.buffer).getFloat64(0, true);
  }

  /** An integer in [0, n): one byte for n up to 256, two up to 65536, and so on (at most six). */
  below(n: number): number {
    if (!(n > 1)) return 0;
    const width = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x1000000 ? 3 : n <= 2 ** 32 ? 4 : 6;
    return this.uint(width) % n;
  }

  /** An integer in [lo, hi] (inclusive, integer bounds, hi - lo below 2^48). */
  between(lo: number, hi: number): number {
    return hi <= lo ? lo : lo + this.below(hi - lo + 1);
  }

  /** True with probability about num/den (one byte). */
  chance(num: number, den: number): boolean {
    return this.byte() * den < num * 256;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)]!;
  }

  /** An index into `weights`, chosen in proportion to them (one byte: weights should sum to at most 256). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = (this.byte() * total) / 256;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Up to n bytes copied from the input (fewer if it ends first). */
  take(n: number): Uint8Array {
    const start = Math.min(this.pos, this.bytes.length);
    const end = Math.min(start + Math.max(0, n), this.bytes.length);
    this.pos = Math.max(this.pos, start) + Math.max(0, n);
    return this.bytes.slice(start, end);
  }
}
