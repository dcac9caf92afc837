// Kernel invariants, checked from what the kernel exposes (the process table, each process's descriptors,
// mappings, resources and scheduling entity, the scheduler's CPUs and runqueue, the memory manager). Each check
// answers a list of problems, empty when all is well, so a fuzzer can report all of them at once.
//
// IPC objects (pipes, shared memory, queues, futex waiters) have their own checks in fuzz/ipc-invariants.ts,
// run with these.
//
// Not checkable from here (no accessor): open files that no descriptor refers to any more (the kernel keeps no
// table of open files; checkQuiescent can only follow the files the caller saw), regions with no user (only
// users' mappings and IPC objects lead to regions; the byte count catches a leak, not which region), and the
// exit watchers.

import { PROC_STATES, type Proc } from '../kernel/proc.js';
import type { Kernel } from '../kernel/api.js';
import type { OpenFile } from '../kernel/fd.js';
import type { Region } from '../kernel/mm.js';
import { OPEN_MAX } from '../abi/limits.js';
import { SIGKILL, SIGSTOP, NSIG, signalName } from '../abi/signals.js';
import { SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR } from '../abi/syscalls.js';
import { checkIpc, ipcLeftovers, ipcRegions } from './ipc-invariants.js';

const POLICIES: ReadonlySet<number> = new Set([SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_IDLE]);
const VALID_SIGNAL_BITS = Array.from({ length: NSIG + 1 }, (_, n) => n).reduce((m, n) => (signalName(n) !== undefined ? m | (1 << n) : m), 0);

/** What a kernel looked like before an input: it must look so again once every process has gone. */
export interface Baseline {
  readonly memUsed: number;
  readonly regions: number;
  readonly total: number;
}

export function baseline(k: Kernel): Baseline {
  const info = k.meminfo();
  return { memUsed: k.memory.used, regions: info.regions, total: info.total };
}

function liveResources(p: Proc, kind: string): number {
  let n = 0;
  for (const r of p.resources.live()) if (r.kind === kind) n++;
  return n;
}

/** The process table: pids, parent and child links, states and what each state implies. */
function processTable(k: Kernel, out: string[]): void {
  const { procs, init, sched } = k;
  if (procs.get(1) !== init) out.push('pid 1 is not init');
  if (init.state !== 'blocked') out.push(`init is ${init.state}`);
  let running = 0;
  let ready = 0;
  /** How many live parents (init included) list each process as a child. */
  const listed = new Map<Proc, number>();
  for (const [pid, p] of procs) {
    const at = `pid ${pid}`;
    if (p.pid !== pid) out.push(`${at} is filed under the wrong key (its pid is ${p.pid})`);
    if (!PROC_STATES.includes(p.state) || p.state === 'reaped') out.push(`${at} is ${p.state} but still in the table`);
    if (p.alive || p === init) {
      for (const c of p.children) {
        listed.set(c, (listed.get(c) ?? 0) + 1);
        if (procs.get(c.pid) !== c) out.push(`${at} lists child ${c.pid}, which is not in the table (${c.state})`);
        else if (c.ppid !== pid) out.push(`${at} lists child ${c.pid}, whose parent is ${c.ppid}`);
      }
    }
    if (p === init) continue;
    const parent = procs.get(p.ppid);
    if (parent === undefined) out.push(`${at}'s parent ${p.ppid} is not in the table`);
    else if (!parent.alive && parent !== init) out.push(`${at}'s parent ${p.ppid} is ${parent.state}; init should have adopted it`);
    const se = p.sched;
    const cpuOk = se.cpu >= 0 && sched.onCpu(se.cpu) === p;
    switch (p.state) {
      case 'running':
        running++;
        if (!cpuOk) out.push(`${at} is running but holds no CPU (cpu ${se.cpu})`);
        break;
      case 'ready':
        ready++;
        if (se.queue === null) out.push(`${at} is ready but on no runqueue`);
        break;
      case 'blocked':
        if (p.wait === null) out.push(`${at} is blocked with nothing to wait for`);
        break;
      case 'zombie':
        if (p.status === null) out.push(`${at} is a zombie without an exit status`);
        if (parent === init) out.push(`${at} is a zombie child of init, which reaps at once`);
        if (p.fds.entries().length !== 0) out.push(`${at} is a zombie holding ${p.fds.entries().length} descriptors`);
        if (p.resources.live().length !== 0) out.push(`${at} is a zombie holding resources: ${p.resources.live().map((r) => r.label).join(', ')}`);
        if (p.mappings.size !== 0 || p.memBytes !== 0) out.push(`${at} is a zombie holding ${p.memBytes} bytes in ${p.mappings.size} mappings`);
        break;
      case 'new':
      case 'reaped':
        break;
      default: {
        const never: never = p.state;
        out.push(`${at} has unknown state ${String(never)}`);
      }
    }
    if (p.state !== 'running' && se.cpu !== -1) out.push(`${at} is ${p.state} but has cpu ${se.cpu}`);
    if (p.state !== 'ready' && se.queue !== null) out.push(`${at} is ${p.state} but queued on ${se.queue}`);
    if (p.state !== 'blocked' && p.wait !== null) out.push(`${at} is ${p.state} but waits for ${p.wait.reason}`);
    if (p.alive && p.status !== null) out.push(`${at} is ${p.state} with an exit status`);
    // Per-process fields within their ranges.
    if (!POLICIES.has(se.policy)) out.push(`${at} has policy ${se.policy}`);
    const rt = se.policy === SCHED_FIFO || se.policy === SCHED_RR;
    if (rt ? !(se.rtPriority >= 1 && se.rtPriority <= 99) : se.rtPriority !== 0) out.push(`${at} has policy ${se.policy} with rtPriority ${se.rtPriority}`);
    if (!(se.nice >= -20 && se.nice <= 19) || !Number.isInteger(se.nice)) out.push(`${at} has nice ${se.nice}`);
    if (p.disposition.some((d) => d > 2)) out.push(`${at} has a disposition outside 0..2: ${[...p.disposition].join(',')}`);
    if (p.disposition[SIGKILL] !== 0 || p.disposition[SIGSTOP] !== 0) out.push(`${at} catches or ignores SIGKILL or SIGSTOP`);
    if ((p.pendingSignals & ~VALID_SIGNAL_BITS) !== 0) out.push(`${at} has pending signal bits ${p.pendingSignals.toString(2)}`);
    // Resource entries agree with what they stand for.
    if (p.alive) {
      const workers = liveResources(p, 'worker');
      if (workers !== 1) out.push(`${at} has ${workers} live worker (channel) resources`);
      const fdRes = liveResources(p, 'fd');
      if (fdRes !== p.fds.entries().length) out.push(`${at} has ${p.fds.entries().length} descriptors but ${fdRes} fd resources`);
      const memRes = liveResources(p, 'memory');
      if (memRes !== p.mappings.size) out.push(`${at} has ${p.mappings.size} mappings but ${memRes} memory resources`);
      const childRes = liveResources(p, 'child');
      if (childRes !== p.children.size) out.push(`${at} has ${p.children.size} children but ${childRes} child resources`);
      const timers = liveResources(p, 'timer');
      if (timers > (p.state === 'blocked' ? 1 : 0)) out.push(`${at} is ${p.state} with ${timers} timers`);
    }
  }
  for (const p of procs.values()) {
    if (p === init) continue;
    const n = listed.get(p) ?? 0;
    if (n !== 1) out.push(`pid ${p.pid} is listed as a child by ${n} processes`);
  }
  if (sched.running !== running) out.push(`the scheduler counts ${sched.running} running, the table ${running}`);
  if (sched.queued !== ready) out.push(`the scheduler counts ${sched.queued} queued, the table ${ready} ready`);
  for (const t of sched.runqueue()) {
    if (procs.get(t.pid) !== t || t.state !== 'ready') out.push(`runqueue holds pid ${t.pid}, which is ${t.state}`);
  }
  for (let cpu = 0; cpu < sched.ncpu; cpu++) {
    const t = sched.onCpu(cpu);
    if (t !== null && (procs.get(t.pid) !== t || t.state !== 'running' || t.sched.cpu !== cpu)) {
      out.push(`cpu ${cpu} holds pid ${t.pid}, which is ${t.state} on cpu ${t.sched.cpu}`);
    }
  }
  const ps = k.ps();
  if (ps.length !== procs.size || new Set(ps.map((e) => e.pid)).size !== ps.length) out.push(`ps() lists ${ps.length} entries for ${procs.size} processes`);
}

/** Every open file's reference count is the number of descriptors, in all processes, that refer to it. */
function fdTables(k: Kernel, out: string[]): void {
  const refs = new Map<OpenFile, number>();
  for (const p of k.procs.values()) {
    for (const [fd, f] of p.fds.entries()) {
      if (!(fd >= 0 && fd < OPEN_MAX)) out.push(`pid ${p.pid} has descriptor ${fd}`);
      refs.set(f, (refs.get(f) ?? 0) + 1);
    }
  }
  for (const [f, n] of refs) {
    if (f.refs !== n) out.push(`open file ${f.describe()} has refs ${f.refs}, but ${n} descriptors refer to it`);
  }
}

/** Memory: each process's bytes are its mappings' sizes, each region's users see it where they say, and the
 *  regions reachable from processes and IPC objects are exactly what the allocator and the used counter hold. `accounting`
 *  adds the allocator's own check and the checks through meminfo(), which walks every size class (about 100 µs,
 *  where the rest takes 25). */
function memory(k: Kernel, out: string[], accounting: boolean): void {
  const regions = new Set<Region>();
  for (const p of k.procs.values()) {
    let bytes = 0;
    for (const [vaddr, r] of p.mappings) {
      regions.add(r);
      bytes += r.size;
      if (r.users.get(p)?.vaddr !== vaddr) out.push(`pid ${p.pid} maps ${r.label} at ${vaddr}, but the region does not list it there`);
    }
    if (bytes !== p.memBytes) out.push(`pid ${p.pid} is charged ${p.memBytes} bytes, its mappings total ${bytes}`);
    if (p.memBytes > p.memLimit) out.push(`pid ${p.pid} holds ${p.memBytes} bytes, over its limit ${p.memLimit}`);
  }
  for (const r of ipcRegions(k)) regions.add(r);
  let used = 0;
  const allocator = k.memory.allocator;
  for (const r of regions) {
    used += r.size;
    if (allocator.sizeOf(r.addr) !== r.size) out.push(`region ${r.label} of ${r.size} bytes is a block of ${allocator.sizeOf(r.addr)} in the allocator`);
    for (const [user, use] of r.users) {
      if (k.procs.get(user.pid) !== user || !user.alive) out.push(`region ${r.label} is used by pid ${user.pid}, which is ${user.state}`);
      else if (user.mappings.get(use.vaddr) !== r) out.push(`region ${r.label} lists pid ${user.pid} at ${use.vaddr}, where it has no such mapping`);
    }
  }
  if (used !== k.memory.used) out.push(`regions in use total ${used} bytes, the memory counter says ${k.memory.used}`);
  if (!accounting) return;
  try {
    allocator.check();
  } catch (e: unknown) {
    out.push(`allocator: ${e instanceof Error ? e.message : String(e)}`);
  }
  const info = k.meminfo();
  if (info.used !== k.memory.used) out.push(`the allocator has ${info.used} bytes in use, the memory counter ${k.memory.used}`);
  if (info.regions !== regions.size) out.push(`meminfo counts ${info.regions} regions, processes map ${regions.size}`);
  for (const e of info.byProcess) {
    const p = k.procs.get(e.pid);
    if (p === undefined || e.bytes !== p.memBytes) out.push(`meminfo charges pid ${e.pid} ${e.bytes} bytes, the process says ${p?.memBytes}`);
  }
}

export interface CheckOptions {
  /** Check the allocator and cross-check memory accounting with meminfo() too (default true). Callers that
   *  check after every call may ask for it only when memory changed (used bytes, or the allocator after a
   *  compaction). */
  readonly accounting?: boolean;
}

/** Every invariant the kernel's public surfaces let us check; empty when all hold. */
export function checkInvariants(k: Kernel, opts: CheckOptions = {}): string[] {
  const out: string[] = [];
  processTable(k, out);
  fdTables(k, out);
  memory(k, out, opts.accounting ?? true);
  checkIpc(k, out);
  return out;
}

/**
 * Once every process but init has gone: nothing may be left. No process, no child of init, no CPU held or
 * queued, no IPC object (names included: unlink them first, see ipc-invariants.ts), memory as it was at `base`
 * (and the allocator one free block), and every open file in `files` (those the caller saw processes hold)
 * released by its last descriptor.
 */
export function checkQuiescent(k: Kernel, base: Baseline, files: Iterable<OpenFile>): string[] {
  const out = checkInvariants(k);
  const left = [...k.procs.values()].filter((p) => p !== k.init);
  if (left.length > 0) out.push(`processes left: ${left.map((p) => `${p.pid} (${p.state})`).join(', ')}`);
  if (k.init.children.size !== 0) out.push(`init still lists ${k.init.children.size} children`);
  if (k.sched.running !== 0 || k.sched.queued !== 0) out.push(`the scheduler has ${k.sched.running} running and ${k.sched.queued} queued`);
  const ipc = ipcLeftovers(k);
  out.push(...ipc.problems);
  const names = [...k.shm.objects(), ...k.mqs.objects()].map((o) => o.name);
  if (names.length > 0) out.push(`names still linked: ${names.join(', ')}`);
  if (k.memory.used !== base.memUsed) out.push(`memory used is ${k.memory.used} bytes, ${base.memUsed} before the input`);
  const info = k.meminfo();
  if (info.regions !== base.regions) out.push(`${info.regions} regions are left, ${base.regions} before the input`);
  if (base.memUsed === 0 && info.largestFree !== base.total) out.push(`free memory is in pieces: the largest free block is ${info.largestFree} of ${base.total}`);
  for (const f of files) if (f.refs !== 0) out.push(`open file ${f.describe()} still has ${f.refs} references`);
  return out;
}
