// IPC invariants, checked from the kernel's IPC objects and the descriptor tables that lead to them: pipes (the
// kernel's set of live pipes), shared-memory objects and message queues (their namespaces, and the open files of
// unlinked ones), and futex waiters. Like fuzz/invariants.ts, each check adds problems to a list.
//
// What holds between any two calls:
//   - every pipe, object or queue a descriptor leads to is live, and every live pipe has a descriptor: no object
//     without a holder (named objects may outlive their descriptors while their name is linked);
//   - holder counts (who is charged for a pipe's ring or a queue's storage) are the descriptors each process has
//     to the object, and the region's users are exactly those processes;
//   - open counts are the open files that refer to the object; linked objects are in their namespace, unlinked
//     ones are not;
//   - a pipe's ring: ends open as the descriptors say (in the kernel and in the ring's words), counters within
//     the capacity, no lock held by a process that does not hold the pipe, the waiter count mirrored;
//   - a queue's slots: queued plus free is its capacity, each message within msgsize, priorities in heap order,
//     its storage the region the allocator charges (maxmsg * msgsize bytes);
//   - futex waiters: as many as processes blocked in futex_wait, and as the regions count them.

import { MQ_PRIO_MAX } from '../abi/limits.js';
import { RING_READERS, RING_RLOCK, RING_WAITERS, RING_WLOCK, RING_WRITERS, ringUsed } from '../abi/ring.js';
import type { Kernel } from '../kernel/api.js';
import type { Region } from '../kernel/mm.js';
import { MqFile } from '../kernel/mq.js';
import { PipeEnd, type Pipe } from '../kernel/pipe.js';
import type { Proc } from '../kernel/proc.js';
import { ShmFile } from '../kernel/shm.js';

type Queue = MqFile['mq'];
type ShmObject = ShmFile['obj'];

/** Per object: each process's descriptors to it, and the open files that lead to it. */
interface Holds {
  readonly perProc: Map<Proc, number>;
  readonly files: Set<object>;
}

function hold<K>(m: Map<K, Holds>, key: K, p: Proc, file: object): Holds {
  let h = m.get(key);
  if (h === undefined) m.set(key, (h = { perProc: new Map(), files: new Set() }));
  h.perProc.set(p, (h.perProc.get(p) ?? 0) + 1);
  h.files.add(file);
  return h;
}

/** Every IPC object some descriptor leads to, with its holders. */
function gather(k: Kernel): { pipes: Map<Pipe, Holds>; ends: Set<PipeEnd>; shm: Map<ShmObject, Holds>; mqs: Map<Queue, Holds> } {
  const pipes = new Map<Pipe, Holds>();
  const ends = new Set<PipeEnd>();
  const shm = new Map<ShmObject, Holds>();
  const mqs = new Map<Queue, Holds>();
  for (const p of k.procs.values()) {
    for (const [, f] of p.fds.entries()) {
      if (f instanceof PipeEnd) {
        hold(pipes, f.pipe, p, f);
        ends.add(f);
      } else if (f instanceof ShmFile) hold(shm, f.obj, p, f);
      else if (f instanceof MqFile) hold(mqs, f.mq, p, f);
    }
  }
  return { pipes, ends, shm, mqs };
}

const sameCounts = (a: ReadonlyMap<Proc, number>, b: ReadonlyMap<Proc, number>): boolean =>
  a.size === b.size && [...a].every(([p, n]) => b.get(p) === n);
const show = (m: ReadonlyMap<Proc, number>): string => `{${[...m].map(([p, n]) => `${p.pid}: ${n}`).join(', ')}}`;

/** The region's users are exactly `procs`, and it is a live block of its size that its object still holds. */
function regionOf(k: Kernel, what: string, r: Region, procs: ReadonlyMap<Proc, number>, out: string[]): void {
  if (!r.held) out.push(`${what}: its region is no longer held by it`);
  if (k.memory.allocator.sizeOf(r.addr) !== r.size) out.push(`${what}: its region of ${r.size} bytes is a block of ${k.memory.allocator.sizeOf(r.addr)}`);
  const users = [...r.users.keys()];
  if (users.length !== procs.size || users.some((p) => !procs.has(p))) {
    out.push(`${what}: its region's users are pids ${users.map((p) => p.pid).join(',')}, its holders ${show(procs)}`);
  }
}

function pipes(k: Kernel, held: Map<Pipe, Holds>, ends: Set<PipeEnd>, out: string[]): void {
  for (const pipe of held.keys()) if (!k.pipes.has(pipe)) out.push(`a descriptor leads to pipe ${pipe.id}, which the kernel no longer lists`);
  for (const pipe of k.pipes) {
    const what = `pipe ${pipe.id}`;
    const h = held.get(pipe);
    if (h === undefined) {
      out.push(`${what} is live but no descriptor leads to it`);
      continue;
    }
    const counts = new Map(pipe.holderCounts());
    if (!sameCounts(counts, h.perProc)) out.push(`${what} counts holders ${show(counts)}, the descriptor tables ${show(h.perProc)}`);
    regionOf(k, what, pipe.region, h.perProc, out);
    let reading = false;
    let writing = false;
    for (const e of ends) {
      if (e.pipe !== pipe) continue;
      if (e.reading) reading = true;
      else writing = true;
    }
    if (pipe.hasReaders !== reading || pipe.hasWriters !== writing) {
      out.push(`${what} says readers ${pipe.hasReaders}, writers ${pipe.hasWriters}; descriptors lead to ${reading ? 'a' : 'no'} read end and ${writing ? 'a' : 'no'} write end`);
    }
    const i32 = pipe.ring.i32;
    if (Atomics.load(i32, RING_READERS) !== (reading ? 1 : 0) || Atomics.load(i32, RING_WRITERS) !== (writing ? 1 : 0)) {
      out.push(`${what}'s ring says readers ${Atomics.load(i32, RING_READERS)}, writers ${Atomics.load(i32, RING_WRITERS)}`);
    }
    const used = ringUsed(pipe.ring);
    if (!(used >= 0 && used <= pipe.ring.capacity)) out.push(`${what}'s ring holds ${used} bytes of ${pipe.ring.capacity} (head and tail are inconsistent)`);
    for (const [word, name] of [[RING_WLOCK, 'write'], [RING_RLOCK, 'read']] as const) {
      const owner = Atomics.load(i32, word);
      if (owner !== 0 && ![...h.perProc.keys()].some((p) => p.pid === owner)) out.push(`${what}'s ${name} lock is held by pid ${owner}, which holds no end`);
    }
    if (Atomics.load(i32, RING_WAITERS) !== pipe.queue.size) out.push(`${what}'s ring counts ${Atomics.load(i32, RING_WAITERS)} waiters, its queue ${pipe.queue.size}`);
  }
}

/** Open counts and the namespace agree with the open files; `linked` are the namespace's objects. */
function named<T extends { readonly name: string; readonly linked: boolean; readonly opens: number }>(
  kind: string, held: Map<T, Holds>, linked: readonly T[], out: string[],
): T[] {
  const all = new Set<T>([...linked, ...held.keys()]);
  for (const o of all) {
    const what = `${kind} ${o.name}`;
    const files = held.get(o)?.files.size ?? 0;
    if (o.opens !== files) out.push(`${what} counts ${o.opens} opens, ${files} open files lead to it`);
    const listed = linked.includes(o);
    if (o.linked !== listed) out.push(`${what} is ${o.linked ? '' : 'not '}linked, but the namespace ${listed ? 'lists' : 'does not list'} it`);
  }
  return [...all];
}

function queues(k: Kernel, held: Map<Queue, Holds>, out: string[]): void {
  for (const q of named('mq', held, [...k.mqs.objects()], out)) {
    const what = `mq ${q.name}`;
    const perProc = held.get(q)?.perProc ?? new Map<Proc, number>();
    const counts = new Map(q.holders.entries());
    if (!sameCounts(counts, perProc)) out.push(`${what} counts holders ${show(counts)}, the descriptor tables ${show(perProc)}`);
    regionOf(k, what, q.region, perProc, out);
    if (q.region.length !== q.maxmsg * q.msgsize) out.push(`${what} keeps ${q.maxmsg} x ${q.msgsize} bytes in a region of ${q.region.length}`);
    const msgs = q.messages();
    if (msgs.length !== q.size || msgs.length + q.freeSlots !== q.maxmsg) out.push(`${what} has ${msgs.length} messages (size ${q.size}) and ${q.freeSlots} free slots for ${q.maxmsg}`);
    const slots = new Set<number>();
    msgs.forEach((m, i) => {
      if (!(m.slot >= 0 && m.slot < q.maxmsg) || slots.has(m.slot)) out.push(`${what} queues slot ${m.slot} twice or out of range`);
      slots.add(m.slot);
      if (!(m.length >= 0 && m.length <= q.msgsize)) out.push(`${what} holds a message of ${m.length} bytes (msgsize ${q.msgsize})`);
      if (!(m.prio >= 0 && m.prio < MQ_PRIO_MAX)) out.push(`${what} holds a message of priority ${m.prio}`);
      const parent = msgs[(i - 1) >> 1];
      if (i > 0 && parent !== undefined && parent.prio < m.prio) out.push(`${what}'s heap puts priority ${parent.prio} above ${m.prio}`);
    });
  }
}

function sharedMemory(k: Kernel, held: Map<ShmObject, Holds>, out: string[]): void {
  for (const o of named('shm', held, [...k.shm.objects()], out)) {
    const r = o.region;
    if (r === null) continue;
    if (!r.held) out.push(`shm ${o.name} is live but its region is no longer held by it`);
    if (r.kind !== 'shm') out.push(`shm ${o.name} keeps a region of kind ${r.kind}`);
  }
}

function futexes(k: Kernel, out: string[]): void {
  // (Each user's channel word kFutexParked mirrors these counts, but userland may write its own channel, as the
  // frame fuzzer does: the word is a hint to userland, not kernel state, so it is not checked.)
  let blocked = 0;
  const regions = new Set<Region>();
  for (const p of k.procs.values()) {
    if (p.state === 'blocked' && p.wait?.reason.startsWith('futex_wait') === true) blocked++;
    for (const r of p.mappings.values()) regions.add(r);
  }
  let counted = 0;
  for (const r of regions) counted += r.futexParked;
  const waiters = k.futexes.size;
  if (blocked !== waiters || counted !== waiters) out.push(`futex waiters: ${waiters} queued, ${blocked} processes blocked in futex_wait, ${counted} counted by regions`);
}

/** The regions IPC objects hold: live pipes' rings, and the storage of every shared-memory object and queue that
 *  is linked or open (an object's region may have no user: a sized object nobody maps). */
export function ipcRegions(k: Kernel): Set<Region> {
  const g = gather(k);
  const out = new Set<Region>();
  for (const pipe of k.pipes) out.add(pipe.region);
  for (const o of [...k.shm.objects(), ...g.shm.keys()]) if (o.region !== null) out.add(o.region);
  for (const q of [...k.mqs.objects(), ...g.mqs.keys()]) out.add(q.region);
  return out;
}

/** Every IPC invariant that holds between any two calls; adds problems to `out`. */
export function checkIpc(k: Kernel, out: string[]): void {
  const g = gather(k);
  pipes(k, g.pipes, g.ends, out);
  sharedMemory(k, g.shm, out);
  queues(k, g.mqs, out);
  futexes(k, out);
}

/**
 * Once every process but init has gone: no pipe and no futex waiter is left, and the only IPC objects left are
 * linked ones that nobody opens, holds or maps. Their memory is `lingering` bytes (a name keeps an object alive).
 */
export function ipcLeftovers(k: Kernel): { problems: string[]; lingering: number } {
  const problems: string[] = [];
  if (k.pipes.size !== 0) problems.push(`pipes left: ${[...k.pipes].map((p) => p.id).join(', ')}`);
  if (k.futexes.size !== 0) problems.push(`${k.futexes.size} futex waiters left`);
  let lingering = 0;
  const idle = (what: string, opens: number, r: Region | null): void => {
    if (opens !== 0) problems.push(`${what} is still open ${opens} times`);
    if (r === null) return;
    lingering += r.size;
    if (r.users.size !== 0) problems.push(`${what} is still mapped by pids ${[...r.users.keys()].map((p) => p.pid).join(',')}`);
  };
  for (const o of k.shm.objects()) idle(`shm ${o.name}`, o.opens, o.region);
  for (const q of k.mqs.objects()) {
    idle(`mq ${q.name}`, q.opens, q.region);
    if (q.holders.size !== 0) problems.push(`mq ${q.name} still has ${q.holders.size} holders`);
  }
  return { problems, lingering };
}

/** Removes every name from both namespaces, as a host that cleans up after its processes would (the pid the
 *  events name is init's); each object goes with its name, since nobody holds it any more. */
export function unlinkAll(k: Kernel): void {
  for (const o of [...k.shm.objects()]) k.shm.unlink(k.init, o.name);
  for (const q of [...k.mqs.objects()]) k.mqs.unlink(k.init, q.name);
}
