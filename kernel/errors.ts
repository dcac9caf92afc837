// Host-facing errors (the Kernel API and the CLI): a permanent `code` from this one registry, and a message a
// person can act on. Errors inside the kernel never take this form: userland only ever sees errnos.

export const ERROR_CODES = {
  ERR_INVALID_OPTION: 'an option passed to the kernel or the CLI is not valid',
  ERR_PROGRAM_NOT_FOUND: 'the program file does not exist or cannot be read',
  ERR_KERNEL_STOPPED: 'the kernel has shut down and takes no more requests',
  ERR_PROCESS_LIMIT: 'the kernel already runs as many processes as it allows',
  ERR_NO_SUCH_PROCESS: 'no live process has that pid',
  ERR_INVALID_SIGNAL: 'the signal is not a known signal name or number',
  ERR_USAGE: 'the command line is not valid',
  ERR_EVENTS_OFF: 'the kernel was booted with events: false, so nothing can subscribe to its events',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AgentixError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AgentixError';
    this.code = code;
  }
}

/** Normalises a caught value to an Error, for logging and reporting. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e) ?? String(e));
}
