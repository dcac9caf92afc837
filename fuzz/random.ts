// Seeded inputs for the fuzz targets outside jsfuzz: the seed distiller and the CI smoke generate them here, so a
// failure they report names a seed that regenerates the same bytes.

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function prng(seed: number): () => number {
  let t = seed | 0;
  return () => {
    t = (t + 0x6d2b79f5) | 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Random bytes, 0 to maxLen long (lengths skewed short, as most decisions take a byte or two). */
export function randomInput(rand: () => number, maxLen = 1024): Uint8Array {
  const len = Math.floor(rand() ** 2 * (maxLen + 1));
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** One of jsfuzz's kinds of mutation, applied a few times: flip, set an interesting byte, insert, delete, copy. */
export function mutate(rand: () => number, input: Uint8Array): Uint8Array {
  let b = input.slice();
  const rounds = 1 + Math.floor(rand() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rand() * (b.length + 1));
    switch (Math.floor(rand() * 5)) {
      case 0:
        if (b.length > 0) b[Math.min(at, b.length - 1)]! ^= 1 << Math.floor(rand() * 8);
        break;
      case 1:
        if (b.length > 0) b[Math.min(at, b.length - 1)] = [0, 1, 0x7f, 0x80, 0xff][Math.floor(rand() * 5)]!;
        break;
      case 2: {
        const n = 1 + Math.floor(rand() * 16);
        const next = new Uint8Array(b.length + n);
        next.set(b.subarray(0, at));
        for (let i = 0; i < n; i++) next[at + i] = Math.floor(rand() * 256);
        next.set(b.subarray(at), at + n);
        b = next;
        break;
      }
      case 3: {
        const n = Math.min(b.length - at, 1 + Math.floor(rand() * 16));
        const next = new Uint8Array(b.length - n);
        next.set(b.subarray(0, at));
        next.set(b.subarray(at + n), at);
        b = next;
        break;
      }
      default: {
        if (b.length < 2) break;
        const from = Math.floor(rand() * b.length);
        const n = Math.min(b.length - from, 1 + Math.floor(rand() * 16));
        b.copyWithin(Math.min(at, b.length - n), from, from + n);
      }
    }
  }
  return b;
}
