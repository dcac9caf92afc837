// Memory: the simulated physical memory (alloc.ts hands out its addresses) and everything processes hold in it.
// A region is one allocation: an address range charged to the allocator, and a SharedArrayBuffer of its own that
// holds the bytes, so a view a process holds can never reach another region or the kernel's memory. A region
// may have several users (shared memory, pipes): it is accounted once, charged to each user's footprint, and
// freed when the last user lets go. Each use is a resource on the user's stack, so every kind of exit returns it.
//
// Processes see virtual addresses: each has its own address space, where a mapping gets the next page-aligned
// range. Physical placement is the kernel's business. Because the bytes never live at their physical address,
// the kernel can compact: when a request fails only because free memory is in pieces, the live regions are laid
// out again from address 0, with no byte copied, and the request is retried. The OOM killer runs only when
// memory is really short.
//
// Limits: a process's footprint may not pass its RLIMIT_AS (ENOMEM). When the allocator cannot satisfy a
// request, the OOM killer picks the process with the highest badness (below), kills it through the normal exit
// path (its regions really return), and the request is retried; if no process is killable, ENOMEM.
//   badness = proportional footprint (each region's size divided by its number of users)
//             + oom_score_adj × total / 1000
// as Linux's oom_badness does with pages. oom_score_adj -1000 exempts a process; init is never chosen.

import { ERRNO } from '../abi/errno.js';
import { VADDR_MAX } from '../abi/limits.js';
import { kFutexParked } from '../abi/layout.js';
import { Allocator, type AllocStats } from './alloc.js';
import type { EventStream } from './events.js';
import type { Resource } from './orchestrator.js';
import type { Proc } from './proc.js';

export type RegionKind = 'anon' | 'pipe' | 'shm' | 'mq';

/** Virtual addresses are page-aligned and start above a guard page, so 0 is never a mapping. */
const PAGE = 4096;

export interface Use {
  readonly resource: Resource;
  /** Where this user sees the region. */
  readonly vaddr: number;
}

export interface Region {
  /** Physical address in the simulated memory; compaction may change it (nobody outside this file sees it). */
  addr: number;
  /** Bytes charged: the request rounded to the allocator's alignment. */
  readonly size: number;
  /** Bytes the owner asked for (the buffer's length). */
  readonly length: number;
  readonly kind: RegionKind;
  readonly label: string;
  readonly sab: SharedArrayBuffer;
  /** Each user, with the resource entry on its stack that releases its use, and its virtual address. */
  readonly users: Map<Proc, Use>;
  /** An object (pipe, shared-memory object, queue) still holds it: it outlives its users until dropped. */
  held: boolean;
  /** For a region an object owns, what futex_wake on it also wakes (a pipe's parked readers and writers). */
  wake: (() => number) | null;
  /** Processes parked in the kernel on futex words of this region; mirrored into each user's channel. */
  futexParked: number;
}

export interface OomCandidate {
  readonly pid: number;
  readonly footprint: number;
  readonly oomScoreAdj: number;
  readonly badness: number;
}

export interface MemInfo {
  readonly total: number;
  readonly used: number;
  readonly free: number;
  readonly largestFree: number;
  readonly fragmentation: number;
  readonly regions: number;
  readonly classes: AllocStats['classes'];
  readonly byProcess: readonly { readonly pid: number; readonly bytes: number; readonly proportional: number; readonly limit: number | null }[];
  /** Times free memory was compacted so that a request could be served. */
  readonly compactions: number;
}

export interface MemoryHost {
  readonly stream: EventStream;
  /** Live processes the OOM killer may consider. */
  procs(): Iterable<Proc>;
  /** Kills p with SIGKILL through the normal exit path (its resources, regions included, are released). */
  oomKill(p: Proc): void;
}

export class Memory {
  allocator: Allocator;
  private compactions = 0;
  private readonly regions = new Map<number, Region>();
  /** Pressure thresholds (fractions of total), and how many of them usage is at or above now. */
  private readonly thresholds: readonly number[];
  private level = 0;
  /** Bytes in live regions (the allocator's stats() walks its free lists: too slow for every map). */
  private usedBytes = 0;

  constructor(
    readonly total: number,
    thresholds: readonly number[],
    private readonly host: MemoryHost,
  ) {
    this.allocator = new Allocator(total);
    this.thresholds = [...thresholds].sort((a, b) => a - b);
  }

  get used(): number {
    return this.usedBytes;
  }

  /**
   * Allocates `length` bytes for p as a new region, p its first user. Returns the region, or -ENOMEM (RLIMIT_AS,
   * or no memory even after the OOM killer), or -EINVAL for a length that is not a positive integer.
   * The OOM killer may kill p itself; the caller must check p.alive.
   */
  map(p: Proc, length: number, kind: RegionKind, label: string): Region | number {
    const region = this.alloc(p, length, kind, label);
    if (typeof region === 'number') return region;
    this.attach(region, p);
    this.drop(region);
    return region;
  }

  /**
   * Allocates a region that an object (a pipe, a shared-memory object, a queue) holds, on behalf of `requester`,
   * whose RLIMIT_AS must leave room for it. The region has no user until attach; it is freed once the holder has
   * dropped it and its last user has detached. Errors as map.
   */
  alloc(requester: Proc, length: number, kind: RegionKind, label: string): Region | number {
    const p = requester;
    if (!Number.isInteger(length) || length <= 0) return -ERRNO.EINVAL.no;
    if (length > this.total) return this.fail(p, length, 'too_large');
    if (p.memBytes + length > p.memLimit) return this.fail(p, length, 'rlimit');
    if (p.vmNext + length > VADDR_MAX) return this.fail(p, length, 'address_space');
    let addr = this.allocator.alloc(length);
    while (addr < 0) {
      // Enough free memory in total, but in pieces: compact, which moves no bytes, before anyone is killed.
      if (this.total - this.usedBytes >= length) {
        this.compact(p);
        addr = this.allocator.alloc(length);
        if (addr >= 0) break;
      }
      if (!this.oom(p, length)) return this.fail(p, length, 'no_memory');
      if (!p.alive) return -ERRNO.ENOMEM.no;
      addr = this.allocator.alloc(length);
    }
    const size = this.allocator.sizeOf(addr);
    if (p.memBytes + size > p.memLimit) {
      this.allocator.free(addr); // rounding took it over the limit
      return this.fail(p, size, 'rlimit');
    }
    const region: Region = {
      addr, size, length, kind, label, sab: new SharedArrayBuffer(length), users: new Map(), held: true, wake: null, futexParked: 0,
    };
    this.regions.set(addr, region);
    this.usedBytes += size;
    this.emit('map', p, region);
    return region;
  }

  /** Reports why a request fails with ENOMEM (the numbers that decided it), and returns -ENOMEM. */
  private fail(p: Proc, requested: number, reason: 'rlimit' | 'address_space' | 'no_memory' | 'too_large'): number {
    if (this.host.stream.active) {
      this.host.stream.emit({
        kind: 'mem_fail', pid: p.pid, requested, reason, footprint: p.memBytes,
        limit: Number.isFinite(p.memLimit) ? p.memLimit : null, free: this.total - this.usedBytes,
        largestFree: this.allocator.largestFree(),
      });
    }
    return -ERRNO.ENOMEM.no;
  }

  /** The holder lets go of a region from alloc: it is freed now if no process uses it, else with its last user. */
  drop(region: Region): void {
    if (!region.held) return;
    region.held = false;
    if (region.users.size === 0) this.free(region, null);
  }

  /**
   * Adds p as a user of an existing region (shared memory, an inherited pipe): charged to p, accounted once.
   * Returns where p sees it, or -ENOMEM if `limit` and p's RLIMIT_AS or address space has no room for it.
   * (Descriptors a process is handed, such as an inherited pipe, are charged but never refused.)
   */
  attach(region: Region, p: Proc, limit = false): number {
    const had = region.users.get(p);
    if (had !== undefined) return had.vaddr;
    if (limit && (p.memBytes + region.size > p.memLimit || p.vmNext + region.length > VADDR_MAX)) return -ERRNO.ENOMEM.no;
    p.memBytes += region.size;
    const vaddr = p.vmNext;
    p.vmNext += Math.ceil(region.length / PAGE) * PAGE + PAGE; // a guard page between mappings
    const resource = p.resources.acquire('memory', `${region.kind} ${region.label} at ${vaddr} (${region.size} B)`, () =>
      this.detach(region, p),
    );
    region.users.set(p, { resource, vaddr });
    p.mappings.set(vaddr, region);
    if (region.futexParked !== 0) addFutexParked(p, region.futexParked);
    return vaddr;
  }

  /** n more (or fewer) processes are parked on futex words of region: every user's userland is told. */
  futexParked(region: Region, n: number): void {
    region.futexParked += n;
    for (const p of region.users.keys()) addFutexParked(p, n);
  }

  /**
   * munmap(2) of a whole mapping: 0, or -EINVAL for an address and length that are not one of p's mappings, or
   * that belong to a descriptor rather than to a mapping (a pipe's ring or a queue's storage goes with its last
   * descriptor, not before).
   */
  unmap(p: Proc, vaddr: number, length: number): number {
    const region = p.mappings.get(vaddr);
    const use = region?.users.get(p);
    if (region === undefined || use === undefined || region.length !== length) return -ERRNO.EINVAL.no;
    if (region.kind === 'pipe' || region.kind === 'mq') return -ERRNO.EINVAL.no;
    p.resources.release(use.resource);
    return 0;
  }

  /** p stops using region now (its last descriptor to the object went); a no-op if it was not a user. */
  detachNow(region: Region, p: Proc): void {
    const use = region.users.get(p);
    if (use !== undefined) p.resources.release(use.resource);
  }

  /**
   * The mapping of p that contains the 4-byte word at vaddr: the region and the word's byte offset in it, or null
   * (a linear look through p's mappings: processes hold few, and futex calls are not the fast path of anything).
   */
  wordAt(p: Proc, vaddr: number): { region: Region; offset: number } | null {
    for (const [start, region] of p.mappings) {
      const offset = vaddr - start;
      if (offset >= 0 && offset + 4 <= region.length) return { region, offset };
    }
    return null;
  }

  private detach(region: Region, p: Proc): void {
    const use = region.users.get(p);
    if (use === undefined) return;
    region.users.delete(p);
    p.mappings.delete(use.vaddr);
    p.memBytes -= region.size;
    if (region.futexParked !== 0) addFutexParked(p, -region.futexParked);
    if (region.users.size === 0 && !region.held) this.free(region, p);
  }

  private free(region: Region, by: Proc | null): void {
    this.regions.delete(region.addr);
    this.usedBytes -= region.size;
    if (!this.allocator.free(region.addr)) throw new Error(`kernel bug: region @${region.addr} was not a live block`);
    this.emit('unmap', by, region);
  }

  /**
   * Lays every live region out again from physical address 0, in address order, so that free memory is one block.
   * No byte moves: each region's bytes are in its own buffer, and processes only ever see virtual addresses.
   */
  private compact(requester: Proc): void {
    const before = this.allocator.largestFree();
    const live = [...this.regions.values()].sort((a, b) => a.addr - b.addr);
    this.allocator = new Allocator(this.total);
    this.regions.clear();
    for (const r of live) {
      r.addr = this.allocator.alloc(r.length);
      if (r.addr < 0) throw new Error('kernel bug: compaction could not place a live region');
      this.regions.set(r.addr, r);
    }
    this.compactions++;
    this.host.stream.emit({ kind: 'mem_compact', pid: requester.pid, regions: live.length, largestFreeBefore: before, largestFreeAfter: this.allocator.largestFree() });
  }

  /** Picks and kills a victim so that `requester` may get `length` bytes. False if no process may be killed. */
  private oom(requester: Proc, length: number): boolean {
    const candidates = this.candidates();
    const victim = candidates[0];
    const stats = this.allocator.stats();
    this.host.stream.emit({
      kind: 'oom', pid: requester.pid, requested: length, victim: victim?.pid ?? null,
      free: stats.free, largestFree: stats.largestFree, candidates: candidates.slice(0, 5),
    });
    if (victim === undefined || victim.footprint === 0) return false;
    const p = [...this.host.procs()].find((x) => x.pid === victim.pid);
    if (p === undefined) return false;
    this.host.oomKill(p);
    return true;
  }

  /** Killable processes, highest badness first (ties: the larger footprint, then the newer process). */
  candidates(): OomCandidate[] {
    const shares = this.proportional();
    const out: OomCandidate[] = [];
    for (const p of this.host.procs()) {
      if (!p.alive || p.pid === 1 || p.oomScoreAdj <= -1000) continue;
      const badness = (shares.get(p) ?? 0) + (p.oomScoreAdj * this.total) / 1000;
      out.push({ pid: p.pid, footprint: p.memBytes, oomScoreAdj: p.oomScoreAdj, badness });
    }
    return out.sort((a, b) => b.badness - a.badness || b.footprint - a.footprint || b.pid - a.pid);
  }

  /** Each user's proportional footprint: every region's size split among its users (one pass over regions). */
  private proportional(): Map<Proc, number> {
    const shares = new Map<Proc, number>();
    for (const r of this.regions.values()) {
      const share = r.size / r.users.size;
      for (const p of r.users.keys()) shares.set(p, (shares.get(p) ?? 0) + share);
    }
    return shares;
  }

  meminfo(procs: Iterable<Proc>): MemInfo {
    const s = this.allocator.stats();
    const shares = this.proportional();
    const byProcess = [];
    for (const p of procs) {
      if (!p.alive) continue;
      const proportional = shares.get(p) ?? 0;
      byProcess.push({ pid: p.pid, bytes: p.memBytes, proportional, limit: Number.isFinite(p.memLimit) ? p.memLimit : null });
    }
    return {
      total: s.total, used: s.used, free: s.free, largestFree: s.largestFree, fragmentation: s.fragmentation,
      regions: this.regions.size, classes: s.classes, byProcess, compactions: this.compactions,
    };
  }

  /** The virtual address at which p sees region r. */
  vaddrOf(p: Proc, r: Region): number {
    return r.users.get(p)?.vaddr ?? -1;
  }

  /** `p`: the process whose call or exit caused it (null: the kernel itself, as when an object is destroyed). */
  private emit(op: 'map' | 'unmap', p: Proc | null, r: Region): void {
    const used = this.usedBytes;
    const pid = p?.pid ?? 0;
    if (this.host.stream.active) {
      this.host.stream.emit({ kind: 'mem', op, pid, addr: r.addr, size: r.size, region: r.kind, used });
    }
    // Pressure: an event each time usage crosses a threshold, up or down.
    let level = 0;
    while (level < this.thresholds.length && used >= this.thresholds[level]! * this.total) level++;
    if (level !== this.level) {
      const rising = level > this.level;
      this.level = level;
      // `threshold`: the highest threshold usage is now at or above (0: below all of them).
      this.host.stream.emit({
        kind: 'mem_pressure', pid, threshold: level === 0 ? 0 : this.thresholds[level - 1]!, rising, used, total: this.total,
      });
    }
  }
}

/**
 * The processes holding descriptors to an object whose memory is one region (a pipe's ring, a queue's storage):
 * a process's first descriptor makes it a user of the region (charged), its last one detaches it.
 */
export class Holders {
  private readonly counts = new Map<Proc, number>();

  constructor(
    private readonly memory: Memory,
    private readonly region: Region,
  ) {}

  hold(p: Proc): void {
    const n = this.counts.get(p) ?? 0;
    this.counts.set(p, n + 1);
    if (n === 0) this.memory.attach(this.region, p);
  }

  /** True when that was p's last descriptor (p no longer uses the region). */
  unhold(p: Proc): boolean {
    const n = (this.counts.get(p) ?? 1) - 1;
    if (n > 0) {
      this.counts.set(p, n);
      return false;
    }
    this.counts.delete(p);
    this.memory.detachNow(this.region, p);
    return true;
  }

  hasPid(pid: number): boolean {
    for (const p of this.counts.keys()) if (p.pid === pid) return true;
    return false;
  }

  procs(): IterableIterator<Proc> {
    return this.counts.keys();
  }

  /** Each holder with its number of descriptors (read-only: for invariant checkers). */
  entries(): IterableIterator<[Proc, number]> {
    return this.counts.entries();
  }

  get size(): number {
    return this.counts.size;
  }
}

/** The count userland's futex_wake looks at before calling the kernel (abi/layout.ts, kFutexParked). */
function addFutexParked(p: Proc, n: number): void {
  Atomics.add(p.channel.i32, kFutexParked, n);
}
