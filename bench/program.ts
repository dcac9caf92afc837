// The host side of the batch protocol that benchmark programs speak (bench/programs/batch.js is the other side).
// The host writes one line per batch to the program's stdin, the operation count; the program runs that many
// operations, times them itself on the kernel's monotonic clock, and answers one line on stdout: the batch's
// time in ms. End of stdin ends the program with exit code 0.

import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ExitResult, Kernel } from '../kernel/index.js';

/** Benchmark programs are plain .js files run in the sandbox; they are not compiled, so they stay in bench/. */
export function programPath(name: string): string {
  return fileURLToPath(new URL(`../../bench/programs/${name}`, import.meta.url));
}

/**
 * A benchmark program spoken to in lines: the host writes lines to its stdin and reads the lines it prints, in
 * order. Its stderr is kept for error messages; its end (or a failure) rejects whoever waits for a line.
 */
export class LineProgram {
  private pending = '';
  private stderr = '';
  private readonly lines: string[] = [];
  private waiter: { resolve: (line: string) => void; reject: (e: Error) => void } | null = null;
  private ended: Error | null = null;
  private readonly stdin: Writable;
  private readonly exit: Promise<ExitResult>;

  constructor(kernel: Kernel, readonly program: string) {
    const h = kernel.spawn(programPath(program), [], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
    if (h.stdin === null || h.stdout === null || h.stderr === null) throw new Error('spawn with pipes gave no streams');
    this.stdin = h.stdin;
    this.listen(h.stdout, h.stderr);
    this.exit = h.wait();
    void this.exit.then((r) => this.fail(new Error(`${program} ended (code ${r.code}, signal ${r.signalName}): ${this.stderr}`)));
  }

  /** Lines it printed that nobody has taken yet. */
  get unread(): number {
    return this.lines.length;
  }

  send(line: string): void {
    this.stdin.write(`${line}\n`);
  }

  /** The next line it prints. */
  line(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended !== null) return Promise.reject(this.ended);
    if (this.waiter !== null) return Promise.reject(new Error(`${this.program}: one reader at a time`));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Ends stdin and waits for the program to exit; it must exit 0. */
  async close(): Promise<void> {
    this.stdin.end();
    const r = await this.exit;
    if (r.code !== 0) throw new Error(`${this.program} exited with code ${r.code} (signal ${r.signalName}): ${this.stderr}`);
  }

  private listen(stdout: Readable, stderr: Readable): void {
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      this.pending += chunk;
      for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        const w = this.waiter;
        this.waiter = null;
        if (w === null) this.lines.push(line);
        else w.resolve(line);
      }
    });
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  private fail(e: Error): void {
    this.ended ??= e;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(e);
  }
}

/** The batch protocol over a LineProgram: one line with an operation count out, one line with a time in ms back. */
export class BatchProgram {
  private readonly io: LineProgram;

  constructor(kernel: Kernel, readonly program: string) {
    this.io = new LineProgram(kernel, program);
  }

  /** Runs one batch of `ops` operations; resolves with their time in ms as the program measured it. */
  readonly batch = async (ops: number): Promise<number> => {
    if (this.io.unread !== 0) throw new Error(`${this.program} printed a line with no batch running`);
    this.io.send(String(ops));
    const line = await this.io.line();
    const ms = Number(line);
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`${this.program} answered '${line}', not a time in ms`);
    return ms;
  };

  close(): Promise<void> {
    return this.io.close();
  }
}
