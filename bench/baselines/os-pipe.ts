// The host side of the operating-system pipe baselines (the children are bench/workers/os-pipe.ts): two named
// FIFOs in a fresh temporary directory, made with mkfifo(1) since Node has no mkfifo, and two Node child processes,
// one at each end. Named FIFOs rather than piping one child's stdout into the other's stdin, because Node's
// 'pipe' stdio is a socketpair on Unix, not a pipe(2); a FIFO is the kernel's pipe code and its default capacity
// (64 KiB on Linux), the same as an Agentix pipe's.

import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch } from '../suite.js';
import { DriverLink } from './driver.js';

const CHILD = fileURLToPath(new URL('../workers/os-pipe.js', import.meta.url));

/** How long close waits for the children to exit before it kills them. */
const CLOSE_GRACE_MS = 2000;

export type OsPipeKind = 'stream' | 'pingpong';

export class OsPipePair {
  private readonly dir: string;
  private readonly driver: ChildProcess;
  private readonly peer: ChildProcess;
  private readonly link: DriverLink;

  constructor(kind: OsPipeKind) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'agentix-bench-fifo-'));
    const there = path.join(this.dir, 'there');
    const back = path.join(this.dir, 'back');
    execFileSync('mkfifo', [there, back]);
    const [driverRole, peerRole] = kind === 'stream' ? ['writer', 'sink'] : ['ping', 'pong'];
    this.driver = fork(CHILD, [driverRole, there, back], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.peer = fork(CHILD, [peerRole, there, back], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    // The driver's first message is its "ready", sent once both FIFOs are open.
    this.link = new DriverLink(once(this.driver, 'message'), (req) => this.driver.send(req));
    this.driver.on('message', (ms: unknown) => this.link.answered(ms));
    for (const child of [this.driver, this.peer]) {
      child.on('exit', (code, signal) => {
        if (code === 0 && child === this.peer) return; // the sink or ponger ends cleanly at end of stream
        this.link.failed(new Error(`os-pipe ${child === this.driver ? driverRole : peerRole} exited (code ${code}, signal ${signal})`));
      });
    }
  }

  /** Batches of `ops` operations; `size` is the bytes per write for the stream kind. */
  batch(size = 0): Batch {
    return this.link.batch(size);
  }

  /**
   * Disconnecting the driver lets it exit, which closes its FIFO ends: the peer reads end of stream and exits. A
   * pair that never got going (one child died before the other opened its FIFOs) is killed after a grace period.
   */
  async close(): Promise<void> {
    const children = [this.driver, this.peer];
    const exited = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => once(c, 'exit'));
    this.link.failed(new Error('the pair is closed'));
    if (this.driver.connected) this.driver.disconnect();
    const kill = setTimeout(() => {
      for (const c of children) c.kill('SIGKILL');
    }, CLOSE_GRACE_MS);
    await Promise.all(exited);
    clearTimeout(kill);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
