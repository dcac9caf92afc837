// File descriptors: a per-process table of references to open files. An open file is shared by every descriptor
// that refers to it (inherited at spawn, later dup) and goes away when the last one closes. The close-on-exec
// flag belongs to the descriptor, the status flags (O_NONBLOCK) to the open file, as in POSIX.

import { OPEN_MAX } from '../abi/limits.js';
import { ERRNO } from '../abi/errno.js';
import { kFdGen } from '../abi/layout.js';
import type { Proc } from './proc.js';
import type { Resource } from './orchestrator.js';
import type { Region } from './mm.js';
import type { WaitQueue } from './waitq.js';

/** Returned by a handler or an open file's read/write when the caller must park; never a valid result or -errno. */
export const BLOCK = -0x10000;

/** An open file description. read/write return a count, -errno, or BLOCK (after arranging a wake-up). */
export interface OpenFile {
  readonly kind: 'console' | 'pipe' | 'shm' | 'mq';
  refs: number;
  /** Access mode (O_RDONLY, O_WRONLY, O_RDWR) and status flags (O_NONBLOCK). */
  flags: number;
  read(p: Proc, count: number, out: Uint8Array): number;
  write(p: Proc, data: Uint8Array): number;
  /** poll(2) readiness now: POLLIN, POLLOUT, POLLERR, POLLHUP bits. */
  poll(): number;
  /** Where a poller waits for the readiness to change (null: it never changes while the poller waits). */
  readonly waiters: WaitQueue | null;
  /** p got a descriptor to this file (held: p's first; the object may charge p for its memory), or dropped one. */
  hold?(p: Proc): void;
  unhold?(p: Proc): void;
  /** The shared memory fdmap maps for p (a shared-memory object), or -errno. */
  map?(p: Proc): Region | number;
  /** The ring pipe_ring maps for p (a pipe end). */
  ring?(): Region;
  /** Its status flags changed (fcntl F_SETFL): a file userland caches (a pipe end) tells every holder. */
  flagsChanged?(): void;
  /** The region every holder of this file is charged for (a pipe's ring, a queue's storage), if any. */
  charged?(): Region;
  /** The last descriptor referring to this file closed. */
  release(): void;
  describe(): string;
}

/** Bytes p would be charged, beyond what it holds now, for holding these files (each region counted once);
 *  p null: a process not made yet, which holds nothing. */
export function chargeFor(p: Proc | null, files: Iterable<OpenFile | undefined>): number {
  let bytes = 0;
  const seen = new Set<Region>();
  for (const f of files) {
    const r = f?.charged?.();
    if (r === undefined || seen.has(r) || (p !== null && r.users.has(p))) continue;
    seen.add(r);
    bytes += r.size;
  }
  return bytes;
}

interface Slot {
  readonly file: OpenFile;
  readonly resource: Resource;
  cloexec: boolean;
}

export class FdTable {
  private readonly slots: (Slot | undefined)[] = [];

  constructor(private readonly owner: Proc) {}

  /**
   * Installs file at the lowest free descriptor (or at `at`, which must be free); returns it, -EMFILE, -EBADF
   * when `at` is taken, or -ENOMEM when holding the file would charge the owner past its RLIMIT_AS.
   */
  install(file: OpenFile, at = -1, cloexec = false): number {
    if (chargeFor(this.owner, [file]) > this.owner.memLimit - this.owner.memBytes) return -ERRNO.ENOMEM.no;
    let fd = at;
    if (fd < 0) {
      fd = 0;
      while (fd < this.slots.length && this.slots[fd] !== undefined) fd++;
    }
    if (fd >= OPEN_MAX) return -ERRNO.EMFILE.no;
    if (this.slots[fd] !== undefined) return -ERRNO.EBADF.no;
    file.refs++;
    const resource = this.owner.resources.acquire('fd', `fd ${fd}: ${file.describe()}`, () => this.drop(fd));
    this.slots[fd] = { file, resource, cloexec };
    this.changed();
    file.hold?.(this.owner);
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.slots[fd]?.file;
  }

  /** close(2): 0, or -EBADF. */
  close(fd: number): number {
    const slot = this.slots[fd];
    if (slot === undefined) return -ERRNO.EBADF.no;
    this.owner.resources.release(slot.resource);
    return 0;
  }

  /** dup2(2): newfd refers to oldfd's file (without close-on-exec); what newfd referred to is closed first. */
  dup2(oldfd: number, newfd: number): number {
    const slot = this.slots[oldfd];
    if (slot === undefined) return -ERRNO.EBADF.no;
    if (oldfd === newfd) return newfd;
    this.close(newfd);
    return this.install(slot.file, newfd);
  }

  cloexec(fd: number): boolean {
    return this.slots[fd]?.cloexec ?? false;
  }

  setCloexec(fd: number, on: boolean): void {
    const slot = this.slots[fd];
    if (slot !== undefined) slot.cloexec = on;
  }

  private drop(fd: number): void {
    const slot = this.slots[fd];
    if (slot === undefined) return;
    this.slots[fd] = undefined;
    this.changed();
    slot.file.unhold?.(this.owner);
    if (--slot.file.refs === 0) slot.file.release();
  }

  private changed(): void {
    descriptorsChanged(this.owner);
  }

  /** Open descriptors in order, with their close-on-exec flag. */
  entries(): [number, OpenFile, boolean][] {
    const out: [number, OpenFile, boolean][] = [];
    this.slots.forEach((s, fd) => {
      if (s !== undefined) out.push([fd, s.file, s.cloexec]);
    });
    return out;
  }

  /** How many descriptors in this table refer to file. */
  count(file: OpenFile): number {
    let n = 0;
    for (const s of this.slots) if (s?.file === file) n++;
    return n;
  }
}

/** Tells p's userland its descriptors changed, so it forgets what it cached about them (abi/layout.ts, kFdGen). */
export function descriptorsChanged(p: Proc): void {
  const i32 = p.channel.i32;
  i32[kFdGen] = (i32[kFdGen]! + 1) | 0;
}
