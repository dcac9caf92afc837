// Human-readable renderings of ABI definitions, shared by `agentix abi`, docs/abi.md and traces.

import { FRAME_ERRNOS, type Arg, type Ret, type Schema, type SyscallDef } from './types.js';

export function describeSchema(s: Schema): string {
  switch (s.t) {
    case 'str':
      return `${s.form ?? 'string'}(≤${s.max})`;
    case 'int':
      return `int[${s.min}..${s.max}]`;
    case 'bool':
      return 'bool';
    case 'list':
      return `${describeSchema(s.of)}[≤${s.max}]`;
    case 'dict':
      return `{[key(≤${s.keyMax})]: ${describeSchema(s.of)}}(≤${s.max})`;
    case 'record':
      return `{ ${Object.entries(s.fields)
        .map(([k, v]) => `${k}${s.optional.includes(k) ? '?' : ''}: ${describeSchema(v)}`)
        .join(', ')} }`;
    default: {
      const never: never = s;
      return String(never);
    }
  }
}

export function describeArg(a: Arg): string {
  switch (a.kind) {
    case 'int':
      return `${a.name}: int[${a.min}..${a.max}]`;
    case 'fd':
      return `${a.name}: fd`;
    case 'pid':
      return `${a.name}: pid`;
    case 'signal':
      return `${a.name}: signal${a.zero ? '|0' : ''}`;
    case 'flags':
      return `${a.name}: flags(${Object.keys(a.bits).join('|')})`;
    case 'bytes':
      return `${a.name}: bytes`;
    case 'record':
      return `${a.name}: ${describeSchema(a.schema)}`;
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

export function describeRet(r: Ret): string {
  switch (r.kind) {
    case 'void':
      return '0';
    case 'noreturn':
      return 'never returns';
    case 'int':
      return r.name;
    case 'pair':
      return `(${r.names[0]}, ${r.names[1]})`;
    case 'bytes':
      return 'bytes';
    case 'record':
      return describeSchema(r.schema);
    case 'mapping':
      return '(addr, bytes, flags)';
    case 'message':
      return `(bytes, ${r.name})`;
    default: {
      const never: never = r;
      return String(never);
    }
  }
}

/** `read(fd: fd, count: int[0..2147483647]) -> bytes` */
export function signature(d: SyscallDef): string {
  return `${d.name}(${d.args.map(describeArg).join(', ')}) -> ${describeRet(d.ret)}`;
}

/** Every errno a call can return: its own, EINTR if it blocks, then the frame errnos. */
export function allErrnos(d: SyscallDef): string[] {
  const own: string[] = [...d.errnos];
  if (d.blocking) own.push('EINTR');
  return [...new Set([...own, ...FRAME_ERRNOS])];
}
