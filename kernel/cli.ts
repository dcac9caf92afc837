#!/usr/bin/env node
// The agentix command: `agentix run <program> [args…]`, `agentix abi`. Options before the program belong to
// agentix; everything after it belongs to the program.

import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { SYSCALLS } from '../abi/syscalls.js';
import { allErrnos, signature } from '../abi/describe.js';
import { Kernel } from './api.js';
import { AgentixError, toError } from './errors.js';

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
  --log-level LEVEL  kernel log level: fatal, error, warn, info, debug, trace, silent (default warn)
  -h, --help         this help
`;

const ABI_HELP = `Usage: agentix abi [--json]

Prints every syscall: number, signature, whether it can block, and the errnos it can return.
  --json   the raw table as JSON
`;

/** Splits argv at the first positional: options before it are ours, the rest are the program's. */
function splitAtProgram(args: string[]): [string[], string[]] {
  const valued = new Set(['--cpus', '--mem', '--log-level', '--seed', '--env']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (!a.startsWith('-')) return [args.slice(0, i), args.slice(i)];
    if (valued.has(a)) i++;
  }
  return [args, []];
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
      env: { type: 'string', multiple: true },
      'inherit-env': { type: 'boolean' },
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
  const kernel = await Kernel.boot({
    ...(cpus === undefined ? {} : { cpus }),
    ...(values.mem === undefined ? {} : { mem: values.mem }),
    ...(values.deterministic === true ? { deterministic: true } : {}),
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    logLevel: level as (typeof levels)[number],
  });
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
    const status = await proc.wait();
    for (const sig of forwarded) process.off(sig, forward);
    return status.signal !== null ? 128 + status.signal : (status.code ?? 1);
  } finally {
    await kernel.shutdown();
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
