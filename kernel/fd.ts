// File descriptors: a per-process table of references to open files. An open file is shared by every descriptor
// that refers to it (inherited at spawn, later dup) and goes away when the last one closes.

import { OPEN_MAX } from '../abi/limits.js';
import { ERRNO } from '../abi/errno.js';
import type { Proc } from './proc.js';
import type { Resource, ResourceStack } from './orchestrator.js';

/** Returned by a handler or an open file's read/write when the caller must park; never a valid result or -errno. */
export const BLOCK = -0x10000;

/** An open file description. read/write return a count, -errno, or BLOCK (after arranging a wake-up). */
export interface OpenFile {
  readonly kind: string;
  refs: number;
  read(p: Proc, count: number, out: Uint8Array): number;
  write(p: Proc, data: Uint8Array): number;
  /** The last descriptor referring to this file closed. */
  release(): void;
  describe(): string;
}

interface Slot {
  readonly file: OpenFile;
  readonly resource: Resource;
}

export class FdTable {
  private readonly slots: (Slot | undefined)[] = [];

  constructor(private readonly resources: ResourceStack) {}

  /** Installs file at the lowest free descriptor (or at `at`, which must be free); returns it or -EMFILE. */
  install(file: OpenFile, at = -1): number {
    let fd = at;
    if (fd < 0) {
      fd = 0;
      while (fd < this.slots.length && this.slots[fd] !== undefined) fd++;
    }
    if (fd >= OPEN_MAX) return -ERRNO.EMFILE.no;
    if (this.slots[fd] !== undefined) return -ERRNO.EBADF.no;
    file.refs++;
    const resource = this.resources.acquire('fd', `fd ${fd}: ${file.describe()}`, () => this.drop(fd));
    this.slots[fd] = { file, resource };
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.slots[fd]?.file;
  }

  /** close(2): 0, or -EBADF. */
  close(fd: number): number {
    const slot = this.slots[fd];
    if (slot === undefined) return -ERRNO.EBADF.no;
    this.resources.release(slot.resource);
    return 0;
  }

  private drop(fd: number): void {
    const slot = this.slots[fd];
    if (slot === undefined) return;
    this.slots[fd] = undefined;
    if (--slot.file.refs === 0) slot.file.release();
  }

  entries(): [number, OpenFile][] {
    const out: [number, OpenFile][] = [];
    this.slots.forEach((s, fd) => {
      if (s !== undefined) out.push([fd, s.file]);
    });
    return out;
  }
}
