// Generates docs/abi.md from abi/, the ABI's single source of truth. `npm run gen:abi` writes the file;
// test/abi-docs.test.ts fails when the committed file differs from what renderAbiDoc() renders now.
//
// Every number, bound, errno, offset and doc line is read from abi/. The prose for each named offset, limit,
// family and argument kind is written here, in records typed over abi/'s own names, so that a new offset, limit,
// family or argument kind does not compile until it is described. The output is deterministic (no dates, nothing
// about the machine), so a stale doc is always a real difference.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allErrnos, describeSchema, signature } from '../abi/describe.js';
import { ERRNO, type ErrnoName } from '../abi/errno.js';
import { NR_MAX } from '../abi/index.js';
import * as layout from '../abi/layout.js';
import * as limits from '../abi/limits.js';
import { NSIG, SIG_CATCH, SIG_DFL, SIG_IGN, SIGNALS, UNCATCHABLE, type SignalDefault, type SignalName } from '../abi/signals.js';
import {
  CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, PRIO_PROCESS, Rusage, RUSAGE_CHILDREN, RUSAGE_SELF, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR, SpawnRequest, SYSCALLS, WNOHANG,
} from '../abi/syscalls.js';
import { FRAME_ERRNOS, STR_FORMS, type Arg, type Family, type Ret, type Schema, type SyscallDef } from '../abi/types.js';

type RecordSchema = Extract<Schema, { t: 'record' }>;

// ---- prose keyed by abi/'s names -------------------------------------------------------------------------------

const FAMILIES: { readonly [F in Family]: { readonly title: string; readonly intro: string } } = {
  process: {
    title: 'Processes',
    intro:
      'Creating, ending and reaping processes. There is no fork or exec: `spawn` starts a program in a new process ' +
      'and maps the parent\'s descriptors onto the child\'s.',
  },
  signal: {
    title: 'Signals',
    intro:
      'Sending signals and setting dispositions. The handler function itself lives in userland (`signal()` in the ' +
      'SDK). The kernel delivers caught signals as a bit mask (`kSignals`) in its next reply to the process: the ' +
      'answer to the call it is parked in, or to the next call it makes.',
  },
  time: {
    title: 'Time',
    intro: 'Clocks and sleeping.',
  },
  sched: {
    title: 'Scheduling',
    intro:
      'Giving up the virtual CPU, priorities and policies, and usage. Raising a priority or entering the real-time ' +
      'class needs privilege, which only a privileged spawner grants (docs/scheduler.md).',
  },
  memory: {
    title: 'Memory',
    intro:
      'Regions of the simulated physical memory (`--mem`). Each region has a SharedArrayBuffer of its own that ' +
      'reaches the process out of band, so no view a process holds reaches another region. Every region is charged ' +
      'to the allocator and to its users, counted against RLIMIT_AS, and returned when the last user lets go ' +
      '(docs/memory.md).',
  },
  fd: {
    title: 'Descriptors',
    intro:
      'Reading, writing, closing, duplicating and polling file descriptors, and pipes. At most one payload ' +
      '(`PAYLOAD_MAX` bytes) moves per call through the kernel: longer reads and writes return short counts. A ' +
      'pipe\'s bytes live in a ring in shared memory (the pipe ring, below) that the SDK reads and writes directly ' +
      'when no wait is needed; `read` and `write` on a pipe reach the kernel only to wait, fail or signal.',
  },
  ipc: {
    title: 'IPC',
    intro:
      'Named shared memory, futexes and message queues (POSIX names and semantics; docs/posix.md lists the ' +
      'differences). Their memory is charged to the allocator and to the processes that map or hold them, and ' +
      'goes when the last holder lets go (docs/ipc.md).',
  },
};

type LayoutName = keyof typeof layout;
type LayoutGroup = 'word' | 'state' | 'region';

const LAYOUT: { readonly [K in LayoutName]: { readonly group: LayoutGroup; readonly doc: string } } = {
  kState: { group: 'word', doc: 'Channel state (below). The only word either side waits on or notifies for a call.' },
  kNr: { group: 'word', doc: 'Request: the syscall number.' },
  kArgc: { group: 'word', doc: 'Request: how many argument slots the caller filled; must equal the call\'s slot arity, else EINVAL.' },
  kPayloadLen: { group: 'word', doc: 'Request: payload length in bytes (0..PAYLOAD_MAX, else EFAULT).' },
  kErrno: { group: 'word', doc: 'Reply: 0 on success, else a positive errno.' },
  kReplyLen: { group: 'word', doc: 'Reply: payload length in bytes, for calls that answer bytes or a record.' },
  kSignals: { group: 'word', doc: 'Reply: bit mask (bit n = signal n) of caught signals whose handlers userland runs now.' },
  kSpin: { group: 'word', doc: 'Reply: how many polls userland may spin before sleeping on its next call (0: do not spin).' },
  kSeq: { group: 'word', doc: 'Request: sequence number, for traces.' },
  kLife: { group: 'word', doc: '0 while the process lives, 1 once it is gone. Only the loader waits on it.' },
  kFdGen: {
    group: 'word',
    doc: 'Bumped by the kernel whenever the caller\'s descriptor table changes; userland drops what it cached about its descriptors (which are pipe rings) when it moves.',
  },
  kWaitUs: {
    group: 'word',
    doc: 'Reply: microseconds userland may sleep in place on a pipe ring\'s counter or a futex word (Atomics.wait in its own thread) before asking the kernel to park it; 0 while a process waits for a CPU, in deterministic mode, or once the kernel ended a sleep early.',
  },
  kSleepLo: {
    group: 'word',
    doc: 'Low 32 bits of the address of the word the process sleeps on in place (0 when it does not), so the kernel can end the sleep (a signal, a CPU wanted).',
  },
  kSleepHi: {
    group: 'word',
    doc: 'High bits of that address.',
  },
  kFutexParked: {
    group: 'word',
    doc: 'Kept by the kernel: processes parked in the kernel on futex words of the regions the caller maps; userland futex_wake calls the kernel only when it is non-zero.',
  },
  kUserWaiting: { group: 'word', doc: 'Set by userland while it sleeps on kState; the kernel notifies only then.' },
  kKernelWaiting: { group: 'word', doc: 'Set by the kernel while it waits on kState; userland notifies only then.' },
  kInt32Words: { group: 'region', doc: 'Int32 words reserved at the start of the channel (bytes 0..127).' },
  STATE_IDLE: { group: 'state', doc: 'No call yet. Userland owns the channel.' },
  STATE_REQUEST: { group: 'state', doc: 'A frame is ready. The kernel owns the channel until it answers.' },
  STATE_REPLY: { group: 'state', doc: 'The answer is ready. Userland owns the channel again.' },
  STATE_DEAD: { group: 'state', doc: 'The process is gone: nothing will answer, and userland unwinds.' },
  ARG_SLOTS: { group: 'region', doc: 'Float64 argument slots; integers up to 2^53 travel in them without msgpack.' },
  kArgsByte: { group: 'region', doc: 'Byte offset of argument slot 0 (slot i is at kArgsByte + 8·i).' },
  kRet0Byte: { group: 'region', doc: 'Byte offset of result slot ret0 (Float64): the value, or -1 on error.' },
  kRet1Byte: { group: 'region', doc: 'Byte offset of result slot ret1 (Float64): the second value of a pair.' },
  kPayloadByte: { group: 'region', doc: 'Byte offset of the payload: raw bytes or one msgpack value, each way.' },
  PAYLOAD_MAX: { group: 'region', doc: 'Largest payload in either direction, in bytes.' },
  CHANNEL_BYTES: { group: 'region', doc: 'Size of one channel SharedArrayBuffer.' },
};

const LIMITS: { readonly [K in keyof typeof limits]: string } = {
  PID_MAX: 'Largest pid. Pids wrap around to 2 and are never reused while a process or zombie holds one.',
  OPEN_MAX: 'Descriptors per process: fds are 0..OPEN_MAX-1.',
  PATH_MAX: 'Longest path, argv entry or env value, in UTF-16 code units.',
  ARGV_MAX: 'Most argv entries; the whole spawn request must also fit one payload.',
  ENV_MAX: 'Most env entries.',
  ENV_KEY_MAX: 'Longest env key, in UTF-16 code units.',
  IO_MAX: 'Most bytes one read or write moves (one payload); larger requests return a short count.',
  SSIZE_MAX: 'Largest count a read may ask for (a signed 32-bit count, as ssize_t is carried).',
  SLEEP_SEC_MAX: 'Largest number of seconds in one nanosleep.',
  MMAP_MAX: 'Largest length mmap takes; a length over the memory there is answers ENOMEM.',
  MEM_LIMIT_MAX: 'Largest RLIMIT_AS (`memLimit`) a spawn request can set, in bytes.',
  VADDR_MAX: 'The top of a process\'s virtual address space; mappings are placed page-aligned below it, from 0x10000 up.',
  PIPE_BUF: 'Writes to a pipe of at most this many bytes go in whole, never interleaved with another writer\'s bytes.',
  NAME_MAX: 'Longest name of a shared-memory object or message queue after its leading \'/\' (longer: ENAMETOOLONG).',
  MQ_MAXMSG_MAX: 'Most messages a queue can be created to hold.',
  MQ_MSGSIZE_MAX: 'Largest message size a queue can be created with (one payload).',
  MQ_PRIO_MAX: 'Message priorities are 0..MQ_PRIO_MAX-1; higher is received first.',
  TIMEOUT_MS_MAX: 'Longest timeout, in milliseconds, a blocking IPC call (poll, futex_wait, mq_send, mq_receive) takes.',
};

/** How an argument of each kind travels and what the kernel's validator (kernel/validate.ts) answers when it is wrong. */
const ARG_KINDS: { readonly [K in Arg['kind']]: { readonly travels: 'slot' | 'payload'; readonly rule: string } } = {
  int: { travels: 'slot', rule: 'An integer in [min, max]; anything else (out of range, fractional, NaN): EINVAL.' },
  fd: { travels: 'slot', rule: 'A descriptor 0..OPEN_MAX-1 of the caller; out of range or not open: EBADF.' },
  pid: {
    travels: 'slot',
    rule: 'A process id. 0 or negative (a process group) or not an integer: EINVAL; above PID_MAX or no such process: ESRCH.',
  },
  signal: {
    travels: 'slot',
    rule: 'A number the signal table defines; 0 only where the signature says `signal|0`; anything else: EINVAL.',
  },
  flags: { travels: 'slot', rule: 'A bit set of the listed flags; any other bit: EINVAL.' },
  bytes: { travels: 'payload', rule: 'Raw bytes in the payload, kPayloadLen of them (at most PAYLOAD_MAX).' },
  record: {
    travels: 'payload',
    rule:
      'Exactly one msgpack value in the payload, checked against its schema. Malformed, or the wrong shape ' +
      '(a required field missing or null, an unknown field, a wrong type, an int out of range): EINVAL. ' +
      'A string, list, dict or dict key over its bound: E2BIG. A null optional field counts as absent.',
  },
};

const RETS: { readonly [K in Ret['kind']]: string } = {
  void: '0 in ret0.',
  noreturn: 'On success there is no reply: the channel goes to STATE_DEAD and the calling thread unwinds.',
  int: 'One integer in ret0.',
  pair: 'Two integers, in ret0 and ret1; the SDK returns them as one object with both names.',
  bytes: 'Bytes in the payload, kReplyLen of them; the SDK returns a Uint8Array.',
  record: 'One msgpack value in the payload, kReplyLen bytes.',
  mapping:
    'The region\'s address in ret0 and the mapping\'s access mode and status flags in ret1; its SharedArrayBuffer ' +
    'goes to the process\'s grant port before the reply, and the SDK returns `{ addr, bytes, flags }`, bytes a ' +
    'Uint8Array over the whole region.',
  message:
    'Bytes in the payload (kReplyLen of them, their count in ret0) and an integer in ret1; the SDK returns ' +
    '`{ data, <name> }`.',
};

/** Why any call can fail with each frame errno (kernel/executor.ts and kernel/validate.ts decide these). */
const FRAME_REASONS: { readonly [E in (typeof FRAME_ERRNOS)[number]]: string } = {
  ENOSYS: 'no syscall has this number',
  EINVAL: 'wrong argument count, an invalid argument, a payload the call does not take, or one that does not decode',
  EFAULT: 'payload length outside 0..PAYLOAD_MAX',
  E2BIG: 'a string, list or dict in a record argument over its bound',
};

const DEFAULT_ACTIONS: { readonly [D in SignalDefault]: string } = {
  term: 'terminate',
  core: 'terminate (no core file)',
  ignore: 'ignore',
  stop: 'stop: not implemented, ignored',
  cont: 'continue: not implemented, ignored',
};

/** Notes on record fields, typed so that every field of each described record has one. */
function fieldNotes<S extends RecordSchema>(schema: S, notes: { readonly [K in keyof S['fields']]: string }): [Schema, Readonly<Record<string, string>>] {
  return [schema, notes as Readonly<Record<string, string>>];
}

const FIELD_NOTES = new Map<Schema, Readonly<Record<string, string>>>([
  fieldNotes(SpawnRequest, {
    path:
      'The program file. A relative path resolves against the kernel\'s working directory; `file:` URLs are ' +
      'accepted. Missing: ENOENT; not a regular file: EACCES.',
    argv: 'The child\'s argv; default `[path]`.',
    env: 'The child\'s environment; default: a copy of the caller\'s.',
    fds:
      'fds[i] is the caller\'s descriptor that becomes the child\'s descriptor i; -1 leaves i closed; default ' +
      '`[0, 1, 2]`. A descriptor the caller does not have: EBADF.',
    nice: 'The child\'s nice value; default the caller\'s. Lower than the caller\'s needs privilege: EPERM.',
    policy:
      'SCHED_OTHER, SCHED_FIFO, SCHED_RR or SCHED_IDLE; default the caller\'s. A real-time class the caller does ' +
      'not have needs privilege: EPERM. Another number: EINVAL.',
    rtPriority:
      'Real-time priority, 1..99 for SCHED_FIFO and SCHED_RR (default 1, or the caller\'s when the policy is ' +
      'inherited), 0 otherwise (EINVAL). Above the caller\'s needs privilege: EPERM.',
    privileged: 'Grant the child privilege (raising priorities, the real-time class); only a privileged caller can: EPERM.',
    cpuLimitMs:
      'RLIMIT_CPU in milliseconds of CPU time: SIGXCPU when reached, SIGKILL a grace period later. Default: the ' +
      'caller\'s limit.',
    memLimit:
      'RLIMIT_AS in bytes: the most memory the child may hold (mmap past it: ENOMEM). Default: the caller\'s; more ' +
      'than the caller\'s needs privilege: EPERM.',
    oomScoreAdj:
      'Added to the child\'s OOM badness: -1000 (never chosen) to 1000 (chosen first). Default: the caller\'s; ' +
      'lower than the caller\'s needs privilege: EPERM.',
  }),
  fieldNotes(Rusage, {
    cpuNs: 'CPU time used running userland code, in nanoseconds.',
    waitNs: 'Time spent runnable but waiting for a virtual CPU.',
    nvcsw: 'Voluntary context switches: the process blocked or yielded.',
    nivcsw: 'Involuntary context switches: the scheduler preempted it.',
  }),
]);

// ---- rendering ----------------------------------------------------------------------------------------------------

/** Escapes the characters that would end a Markdown table cell. */
function cell(s: string): string {
  return s.replaceAll('|', '\\|');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (r: readonly string[]): string => `| ${r.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function schemaType(s: Schema): string {
  switch (s.t) {
    case 'str':
      return `string, at most ${s.max} UTF-16 code units` + (s.form === undefined ? '' : ` (form ${s.form}: ${STR_FORMS[s.form].doc})`);
    case 'int':
      return `integer in [${s.min}, ${s.max}]`;
    case 'bool':
      return 'boolean';
    case 'list':
      return `list of at most ${s.max}: ${schemaType(s.of)}`;
    case 'dict':
      return `map of at most ${s.max} entries, keys of at most ${s.keyMax} code units, values: ${schemaType(s.of)}`;
    case 'record':
      return `record ${describeSchema(s)}`;
    default: {
      const never: never = s;
      return String(never);
    }
  }
}

/** A record schema, one row per field, with the notes this file keeps for it. */
function renderRecord(s: RecordSchema): string {
  const notes = FIELD_NOTES.get(s) ?? {};
  const rows = Object.entries(s.fields).map(([name, f]) => [
    `\`${name}\``,
    s.optional.includes(name) ? 'no' : 'yes',
    schemaType(f),
    notes[name] ?? '',
  ]);
  return table(['Field', 'Required', 'Type', 'Meaning'], rows);
}

/** The values an argument takes, in the call's own terms. */
function argValues(a: Arg): string {
  switch (a.kind) {
    case 'int':
      return `[${a.min}, ${a.max}]` + (a.resource === 'addr' ? ': an address in one of the caller\'s mappings' : '');
    case 'fd':
      return `an open descriptor, 0..${limits.OPEN_MAX - 1}`;
    case 'pid':
      return `1..${limits.PID_MAX}`;
    case 'signal':
      return a.zero ? 'a signal number, or 0' : 'a signal number';
    case 'flags':
      return Object.entries(a.bits).map(([n, v]) => `${n} = ${v}`).join(', ');
    case 'bytes':
      return `at most ${layout.PAYLOAD_MAX} bytes`;
    case 'record':
      return a.schema.t === 'record' ? 'the record below' : schemaType(a.schema);
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

function renderArgs(d: SyscallDef): string {
  if (d.args.length === 0) return 'Arguments: none.';
  let slot = 0;
  const rows = d.args.map((a) => {
    const where = ARG_KINDS[a.kind].travels === 'slot' ? `slot ${slot++}` : a.kind === 'bytes' ? 'payload (raw)' : 'payload (msgpack)';
    return [`\`${a.name}\``, a.kind, where, argValues(a)];
  });
  const out = [table(['Argument', 'Kind', 'Travels in', 'Values'], rows)];
  for (const a of d.args) {
    if (a.kind === 'record' && a.schema.t === 'record') out.push(`\`${a.name}\` is a record:\n\n${renderRecord(a.schema)}`);
  }
  return out.join('\n\n');
}

function isFrameErrno(name: string): name is (typeof FRAME_ERRNOS)[number] {
  return (FRAME_ERRNOS as readonly string[]).includes(name);
}

function errnoReasons(d: SyscallDef, name: ErrnoName): string {
  const why: string[] = [];
  if (d.errnos.includes(name)) why.push('this call\'s own');
  if (name === 'EINTR' && d.blocking) why.push('a caught signal ended the wait');
  if (isFrameErrno(name)) why.push(`any call: ${FRAME_REASONS[name]}`);
  return why.join('; ');
}

/** The result of one call, with the names the table gives its integers. */
function resultOf(r: Ret): string {
  switch (r.kind) {
    case 'int':
      return `\`${r.name}\` in ret0.`;
    case 'pair':
      return `\`${r.names[0]}\` in ret0 and \`${r.names[1]}\` in ret1; the SDK returns \`{ ${r.names[0]}, ${r.names[1]} }\`.`;
    case 'void':
    case 'noreturn':
    case 'bytes':
    case 'record':
    case 'mapping':
      return RETS[r.kind];
    case 'message':
      return `The message in the payload (its length in ret0) and \`${r.name}\` in ret1; the SDK returns \`{ data, ${r.name} }\`.`;
    default: {
      const never: never = r;
      return String(never);
    }
  }
}

function renderSyscall(d: SyscallDef): string {
  const errnos = allErrnos(d) as ErrnoName[];
  return [
    `#### \`${d.name}\` (${d.nr})`,
    '```\n' + signature(d) + '\n```',
    d.doc,
    `Blocking: ${d.blocking ? 'yes. It can park the caller until an event; a caught signal ends the wait with EINTR.' : 'no.'}`,
    renderArgs(d),
    `Result: ${resultOf(d.ret)}`,
    table(
      ['Errno', 'No.', 'Message', 'Why'],
      errnos.map((e) => [e, String(ERRNO[e].no), ERRNO[e].msg, errnoReasons(d, e)]),
    ),
  ].join('\n\n');
}

function renderFamilies(): string {
  const all = SYSCALLS as readonly SyscallDef[];
  const order: Family[] = [];
  for (const d of all) if (!order.includes(d.family)) order.push(d.family);
  const index = table(
    ['No.', 'Syscall', 'Family', 'Blocks', 'What it does'],
    all.map((d) => [String(d.nr), `\`${d.name}\``, d.family, d.blocking ? 'yes' : 'no', d.doc]),
  );
  const families = order.map((f) => {
    const calls = all.filter((d) => d.family === f);
    return [
      `### ${FAMILIES[f].title}`,
      `Family \`${f}\`: ${calls.map((d) => `\`${d.name}\` (${d.nr})`).join(', ')}. ${FAMILIES[f].intro}`,
      ...calls.map(renderSyscall),
    ].join('\n\n');
  });
  return ['## Syscalls', index, ...families].join('\n\n');
}

function renderLayout(): string {
  const names = Object.keys(LAYOUT) as LayoutName[];
  const of = (g: LayoutGroup): LayoutName[] => names.filter((n) => LAYOUT[n].group === g);
  const words = of('word')
    .sort((a, b) => layout[a] - layout[b])
    .map((n) => [`\`${n}\``, String(layout[n]), String(layout[n] * 4), LAYOUT[n].doc]);
  const states = of('state')
    .sort((a, b) => layout[a] - layout[b])
    .map((n) => [`\`${n}\``, String(layout[n]), LAYOUT[n].doc]);
  const regions = of('region').map((n) => [`\`${n}\``, String(layout[n]), LAYOUT[n].doc]);
  return [
    'Int32 words, by index into an `Int32Array` over the channel:',
    table(['Name', 'Index', 'Byte', 'Meaning'], words),
    'States of `kState`:',
    table(['Name', 'Value', 'Meaning'], states),
    'Regions and sizes:',
    table(['Name', 'Value', 'Meaning'], regions),
  ].join('\n\n');
}

function renderIntro(): string {
  const frame = table(
    ['Errno', 'No.', 'Any call fails with it when'],
    FRAME_ERRNOS.map((e) => [e, String(ERRNO[e].no), FRAME_REASONS[e]]),
  );
  return `# The Agentix syscall ABI

<!-- Generated by scripts/gen-abi-docs.ts from abi/. Do not edit: change abi/ and run \`npm run gen:abi\`. -->

Every syscall is defined once, in \`abi/syscalls.ts\`. The kernel's validator, the userland stubs (\`sys.*\`,
\`sysAsync.*\`), \`agentix abi\` and this page are derived from that table. Numbers are ABI: a number is never
reused or renumbered, and any number the table does not define (1..${NR_MAX} has gaps) fails with ENOSYS.

## How a call travels

Each process has one channel: a SharedArrayBuffer of ${layout.CHANNEL_BYTES} bytes shared only by that process's
thread and the kernel. A call is one frame in it:

1. **Slots.** Userland writes each integer-like argument (\`int\`, \`fd\`, \`pid\`, \`signal\`, \`flags\`) into
   the next Float64 argument slot, in argument order, and sets \`kArgc\` to how many it filled.
2. **Payload.** The one argument that does not fit a slot, if the call has one, goes in the payload:
   \`bytes\` as raw bytes (write's data), \`record\` as one msgpack value. \`kPayloadLen\` says how long it is.
3. **Request.** Userland sets \`kNr\` and \`kSeq\`, stores \`STATE_REQUEST\` into \`kState\` with
   \`Atomics.store\` and, if the kernel said it sleeps (\`kKernelWaiting\`), notifies it.
4. **Kernel.** The executor reads each value once out of shared memory, copies a msgpack payload before decoding
   it, checks everything against the table, and runs the handler. A call that must wait parks the process;
   the answer comes when the event does.
5. **Reply.** The kernel writes \`kErrno\`, \`ret0\` (and \`ret1\` for a pair), \`kReplyLen\` and the reply payload
   for calls that answer bytes or a record, \`kSignals\` and \`kSpin\`, then stores \`STATE_REPLY\` (or
   \`STATE_DEAD\` if the process is gone) and notifies userland if it sleeps (\`kUserWaiting\`).
6. **Return.** Userland decodes the result, runs the handlers of the signals in \`kSignals\`, then returns the
   value or throws.

Plain stores before the \`Atomics.store\` of \`kState\` are visible to the side that \`Atomics.load\`s the new state,
so \`kState\` is the only word that needs atomics for the frame itself. One call is in flight per process at a time.

## Errors

An error crosses the ABI only as an errno: \`kErrno\` holds a positive errno and \`ret0\` is -1. In userland the
stub throws a \`SysError\` with \`.errno\` (the number), \`.code\` (the name, such as \`'EBADF'\`) and \`.syscall\`.

Besides its own errnos, **every call** can fail with the frame errnos (\`FRAME_ERRNOS\`), which the executor
returns before any handler runs:

${frame}

A **blocking** call can also fail with EINTR when a caught signal ends its wait. Each entry below lists every errno
the call can return, with the reason. One more, EIO, means a kernel bug: a handler threw, and the executor
answered EIO instead of letting the exception escape (docs/architecture.md).

The SDK raises two of these itself, before any frame is sent: EINVAL when a \`bytes\` argument is neither a
string nor an ArrayBuffer view, and E2BIG when a \`record\` argument's msgpack encoding is longer than one payload.

## The channel

${renderLayout()}

## Argument and result kinds

Arguments are checked by kind, whatever the call:

${table(['Kind', 'Travels in', 'Valid values'], (Object.keys(ARG_KINDS) as Arg['kind'][]).map((k) => [`\`${k}\``, ARG_KINDS[k].travels, ARG_KINDS[k].rule]))}

Results:

${table(['Kind', 'How it comes back'], (Object.keys(RETS) as Ret['kind'][]).map((k) => [`\`${k}\``, RETS[k]]))}

Constants for arguments: \`WNOHANG = ${WNOHANG}\` (waitpid); \`CLOCK_REALTIME = ${CLOCK_REALTIME}\`,
\`CLOCK_MONOTONIC = ${CLOCK_MONOTONIC}\`, \`CLOCK_PROCESS_CPUTIME_ID = ${CLOCK_PROCESS_CPUTIME_ID}\` (clock_gettime);
\`SIG_DFL = ${SIG_DFL}\`, \`SIG_IGN = ${SIG_IGN}\`, \`SIG_CATCH = ${SIG_CATCH}\` (sigaction);
\`SCHED_OTHER = ${SCHED_OTHER}\`, \`SCHED_FIFO = ${SCHED_FIFO}\`, \`SCHED_RR = ${SCHED_RR}\`, \`SCHED_IDLE = ${SCHED_IDLE}\`
(sched_setscheduler, spawn); \`PRIO_PROCESS = ${PRIO_PROCESS}\` (getpriority, setpriority);
\`RUSAGE_SELF = ${RUSAGE_SELF}\`, \`RUSAGE_CHILDREN = ${RUSAGE_CHILDREN}\` (getrusage).
A wait status is POSIX's: the exit code in bits 8..15, or the killing signal in bits 0..6; read it with
\`WIFEXITED\`, \`WEXITSTATUS\`, \`WIFSIGNALED\` and \`WTERMSIG\`.`;
}

function renderErrnos(): string {
  const users = (e: ErrnoName): string =>
    (SYSCALLS as readonly SyscallDef[])
      .filter((d) => (allErrnos(d) as string[]).includes(e))
      .map((d) => d.name)
      .join(', ');
  const rows = (Object.keys(ERRNO) as ErrnoName[]).map((e) => {
    const by = (FRAME_ERRNOS as readonly string[]).includes(e) ? 'every call' : users(e);
    return [e, String(ERRNO[e].no), ERRNO[e].msg, by === '' ? '—' : by];
  });
  return `## Errnos

Numbers are Linux's, so that anyone who knows POSIX reads them at a glance. An errno no call returns yet is
reserved for calls to come.

${table(['Name', 'No.', 'Message', 'Returned by'], rows)}`;
}

function renderSignals(): string {
  const rows = (Object.keys(SIGNALS) as SignalName[]).map((n) => {
    const s = SIGNALS[n];
    return [n, String(s.no), DEFAULT_ACTIONS[s.dfl], s.doc, UNCATCHABLE.has(s.no) ? 'no' : 'yes'];
  });
  return `## Signals

Numbers are Linux x86-64's (signal(7)); NSIG is ${NSIG}, and pending and caught sets are bit masks over 1..NSIG.
"Catchable" means sigaction can set a disposition (any sigaction on the others fails with EINVAL).

${table(['Name', 'No.', 'Default action', 'Meaning', 'Catchable'], rows)}

A signal whose action is to terminate (SIGKILL always; the others under \`SIG_DFL\`) ends the process at once,
wherever it is. A caught signal is delivered with the kernel's next reply to the process, and ends a blocking wait
with EINTR. A parent whose SIGCHLD disposition is \`SIG_IGN\` leaves no zombies: its children are reaped as they
exit. docs/posix.md has the details.`;
}

function renderLimits(): string {
  const rows = (Object.keys(LIMITS) as (keyof typeof limits)[]).map((n) => [`\`${n}\``, String(limits[n]), LIMITS[n]]);
  return `## Limits

The limits a program can observe (\`abi/limits.ts\`). Kernel tunables it cannot observe live in \`kernel/param.ts\`.

${table(['Name', 'Value', 'Meaning'], rows)}`;
}

/** The whole of docs/abi.md, as it should be now. */
export function renderAbiDoc(): string {
  return [renderIntro(), renderFamilies(), renderErrnos(), renderSignals(), renderLimits()].join('\n\n') + '\n';
}

const DOC = fileURLToPath(new URL('../../docs/abi.md', import.meta.url));

function main(): void {
  writeFileSync(DOC, renderAbiDoc());
  process.stdout.write(`wrote ${path.relative(process.cwd(), DOC)}\n`);
}

// Written only when run as a script: the test imports renderAbiDoc and must leave the file alone.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
