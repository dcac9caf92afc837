// POSIX shared memory: named objects (shm_open, shm_unlink), sized once by ftruncate, mapped with fdmap as a
// SharedArrayBuffer the mapping processes read and write directly.
//
// An object lives while its name is linked or a descriptor is open; its memory lives until the object is gone
// and its last mapping is unmapped (a mapping outlives the descriptor it came from, as in POSIX). The memory is
// accounted once, charged to each mapping process.
//
// Names and permissions are the namespace's (ipcname.ts). A view of a SharedArrayBuffer cannot be made read-only,
// so only O_RDWR descriptors may be mapped (EACCES otherwise) rather than handing out a "read-only" mapping that
// could be written.

import { ERRNO } from '../abi/errno.js';
import { O_ACCMODE, O_RDWR, POLLIN, POLLOUT } from '../abi/syscalls.js';
import { Namespace, type Named } from './ipcname.js';
import type { OpenFile } from './fd.js';
import type { Region } from './mm.js';
import type { Proc } from './proc.js';
import type { IpcKernel } from './waitq.js';

let lastId = 0;

class ShmObject implements Named {
  readonly id = ++lastId;
  region: Region | null = null;
  linked = true;
  opens = 0;

  constructor(
    readonly name: string,
    readonly mode: number,
  ) {}
}

export class SharedMemory {
  private readonly names = new Namespace<ShmObject>();

  constructor(private readonly k: IpcKernel) {}

  /** shm_open: an open file for the object called name, or -errno. */
  open(p: Proc, name: string, oflag: number, mode: number): OpenFile | number {
    const r = this.names.open(name, oflag, () => new ShmObject(name, mode));
    if (typeof r === 'number') return r;
    if (r.created) this.k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'create', object: 'shm', objectId: r.obj.id, name, bytes: 0 });
    return new ShmFile(this, r.obj, oflag & O_ACCMODE);
  }

  /** shm_unlink: 0 or -errno. */
  unlink(p: Proc, name: string): number {
    const obj = this.names.unlink(name);
    if (typeof obj === 'number') return obj;
    this.k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'unlink', object: 'shm', objectId: obj.id, name, bytes: obj.region?.size ?? 0 });
    this.settle(obj);
    return 0;
  }

  /** ftruncate: sizes the object once. */
  truncate(p: Proc, obj: ShmObject, length: number): number {
    if (obj.region !== null) return obj.region.length === length ? 0 : -ERRNO.EINVAL.no;
    if (length === 0) return 0;
    const region = this.k.memory.alloc(p, length, 'shm', obj.name);
    if (typeof region === 'number') return region;
    obj.region = region;
    return 0;
  }

  /** An object with no name and no descriptor is gone; its memory stays until its last mapping goes. */
  settle(obj: ShmObject): void {
    if (obj.linked || obj.opens > 0) return;
    this.k.stream.emit({ kind: 'ipc', pid: 0, op: 'destroy', object: 'shm', objectId: obj.id, name: obj.name, bytes: obj.region?.size ?? 0 });
    if (obj.region !== null) this.k.memory.drop(obj.region);
    obj.region = null;
  }

  /** The linked objects themselves (read-only: for invariant checkers). */
  objects(): IterableIterator<ShmObject> {
    return this.names.values();
  }

  /** Names and sizes of the linked objects, for introspection. */
  list(): { name: string; bytes: number; mappers: number; opens: number }[] {
    return [...this.names.values()].map((o) => ({
      name: o.name, bytes: o.region?.length ?? 0, mappers: o.region?.users.size ?? 0, opens: o.opens,
    }));
  }
}

export class ShmFile implements OpenFile {
  readonly kind = 'shm';
  refs = 0;
  readonly waiters = null;

  constructor(
    private readonly shm: SharedMemory,
    readonly obj: ShmObject,
    public flags: number,
  ) {
    obj.opens++;
  }

  /** Shared memory is read and written through a mapping, not with read and write. */
  read(): number {
    return -ERRNO.EINVAL.no;
  }

  write(): number {
    return -ERRNO.EINVAL.no;
  }

  poll(): number {
    return POLLIN | POLLOUT;
  }

  truncate(p: Proc, length: number): number {
    if ((this.flags & O_ACCMODE) !== O_RDWR) return -ERRNO.EINVAL.no;
    return this.shm.truncate(p, this.obj, length);
  }

  map(): Region | number {
    if ((this.flags & O_ACCMODE) !== O_RDWR) return -ERRNO.EACCES.no;
    return this.obj.region ?? -ERRNO.EINVAL.no;
  }

  release(): void {
    this.obj.opens--;
    this.shm.settle(this.obj);
  }

  describe(): string {
    return `shm ${this.obj.name}`;
  }
}
