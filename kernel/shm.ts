// POSIX shared memory: named objects (shm_open, shm_unlink), sized once by ftruncate, mapped with fdmap as a
// SharedArrayBuffer the mapping processes read and write directly.
//
// An object lives while its name is linked or a descriptor is open; its memory lives until the object is gone
// and its last mapping is unmapped (a mapping outlives the descriptor it came from, as in POSIX). The memory is
// accounted once, charged to each mapping process.
//
// There are no users or groups here: every process is the same user, so an object's owner permission bits decide
// (read needs 0o400, read-write 0o600). A view of a SharedArrayBuffer cannot be made read-only, so only O_RDWR
// descriptors may be mapped (EACCES otherwise) rather than handing out a "read-only" mapping that could be written.

import { ERRNO } from '../abi/errno.js';
import { NAME_MAX } from '../abi/limits.js';
import { O_ACCMODE, O_CREAT, O_EXCL, O_RDWR, POLLIN, POLLOUT } from '../abi/syscalls.js';
import type { OpenFile } from './fd.js';
import type { Region } from './mm.js';
import type { Proc } from './proc.js';
import type { IpcKernel } from './waitq.js';

/** 0 if name is '/' then 1..NAME_MAX characters with no other '/', else -EINVAL or -ENAMETOOLONG. */
export function checkIpcName(name: string): number {
  if (name.length > NAME_MAX + 1) return -ERRNO.ENAMETOOLONG.no;
  if (name.length < 2 || name[0] !== '/' || name.indexOf('/', 1) !== -1 || name.includes('\0')) return -ERRNO.EINVAL.no;
  return 0;
}

/** 0 if an object with these mode bits may be opened with this access mode, else -EACCES. */
export function checkAccess(mode: number, oflag: number): number {
  const need = (oflag & O_ACCMODE) === 0 ? 0o400 : (oflag & O_ACCMODE) === O_RDWR ? 0o600 : 0o200;
  return (mode & need) === need ? 0 : -ERRNO.EACCES.no;
}

let lastId = 0;

class ShmObject {
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
  private readonly byName = new Map<string, ShmObject>();

  constructor(private readonly k: IpcKernel) {}

  /** shm_open: an open file for the object called name, or -errno. */
  open(p: Proc, name: string, oflag: number, mode: number): OpenFile | number {
    const bad = checkIpcName(name);
    if (bad !== 0) return bad;
    let obj = this.byName.get(name);
    if (obj !== undefined) {
      if ((oflag & O_CREAT) !== 0 && (oflag & O_EXCL) !== 0) return -ERRNO.EEXIST.no;
      const denied = checkAccess(obj.mode, oflag);
      if (denied !== 0) return denied;
    } else {
      if ((oflag & O_CREAT) === 0) return -ERRNO.ENOENT.no;
      obj = new ShmObject(name, mode);
      this.byName.set(name, obj);
      this.k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'create', object: 'shm', id: obj.id, name, bytes: 0 });
    }
    return new ShmFile(this, obj, oflag & O_ACCMODE);
  }

  /** shm_unlink: 0 or -errno. */
  unlink(p: Proc, name: string): number {
    const bad = checkIpcName(name);
    if (bad !== 0) return bad;
    const obj = this.byName.get(name);
    if (obj === undefined) return -ERRNO.ENOENT.no;
    this.byName.delete(name);
    obj.linked = false;
    this.k.stream.emit({ kind: 'ipc', pid: p.pid, op: 'unlink', object: 'shm', id: obj.id, name, bytes: obj.region?.size ?? 0 });
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
    this.k.stream.emit({ kind: 'ipc', pid: 0, op: 'destroy', object: 'shm', id: obj.id, name: obj.name, bytes: obj.region?.size ?? 0 });
    if (obj.region !== null) this.k.memory.drop(obj.region);
    obj.region = null;
  }

  /** Names and sizes of the linked objects, for introspection. */
  list(): { name: string; bytes: number; mappers: number; opens: number }[] {
    return [...this.byName.values()].map((o) => ({
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
