// The namespace of named IPC objects (shared memory, message queues): POSIX names, open flags and permissions,
// in one place for every kind of object.
//
// There are no users or groups here: every process is the same user, so an object's owner permission bits
// decide (read needs 0o400, write 0o200, both 0o600).

import { ERRNO } from '../abi/errno.js';
import { O_ACCMODE, O_CREAT, O_EXCL, O_RDWR } from '../abi/syscalls.js';
import { formError } from '../abi/types.js';

/** What a named object keeps for the namespace. */
export interface Named {
  readonly mode: number;
  /** Its name is still in the namespace (false once unlinked). */
  linked: boolean;
}

/** 0 if name has the ABI's ipcname form ('/' then 1..NAME_MAX characters with no other '/' nor NUL), else
 *  -ENAMETOOLONG or -EINVAL. The rule lives in abi/types.ts (STR_FORMS), where the fuzzers read it too. */
export function checkIpcName(name: string): number {
  const e = formError('ipcname', name);
  return e === null ? 0 : -ERRNO[e].no;
}

/** 0 if an object with these mode bits may be opened with this access mode, else -EACCES. */
function checkAccess(mode: number, oflag: number): number {
  const acc = oflag & O_ACCMODE;
  const need = acc === 0 ? 0o400 : acc === O_RDWR ? 0o600 : 0o200;
  return (mode & need) === need ? 0 : -ERRNO.EACCES.no;
}

export class Namespace<T extends Named> {
  private readonly byName = new Map<string, T>();

  /**
   * The object called name, by oflag's rules: an existing one (EEXIST under O_CREAT|O_EXCL, EACCES if its mode
   * refuses the access asked), or, under O_CREAT, a new one from `create` (which may fail with -errno); ENOENT
   * otherwise. `created` tells the caller which.
   */
  open(name: string, oflag: number, create: () => T | number): { obj: T; created: boolean } | number {
    const bad = checkIpcName(name);
    if (bad !== 0) return bad;
    const found = this.byName.get(name);
    if (found !== undefined) {
      if ((oflag & O_CREAT) !== 0 && (oflag & O_EXCL) !== 0) return -ERRNO.EEXIST.no;
      const denied = checkAccess(found.mode, oflag);
      return denied !== 0 ? denied : { obj: found, created: false };
    }
    if ((oflag & O_CREAT) === 0) return -ERRNO.ENOENT.no;
    const obj = create();
    if (typeof obj === 'number') return obj;
    this.byName.set(name, obj);
    return { obj, created: true };
  }

  /** Removes name: the object it named (now unlinked), or -errno. */
  unlink(name: string): T | number {
    const bad = checkIpcName(name);
    if (bad !== 0) return bad;
    const obj = this.byName.get(name);
    if (obj === undefined) return -ERRNO.ENOENT.no;
    this.byName.delete(name);
    obj.linked = false;
    return obj;
  }

  values(): IterableIterator<T> {
    return this.byName.values();
  }
}
