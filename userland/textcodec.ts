// TextEncoder and TextDecoder (UTF-8 only) for the sandbox, written against the WHATWG Encoding Standard.
//
// Why not hand the host's codecs in: every host object inside the sandbox is a way out (its `constructor`
// chain reaches the host's Function, and so `process`), and so is every error a host function throws. Code
// evaluated inside the context has no such edge. This module must be evaluated before @msgpack/msgpack, which
// builds its shared codecs at load time; sdk.ts imports it first for that reason.

const REPLACEMENT = 0xfffd;

function utf8Length(str: string): number {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = str.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Encodes str into out, stopping before the first character that does not fit whole; reports the UTF-16
 *  units read and the bytes written through `counts`. */
function encodeInto(str: string, out: Uint8Array, counts: [number, number]): void {
  let i = 0;
  let o = 0;
  const cap = out.length;
  while (i < str.length) {
    let c = str.charCodeAt(i);
    let units = 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < str.length ? str.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        units = 2;
      } else c = REPLACEMENT; // lone surrogate
    }
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (o + len > cap) break;
    if (len === 1) out[o++] = c;
    else if (len === 2) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (len === 3) {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
    i += units;
  }
  counts[0] = i;
  counts[1] = o;
}

/** Decodes with the WHATWG error handling: each maximal invalid subpart becomes one U+FFFD (or throws if fatal). */
function decode(bytes: Uint8Array, fatal: boolean, ignoreBOM: boolean): string {
  let i = 0;
  const n = bytes.length;
  if (!ignoreBOM && n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  const units: number[] = [];
  let out = '';
  const fail = (): void => {
    if (fatal) throw new TypeError('The encoded data was not valid for encoding utf-8');
    units.push(REPLACEMENT);
  };
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      units.push(b);
      i++;
    } else {
      let need: number;
      let cp: number;
      let lower = 0x80;
      let upper = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0x0f;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        cp = b & 0x07;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      } else {
        fail();
        i++;
        continue;
      }
      i++;
      let ok = true;
      for (let k = 0; k < need; k++) {
        const c = i < n ? bytes[i]! : -1;
        if (c < lower || c > upper) {
          ok = false;
          break;
        }
        lower = 0x80;
        upper = 0xbf;
        cp = (cp << 6) | (c & 0x3f);
        i++;
      }
      if (!ok) fail();
      else if (cp >= 0x10000) {
        cp -= 0x10000;
        units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      } else units.push(cp);
    }
    // Flush in chunks so String.fromCharCode never sees more arguments than the engine allows.
    if (units.length >= 8192) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

function toBytes(input: unknown): Uint8Array {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer || input instanceof SharedArrayBuffer) return new Uint8Array(input);
  throw new TypeError('The "input" argument must be an ArrayBuffer or ArrayBufferView');
}

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }
  encode(input = ''): Uint8Array {
    const str = String(input);
    const out = new Uint8Array(utf8Length(str));
    const counts: [number, number] = [0, 0];
    encodeInto(str, out, counts);
    return out;
  }
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number } {
    const counts: [number, number] = [0, 0];
    encodeInto(String(input), dest, counts);
    return { read: counts[0], written: counts[1] };
  }
}

export class TextDecoder {
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const l = String(label).trim().toLowerCase();
    if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') {
      throw new RangeError(`The "${String(label)}" encoding is not supported in the Agentix sandbox (UTF-8 only)`);
    }
    this.fatal = options.fatal === true;
    this.ignoreBOM = options.ignoreBOM === true;
  }
  get encoding(): string {
    return 'utf-8';
  }
  decode(input?: unknown): string {
    return decode(toBytes(input), this.fatal, this.ignoreBOM);
  }
}

const g = globalThis as { TextEncoder?: unknown; TextDecoder?: unknown };
g.TextEncoder ??= TextEncoder;
g.TextDecoder ??= TextDecoder;
