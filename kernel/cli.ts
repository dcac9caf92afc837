#!/usr/bin/env node
// The agentix command: `agentix run <program> [args…]`, `agentix abi`. Options before the program belong to
// agentix; everything after it belongs to the program.

import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { destination, pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { SYSCALLS } from '../abi/syscalls.js';
import { allErrnos, signature } from '../abi/describe.js';
import { Kernel, type ExitResult } from './api.js';
import { AgentixError, toError } from './errors.js';
import { eachEvent, type Stamped } from './events.js';
import { ChromeTraceBuilder } from './perfetto.js';
import { formatIpcs, formatMemory, formatProcesses, formatRunqueue, formatSyscalls, ProcHistory, SyscallCounts } from './stats.js';
import { ByteLines, eventToJson, FileLines, jsonlHeader } from './records.js';
import { parseCallFilter, Strace } from './trace.js';
import { LiveView } from './ui.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `agentix ${VERSION}: a simulated microkernel for agent programs

Usage:
  agentix run [options] <program.js> [args…]   run a program as a sandboxed process
  agentix abi [--json]                          print the syscall table
  agentix --version | --help

Run 'agentix <command> --help' for a command's options.
`;

const RUN_HELP = `Usage: agentix run [options] <program.js> [args…]

Boots a kernel, runs the program (an ES module whose default export is main(argv, env)) as pid 2 with the
terminal as its stdin, stdout and stderr, and exits with its exit code (128 + signal if a signal ended it).
SIGINT, SIGTERM and SIGHUP sent to agentix go to the program; a second Ctrl-C sends SIGKILL.

Options:
  --cpus N           virtual CPUs (default: this machine's cores)
  --mem SIZE         simulated physical memory, e.g. 256M (default 256M)
  --deterministic    one virtual CPU and a virtual clock: the same programs and seed give the same schedule
  --seed S           the seed for deterministic mode's choices (default 0)
  --env KEY=VALUE    put a variable in the program's environment (repeatable); the default environment is empty,
                     so host secrets reach an agent program only when you pass them
  --inherit-env      start from agentix's own environment instead of an empty one
  --log-level LEVEL  kernel log level: fatal, error, warn, info, debug, trace, silent (default warn); debug
                     also logs processes' lives (spawn, signal, exit, OOM and pressure), trace every syscall
  --log-pretty       logs as readable lines (the default when stderr is a terminal); --log-json for JSON lines
  -h, --help         this help

Observing the run (docs/events.md; logs and these all go to stderr or files, never to the program's stdout):
  --trace[=FILTER]   print each syscall as strace does, to stderr: [pid 3] read(4, 4096) = 120 <0.021 ms>.
                     FILTER (after '='): syscall names and families, comma-separated: --trace=read,write,
                     --trace=fd, --trace=process,ipc; '!' leaves calls out: --trace='!getpid'.
                     Families: ${[...new Set(SYSCALLS.map((d) => d.family))].join(', ')}
  --trace-file FILE  write the --trace lines to FILE instead of stderr (implies --trace)
  --events FILE      record every event as JSON Lines: a header line, then one event per line
  --perfetto FILE    write a timeline as Chrome Trace Event JSON (open it in ui.perfetto.dev): a track per
                     virtual CPU and per process, syscalls as slices, wake-ups as flow arrows
  --stats            when the program ends, print every process of the run, syscall counts, memory, IPC
                     objects and the run queue
  --ui[=PORT]        serve a live view on http://127.0.0.1:PORT/ (default: any free port; the address is
                     printed): process tree, CPU timeline, memory, IPC objects, syscalls
  --ui-linger SECS   after the program ends, keep serving the view this long (default: until Ctrl-C)
`;

const ABI_HELP = `Usage: agentix abi [--json]

Prints every syscall: number, signature, whether it can block, and the errnos it can return.
  --json   the raw table as JSON
`;

/** Options whose value is optional: alone they mean this; a value comes only after '='. */
const OPTIONAL_VALUE: Readonly<Record<string, string>> = { '--trace': 'all', '--ui': '0' };

/** Splits argv at the first positional: options before it are ours, the rest are the program's. */
function splitAtProgram(args: string[]): [string[], string[]] {
  const valued = new Set(['--cpus', '--mem', '--log-level', '--seed', '--env', '--trace-file', '--events', '--perfetto', '--ui-linger']);
  const mine: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [mine, args.slice(i + 1)];
    if (!a.startsWith('-')) return [mine, args.slice(i)];
    const dflt = OPTIONAL_VALUE[a];
    mine.push(dflt === undefined ? a : `${a}=${dflt}`);
    if (valued.has(a) && i + 1 < args.length) mine.push(args[++i]!);
  }
  return [mine, []];
}

function makeLogger(level: string, pretty: boolean): Logger {
  const opts = { level, base: null };
  if (!pretty) return pino(opts, destination({ fd: 2, sync: true }));
  return pino(opts, pinoPretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'HH:MM:ss.l' }));
}

/** At debug level and below, the kernel's log tells processes' lives, and at trace level every syscall. Off
 *  otherwise: a listener makes the kernel stamp every event. */
function logEvents(kernel: Kernel, log: Logger): () => void {
  if (!log.isLevelEnabled('debug')) return () => {};
  const calls = log.isLevelEnabled('trace') ? new Strace((line) => log.trace(line)) : null;
  return kernel.stream.on((e) => {
    calls?.feed(e);
    switch (e.kind) {
      case 'spawn':
        return log.debug({ pid: e.pid, ppid: e.ppid, path: e.path }, 'process spawned');
      case 'exit':
        return log.debug({ pid: e.pid, code: e.code, signal: e.signal, how: e.how }, 'process ended');
      case 'signal':
        return log.debug({ pid: e.pid, sig: e.sig, from: e.from, action: e.action }, 'signal sent');
      case 'oom':
        return log.warn({ pid: e.pid, victim: e.victim, requested: e.requested, free: e.free, largestFree: e.largestFree }, 'out of memory: the OOM killer chose a victim');
      case 'mem_pressure':
        return e.rising
          ? log.warn({ used: e.used, total: e.total, threshold: e.threshold }, 'memory pressure rising')
          : log.info({ used: e.used, total: e.total, threshold: e.threshold }, 'memory pressure falling');
      case 'rlimit':
        return log.warn({ pid: e.pid, resource: e.resource, action: e.action }, 'process hit RLIMIT_CPU');
      default:
        return;
    }
  });
}

interface ObserveOptions {
  readonly trace: string | undefined;
  readonly traceFile: string | undefined;
  readonly events: string | undefined;
  readonly perfetto: string | undefined;
  readonly stats: boolean;
}

/** What --trace, --events, --perfetto and --stats attach, and how each ends. */
class Observers {
  private readonly feeds: ((e: Stamped) => void)[] = [];
  private readonly taps: (() => void)[] = [];
  private readonly files: FileLines[] = [];
  /** Where --trace writes its lines (flushed at close). */
  private readonly traceOut: ByteLines | null = null;
  private readonly timeline: ChromeTraceBuilder | null = null;
  private readonly history: ProcHistory | null = null;
  private readonly counts: SyscallCounts | null = null;

  constructor(
    private readonly kernel: Kernel,
    private readonly o: ObserveOptions,
  ) {
    if (o.trace !== undefined || o.traceFile !== undefined) {
      const names = parseCallFilter(o.trace ?? 'all');
      // A tap: lines are made after the calls were answered, from the ring's columns, as bytes. They are written
      // when the buffer fills and at the next turn of the event loop after a batch, so that a terminal shows each
      // line soon after its call while a busy kernel writes a bufferful at a time. process.stderr may be a pipe
      // that writes asynchronously: it gets a copy of each chunk.
      const out = o.traceFile === undefined ? new ByteLines((chunk) => process.stderr.write(Buffer.from(chunk))) : this.file(o.traceFile);
      this.traceOut = out;
      const strace = new Strace(out, names, kernel.params.deterministic ? 'kernel' : 'wall');
      let queued = false;
      const flush = (): void => {
        queued = false;
        out.flush();
      };
      this.taps.push(kernel.stream.tap((ring, from, to) => {
        strace.consume(ring, from, to);
        if (!queued && out.pending !== 0) {
          queued = true;
          setImmediate(flush);
        }
      }));
    }
    if (o.events !== undefined) {
      const out = this.file(o.events);
      out.line(eventToJson(jsonlHeader(kernel.sched.ncpu, kernel.params.deterministic)));
      this.feeds.push((e) => out.line(eventToJson(e)));
    }
    if (o.perfetto !== undefined) {
      const timeline = new ChromeTraceBuilder(kernel.sched.ncpu);
      this.timeline = timeline;
      this.feeds.push((e) => timeline.feed(e));
    }
    if (o.stats) {
      const history = new ProcHistory((pid) => kernel.ps().find((p) => p.pid === pid));
      const counts = new SyscallCounts();
      this.history = history;
      this.counts = counts;
      this.feeds.push((e) => {
        history.feed(e);
        counts.feed(e);
      });
    }
    const feeds = this.feeds;
    if (feeds.length !== 0) {
      this.taps.push(kernel.stream.tap(eachEvent((e) => {
        for (const f of feeds) f(e);
      })));
    }
  }

  /** Opens an output file, failing as a usage error (before the program starts) if it cannot be written. */
  private file(name: string): FileLines {
    try {
      const f = new FileLines(name);
      this.files.push(f);
      return f;
    } catch (e: unknown) {
      throw new AgentixError('ERR_INVALID_OPTION', `cannot write '${name}': ${toError(e).message}`);
    }
  }

  /** The --stats report: the run's processes, its syscalls, and the kernel's state as the program ended. */
  stats(status: ExitResult): string {
    if (this.history === null || this.counts === null) return '';
    const k = this.kernel;
    k.stream.drain(); // the taps have every event up to now
    const ps = k.ps();
    const how = status.signalName !== null ? `was killed by ${status.signalName}` : `exited with ${status.code ?? 0}`;
    return [
      `agentix: the program ${how}`,
      formatProcesses(this.history, ps),
      '',
      formatSyscalls(this.counts),
      '',
      formatMemory(k.meminfo()),
      formatIpcs(k.ipcs()),
      formatRunqueue(k.sched.ncpu, ps, k.sched.runqueue().map((p) => p.pid)),
      '',
    ].join('\n');
  }

  /** Stops listening and finishes every file (the timeline is written whole, now). */
  close(): void {
    for (const untap of this.taps) untap();
    this.traceOut?.flush();
    for (const f of this.files) f.close();
    if (this.timeline !== null && this.o.perfetto !== undefined) {
      try {
        writeFileSync(this.o.perfetto, JSON.stringify(this.timeline.build()) + '\n');
      } catch (e: unknown) {
        process.stderr.write(`agentix: cannot write '${this.o.perfetto}': ${toError(e).message}\n`);
      }
    }
  }
}

function uiPort(v: string): number {
  const port = Number(v);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AgentixError('ERR_USAGE', `--ui: expected a port 0..65535 after '=', got '${v}'`);
  return port;
}

/** Keeps the live view up after the program ended: for `seconds`, or (null) until SIGINT or SIGTERM. */
function linger(view: LiveView, seconds: number | null): Promise<void> {
  process.stderr.write(`agentix: the live view stays at ${view.url} ${seconds === null ? 'until Ctrl-C' : `for ${seconds} s`}\n`);
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = seconds === null ? undefined : setTimeout(done, seconds * 1000);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

async function run(args: string[]): Promise<number> {
  const [mine, rest] = splitAtProgram(args);
  const { values } = parseArgs({
    args: mine,
    options: {
      cpus: { type: 'string' },
      mem: { type: 'string' },
      deterministic: { type: 'boolean' },
      seed: { type: 'string' },
      'log-level': { type: 'string' },
      'log-pretty': { type: 'boolean' },
      'log-json': { type: 'boolean' },
      env: { type: 'string', multiple: true },
      'inherit-env': { type: 'boolean' },
      trace: { type: 'string' },
      'trace-file': { type: 'string' },
      events: { type: 'string' },
      perfetto: { type: 'string' },
      stats: { type: 'boolean' },
      ui: { type: 'string' },
      'ui-linger': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const [program, ...programArgs] = rest;
  if (program === undefined) throw new AgentixError('ERR_USAGE', 'agentix run needs a program: agentix run <program.js> [args…]');
  const cpus = values.cpus === undefined ? undefined : Number(values.cpus);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const level = values['log-level'] ?? 'warn';
  if (!(levels as readonly string[]).includes(level)) throw new AgentixError('ERR_USAGE', `--log-level: expected one of ${levels.join(', ')}`);
  if (values['log-pretty'] === true && values['log-json'] === true) throw new AgentixError('ERR_USAGE', '--log-pretty and --log-json: choose one');
  const port = values.ui === undefined ? null : uiPort(values.ui);
  const lingerArg = values['ui-linger'];
  const lingerSeconds = lingerArg === undefined ? null : Number(lingerArg);
  if (lingerSeconds !== null && !(lingerSeconds >= 0)) throw new AgentixError('ERR_USAGE', `--ui-linger: expected seconds >= 0, got '${lingerArg}'`);
  if (values.trace !== undefined) parseCallFilter(values.trace); // a bad filter is a usage error before anything runs
  const log = makeLogger(level, values['log-pretty'] ?? (values['log-json'] !== true && process.stderr.isTTY === true));
  const kernel = await Kernel.boot({
    ...(cpus === undefined ? {} : { cpus }),
    ...(values.mem === undefined ? {} : { mem: values.mem }),
    ...(values.deterministic === true ? { deterministic: true } : {}),
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    logger: log,
  });
  let observers: Observers | null = null;
  let view: LiveView | null = null;
  let status: ExitResult | null = null;
  const unlog = logEvents(kernel, log);
  try {
    const env: Record<string, string> = {};
    if (values['inherit-env'] === true) {
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    }
    for (const kv of values.env ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new AgentixError('ERR_USAGE', `--env: expected KEY=VALUE, got '${kv}'`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    observers = new Observers(kernel, {
      trace: values.trace, traceFile: values['trace-file'], events: values.events, perfetto: values.perfetto, stats: values.stats === true,
    });
    if (port !== null) {
      try {
        view = await LiveView.start(kernel, program, port);
      } catch (e: unknown) {
        throw new AgentixError('ERR_INVALID_OPTION', `--ui: cannot serve on 127.0.0.1:${port}: ${toError(e).message}`);
      }
      process.stderr.write(`agentix: live view at ${view.url}\n`);
      log.info({ url: view.url }, 'live view serving');
    }
    const proc = kernel.spawn(program, programArgs, { env, stdin: 'inherit', stdout: 'inherit', stderr: 'inherit' });
    // Signals sent to agentix itself go to the program, as a shell's exec would have it receive them.
    let interrupts = 0;
    const forward = (sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void => {
      try {
        proc.kill(sig === 'SIGINT' && interrupts++ > 0 ? 'SIGKILL' : sig);
      } catch {
        // already gone
      }
    };
    const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const sig of forwarded) process.on(sig, forward);
    status = await proc.wait();
    for (const sig of forwarded) process.off(sig, forward);
    if (values.stats === true) process.stderr.write(observers.stats(status));
    view?.finished(status);
    return status.signal !== null ? 128 + status.signal : (status.code ?? 1);
  } finally {
    await kernel.shutdown();
    unlog();
    observers?.close();
    if (view !== null) {
      if (status !== null) await linger(view, lingerSeconds);
      await view.close();
    }
  }
}

function abi(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true) {
    process.stdout.write(ABI_HELP);
    return 0;
  }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(SYSCALLS, null, 2) + '\n');
    return 0;
  }
  const lines = SYSCALLS.map((d) => `${String(d.nr).padStart(3)}  ${signature(d)}${d.blocking ? '  [blocks]' : ''}\n       ${d.doc}\n       errnos: ${allErrnos(d).join(' ')}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest);
    case 'abi':
      return abi(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new AgentixError('ERR_USAGE', `unknown command '${command}'; run 'agentix --help'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = toError(e);
    const code = e instanceof AgentixError ? e.code : (err as { code?: string }).code ?? 'ERR_INTERNAL';
    process.stderr.write(`agentix: ${err.message} [${code}]\n`);
    // 127 as a shell says "command not found"; 2 for a bad command line; 1 otherwise.
    process.exit(code === 'ERR_PROGRAM_NOT_FOUND' ? 127 : code === 'ERR_USAGE' || code.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
  },
);
