// The console: open files for a process's stdio when they belong to the host (the CLI's terminal, or streams
// the API caller holds). Output honours the host stream's backpressure by parking the writer until 'drain';
// input is pulled from the host only while a reader is waiting, so an idle program never holds the terminal.

import type { Readable, Writable } from 'node:stream';
import { ERRNO } from '../abi/errno.js';
import { SIGNALS } from '../abi/signals.js';
import { O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT } from '../abi/syscalls.js';
import { BLOCK, type OpenFile } from './fd.js';
import type { Proc, Waker } from './proc.js';
import { park, WaitQueue, type Parker } from './waitq.js';

const HIGH_WATER = 64 * 1024;

export class ConsoleOut implements OpenFile {
  readonly kind = 'console';
  refs = 0;
  flags = O_WRONLY;
  /** Host backpressure parks writers, but poll reports a console as always writable (as a terminal mostly is). */
  readonly waiters = null;
  /** The host stream failed (its reader went away: EPIPE): writes now fail as on a pipe with no reader. */
  private broken = false;
  /** Writers parked until the host drains its buffer. */
  private readonly parked = new Set<Proc>();
  private readonly onError = (): void => {
    this.broken = true;
    // No 'drain' comes after an error: release the parked writers as the reader's end of a pipe closing would.
    for (const p of [...this.parked]) {
      this.parked.delete(p);
      this.k.signal(p, SIGNALS.SIGPIPE.no, 0);
      this.k.complete(p, -ERRNO.EPIPE.no);
    }
  };

  /** `owned`: the kernel made the sink for the API caller, so it ends when the last descriptor closes (EOF). */
  constructor(
    private readonly name: string,
    private readonly sink: Writable,
    private readonly owned: boolean,
    private readonly k: Waker,
  ) {
    // Without a listener, a stream error (EPIPE when `agentix run prog | head` closes early) would take the host down.
    sink.on('error', this.onError);
  }

  read(): number {
    return -ERRNO.EBADF.no;
  }

  write(p: Proc, data: Uint8Array): number {
    if (this.broken || this.sink.destroyed || this.sink.writableEnded) {
      // As write(2) to a pipe whose reader is gone: SIGPIPE (fatal by default), and EPIPE if it is caught or ignored.
      this.k.signal(p, SIGNALS.SIGPIPE.no, 0);
      return -ERRNO.EPIPE.no;
    }
    const n = data.length;
    // Copy: data is a view into the process's channel, reused by its next call.
    if (this.sink.write(Buffer.from(data))) return n;
    const onDrain = (): void => {
      this.parked.delete(p);
      this.k.complete(p, n);
    };
    this.sink.once('drain', onDrain);
    this.parked.add(p);
    return this.k.block(p, {
      reason: `write to ${this.name} (host backpressure)`,
      retry: null,
      cancel: () => {
        this.parked.delete(p);
        this.sink.off('drain', onDrain);
      },
      // The host already holds the bytes: a signal ends the wait but the write happened (POSIX: return the count).
      interrupted: n,
    });
  }

  poll(): number {
    return this.broken || this.sink.destroyed ? POLLERR : POLLOUT;
  }

  release(): void {
    if (this.owned) this.sink.end();
    // The listener stays while the host may still report the failure of bytes written earlier; it only sets a flag.
  }

  describe(): string {
    return this.name;
  }
}

export class ConsoleIn implements OpenFile {
  readonly kind = 'console';
  refs = 0;
  flags = O_RDONLY;
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private flowing = false;
  /** Readers and pollers: the host's input flows only while someone waits for it. */
  readonly waiters = new WaitQueue((n) => (n > 0 ? this.resume() : this.pause()));
  private readonly onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    if (this.buffered >= HIGH_WATER) this.pause();
    this.waiters.wakeAll(this.k);
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.pause();
    this.waiters.wakeAll(this.k);
  };

  /** source null: the input is whatever `feed` was given, then end of file. */
  constructor(
    private readonly source: Readable | null,
    private readonly k: Parker,
  ) {
    if (source === null) this.ended = true;
  }

  static of(bytes: Uint8Array, k: Parker): ConsoleIn {
    const c = new ConsoleIn(null, k);
    if (bytes.length > 0) {
      c.chunks.push(bytes);
      c.buffered = bytes.length;
    }
    return c;
  }

  read(p: Proc, count: number, out: Uint8Array): number {
    const max = Math.min(count, out.length);
    return park(this.k, p, [this.waiters], () => {
      if (this.buffered > 0) return this.take(max, out);
      if (this.ended || max === 0) return 0;
      return BLOCK;
    }, { reason: 'read from console' });
  }

  poll(): number {
    return this.buffered > 0 ? POLLIN : this.ended ? POLLHUP : 0;
  }

  write(): number {
    return -ERRNO.EBADF.no;
  }

  private take(max: number, out: Uint8Array): number {
    let n = 0;
    while (n < max && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const k = Math.min(head.length, max - n);
      out.set(head.subarray(0, k), n);
      n += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.buffered -= n;
    return n;
  }

  private resume(): void {
    if (this.flowing || this.ended || this.source === null) return;
    if (this.source.readableEnded) return this.onEnd();
    this.flowing = true;
    this.source.on('data', this.onData);
    this.source.on('end', this.onEnd);
    this.source.resume();
  }

  private pause(): void {
    if (!this.flowing || this.source === null) return;
    this.flowing = false;
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.pause();
  }

  release(): void {
    this.pause();
  }

  describe(): string {
    return 'console input';
  }
}
