// Argument validation, interpreted from the ABI's types: nothing here knows any particular syscall.

import { ERRNO } from '../abi/errno.js';
import { OPEN_MAX, PID_MAX } from '../abi/limits.js';
import { NSIG, signalName } from '../abi/signals.js';
import type { Schema, SlotArg } from '../abi/types.js';

const EINVAL = ERRNO.EINVAL.no;
const E2BIG = ERRNO.E2BIG.no;

/** 0 if v is a valid value for the slot argument, else the errno the call fails with. */
export function checkSlot(a: SlotArg, v: number): number {
  switch (a.kind) {
    case 'int':
      return Number.isInteger(v) && v >= a.min && v <= a.max ? 0 : EINVAL;
    case 'fd':
      return Number.isInteger(v) && v >= 0 && v < OPEN_MAX ? 0 : ERRNO.EBADF.no;
    case 'pid':
      if (!Number.isInteger(v) || v < 1) return EINVAL; // process groups (pid <= 0) are not supported
      return v <= PID_MAX ? 0 : ERRNO.ESRCH.no;
    case 'signal':
      if (a.zero && v === 0) return 0;
      return Number.isInteger(v) && v >= 1 && v <= NSIG && signalName(v) !== undefined ? 0 : EINVAL;
    case 'flags':
      return Number.isInteger(v) && v >= 0 && v <= 0x7fffffff && (v & ~a.mask) === 0 ? 0 : EINVAL;
    default: {
      const never: never = a;
      return never;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** 0 if a decoded msgpack value fits the schema; E2BIG when a bound is exceeded, EINVAL for a wrong shape.
 *  Null optional fields of records are removed, so that a valid value has the shape its schema's type describes. */
export function checkValue(s: Schema, v: unknown): number {
  switch (s.t) {
    case 'str':
      if (typeof v !== 'string') return EINVAL;
      return v.length <= s.max ? 0 : E2BIG;
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= s.min && v <= s.max ? 0 : EINVAL;
    case 'bool':
      return typeof v === 'boolean' ? 0 : EINVAL;
    case 'list': {
      if (!Array.isArray(v)) return EINVAL;
      if (v.length > s.max) return E2BIG;
      for (const x of v as unknown[]) {
        const e = checkValue(s.of, x);
        if (e !== 0) return e;
      }
      return 0;
    }
    case 'dict': {
      if (!isPlainObject(v)) return EINVAL;
      const keys = Object.keys(v);
      if (keys.length > s.max) return E2BIG;
      for (const k of keys) {
        if (k.length > s.keyMax) return E2BIG;
        const e = checkValue(s.of, v[k]);
        if (e !== 0) return e;
      }
      return 0;
    }
    case 'record': {
      if (!isPlainObject(v)) return EINVAL;
      for (const k of Object.keys(v)) if (!Object.hasOwn(s.fields, k)) return EINVAL;
      for (const [k, fs] of Object.entries(s.fields)) {
        if (!Object.hasOwn(v, k) || v[k] === undefined || v[k] === null) {
          if (!s.optional.includes(k)) return EINVAL;
          // Absent, as the schema's type says: handlers test optional fields against undefined only. (The value
          // is the kernel's own decoded copy, so removing the field changes nothing userland sees.)
          delete v[k];
          continue;
        }
        const e = checkValue(fs, v[k]);
        if (e !== 0) return e;
      }
      return 0;
    }
    default: {
      const never: never = s;
      return never;
    }
  }
}
