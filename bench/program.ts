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

export class BatchProgram {
  private pending = '';
  private stderr = '';
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

  /** Runs one batch of `ops` operations; resolves with their time in ms as the program measured it. */
  readonly batch = (ops: number): Promise<number> => {
    if (this.ended !== null) return Promise.reject(this.ended);
    if (this.waiter !== null) return Promise.reject(new Error(`${this.program}: one batch at a time`));
    return new Promise<number>((resolve, reject) => {
      this.waiter = {
        resolve: (line) => {
          const ms = Number(line);
          if (Number.isFinite(ms) && ms >= 0) resolve(ms);
          else reject(new Error(`${this.program} answered '${line}', not a time in ms`));
        },
        reject,
      };
      this.stdin.write(`${ops}\n`);
    });
  };

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
        if (w === null) this.fail(new Error(`${this.program} printed '${line}' with no batch running`));
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
