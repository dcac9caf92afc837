// Signal numbers (Linux x86-64) and their default dispositions, as signal(7) lists them.

export type SignalDefault = 'term' | 'core' | 'ignore' | 'stop' | 'cont';

export const SIGNALS = {
  SIGHUP: { no: 1, dfl: 'term', doc: 'Hangup' },
  SIGINT: { no: 2, dfl: 'term', doc: 'Interrupt from keyboard' },
  SIGQUIT: { no: 3, dfl: 'core', doc: 'Quit from keyboard' },
  SIGILL: { no: 4, dfl: 'core', doc: 'Illegal instruction' },
  SIGTRAP: { no: 5, dfl: 'core', doc: 'Trace/breakpoint trap' },
  SIGABRT: { no: 6, dfl: 'core', doc: 'Abort' },
  SIGBUS: { no: 7, dfl: 'core', doc: 'Bus error' },
  SIGFPE: { no: 8, dfl: 'core', doc: 'Floating-point exception' },
  SIGKILL: { no: 9, dfl: 'term', doc: 'Kill; cannot be caught or ignored' },
  SIGUSR1: { no: 10, dfl: 'term', doc: 'User-defined signal 1' },
  SIGSEGV: { no: 11, dfl: 'core', doc: 'Invalid memory reference' },
  SIGUSR2: { no: 12, dfl: 'term', doc: 'User-defined signal 2' },
  SIGPIPE: { no: 13, dfl: 'term', doc: 'Write to a pipe with no readers' },
  SIGALRM: { no: 14, dfl: 'term', doc: 'Timer signal' },
  SIGTERM: { no: 15, dfl: 'term', doc: 'Termination request' },
  SIGCHLD: { no: 17, dfl: 'ignore', doc: 'Child stopped or terminated' },
  SIGCONT: { no: 18, dfl: 'cont', doc: 'Continue if stopped' },
  SIGSTOP: { no: 19, dfl: 'stop', doc: 'Stop; cannot be caught or ignored' },
  SIGTSTP: { no: 20, dfl: 'stop', doc: 'Stop typed at terminal' },
  SIGXCPU: { no: 24, dfl: 'core', doc: 'CPU time limit exceeded' },
  SIGXFSZ: { no: 25, dfl: 'core', doc: 'File size limit exceeded' },
  SIGWINCH: { no: 28, dfl: 'ignore', doc: 'Window resize' },
} as const satisfies Record<string, { no: number; dfl: SignalDefault; doc: string }>;

export type SignalName = keyof typeof SIGNALS;

/** Highest signal number; pending and caught sets are bit masks over 1..NSIG, so it must stay below 32. */
export const NSIG = 31;

/** SIGKILL and SIGSTOP can be neither caught nor ignored (signal(7)). */
export const UNCATCHABLE: ReadonlySet<number> = new Set([SIGNALS.SIGKILL.no, SIGNALS.SIGSTOP.no]);

const byNumber = new Map<number, SignalName>();
for (const name of Object.keys(SIGNALS) as SignalName[]) byNumber.set(SIGNALS[name].no, name);

export function signalName(no: number): SignalName | undefined {
  return byNumber.get(no);
}

export function signalDefault(no: number): SignalDefault | undefined {
  const name = byNumber.get(no);
  return name === undefined ? undefined : SIGNALS[name].dfl;
}

/** Dispositions a process can set with sigaction. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;
export const SIG_CATCH = 2;

const NUMBERS = Object.fromEntries(Object.entries(SIGNALS).map(([k, v]) => [k, v.no])) as { [K in SignalName]: (typeof SIGNALS)[K]['no'] };

/** Each signal as a named constant (the compiler checks each name against the table above). */
export const {
  SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE,
  SIGALRM, SIGTERM, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGXCPU, SIGXFSZ, SIGWINCH,
} = NUMBERS;
