// The process start routine, evaluated inside the sandbox before any program code. The loader (host realm)
// calls these functions with primitives only, and never calls into anything the program could have replaced:
// it holds references taken before the program was evaluated.

import { ExitUnwind } from './trap.js';
import { attachChannel, console as sandboxConsole, format, sys, writeAll } from './sdk.js';
import { closeTimersWhenGone } from './gates.js';

let exited = false;

/** Binds this sandbox to its process's channel and installs the kernel-backed console. */
export function attach(sab: SharedArrayBuffer, takeGrant: () => SharedArrayBuffer | undefined): void {
  const trap = attachChannel(sab, takeGrant);
  (globalThis as { console?: unknown }).console = sandboxConsole;
  closeTimersWhenGone(() => exited || trap.gone);
}

/** The first call of every process: parks until the scheduler dispatches it for the first time. */
export function boot(): void {
  sys.sched_yield();
}

function exitNow(code: number): void {
  if (exited) return;
  exited = true;
  try {
    sys.exit(code);
  } catch {
    // ExitUnwind: the kernel has taken the process down; nothing is left to do here.
  }
}

/** What a process prints when it dies of an uncaught error, as Node prints it: the stack, or the value. */
function report(err: unknown): void {
  try {
    writeAll(2, `Uncaught ${format(err)}\n`);
  } catch {
    // stderr closed or process already gone: the exit status still says it failed.
  }
}

function exitCode(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v & 0xff;
  return 1;
}

/** Runs main(argv, env) and exits with what it returns (1 and a report on stderr if it throws). */
export function start(main: unknown, argvJson: string, envJson: string): void {
  const argv = JSON.parse(argvJson) as string[];
  const env = JSON.parse(envJson) as Record<string, string>;
  if (typeof main !== 'function') {
    return fail('TypeError: the program has no default export function main(argv, env)');
  }
  void (async () => {
    let code: unknown;
    try {
      code = await (main as (a: string[], e: Record<string, string>) => unknown)(argv, env);
    } catch (e: unknown) {
      if (e instanceof ExitUnwind) return;
      report(e);
      return exitNow(1);
    }
    exitNow(exitCode(code));
  })();
}

/** The program could not load, or its top level threw: report it and exit 1. */
export function fail(err: unknown): void {
  if (exited || err instanceof ExitUnwind) return;
  report(err);
  exitNow(1);
}
