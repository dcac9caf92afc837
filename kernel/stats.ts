// What a run did, kept from its events, and `ps`-style text for it: every process that lived (the table itself
// keeps only the living and the zombies), syscall counts as `strace -c` gives them, memory, IPC objects and the
// runqueue. The CLI prints it with --stats; the live view (ui.ts) shows the same records.

import { signalName } from '../abi/signals.js';
import type { IpcInfo, ProcInfo } from './api.js';
import type { Stamped } from './events.js';
import type { MemInfo } from './mm.js';
import type { ProcState } from './proc.js';
import { programName } from './records.js';

/** One process as the events told it: from its spawn to its end, with what ps said of it last. */
export interface ProcRecord {
  readonly pid: number;
  readonly ppid: number;
  readonly program: string;
  state: ProcState;
  /** `exited 0`, `killed by SIGKILL`, or null while it lives. */
  end: string | null;
  /** ps's view of it when it ended (runtime, switches, memory), or null. */
  last: ProcInfo | null;
}

/**
 * Every process seen in the stream. `probe` is asked for a process's ps entry when it ends (it is a zombie then,
 * still in the table), so its runtime and switches are kept after it is reaped.
 */
export class ProcHistory {
  readonly procs = new Map<number, ProcRecord>();

  constructor(private readonly probe: (pid: number) => ProcInfo | undefined = () => undefined) {}

  feed(e: Stamped): void {
    switch (e.kind) {
      case 'spawn':
        this.procs.set(e.pid, { pid: e.pid, ppid: e.ppid, program: e.path, state: 'new', end: null, last: null });
        return;
      case 'proc_state': {
        const r = this.procs.get(e.pid);
        if (r !== undefined) r.state = e.to;
        return;
      }
      case 'exit': {
        const r = this.procs.get(e.pid);
        if (r === undefined) return;
        r.end = e.signal !== null ? `killed by ${signalName(e.signal) ?? `signal ${e.signal}`}` : `exited ${e.code ?? 0}`;
        r.last = this.probe(e.pid) ?? null;
        return;
      }
      default:
        return;
    }
  }
}

/** Calls, failures and time per syscall, as `strace -c` counts them (time from enter event to exit event). */
export class SyscallCounts {
  readonly calls = new Map<string, { calls: number; errors: number; ms: number }>();
  private readonly entered = new Map<number, number>();

  feed(e: Stamped): void {
    if (e.kind === 'sys_enter') {
      this.entered.set(e.id, e.ts);
    } else if (e.kind === 'sys_exit') {
      const start = e.enter === null ? undefined : this.entered.get(e.enter);
      if (e.enter !== null) this.entered.delete(e.enter);
      let c = this.calls.get(e.name);
      if (c === undefined) this.calls.set(e.name, (c = { calls: 0, errors: 0, ms: 0 }));
      c.calls++;
      if (e.errno !== 0) c.errors++;
      if (start !== undefined) c.ms += e.ts - start;
    }
  }
}

// ---- text ----------------------------------------------------------------------------------------------------------

/** A table: columns padded to their widest cell; a column of numbers (blanks allowed) is right-aligned. */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? String(c) : c)));
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const numeric = (c: string): boolean => c === '' || c === '-' || /^-?\d+(\.\d+)?$/.test(c);
  const right = head.map((_, i) => cells.length > 0 && cells.every((r) => numeric(r[i]!)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (right[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(head), ...cells.map(line)].join('\n');
}

/** Bytes as people read them: 0 B, 12.5K, 256M. */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['K', 'M', 'G', 'T'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')}${units[u]}`;
}

/** Every process of the run: the living and zombies from ps, the reaped from the history. */
export function formatProcesses(history: ProcHistory, ps: readonly ProcInfo[]): string {
  const live = new Map(ps.map((p) => [p.pid, p]));
  const pids = [...new Set([...live.keys(), ...history.procs.keys()])].sort((a, b) => a - b);
  const rows = pids.map((pid) => {
    const p = live.get(pid);
    const h = history.procs.get(pid);
    const info = p ?? h?.last ?? null;
    const end = h?.end ?? null;
    const status = end === null ? (p?.state ?? h?.state ?? '?') : p !== undefined ? `${end} (zombie)` : end;
    const program = p?.program ?? h?.program ?? '?';
    return [
      pid, p?.ppid ?? h?.ppid ?? 0, status,
      info === null ? '-' : info.runtimeMs.toFixed(3), info === null ? '-' : `${info.switches.voluntary}/${info.switches.involuntary}`,
      info === null ? '-' : info.nice, info === null ? '-' : formatSize(info.memBytes), pid === 1 ? 'init' : programName(program),
    ] as (string | number)[];
  });
  return table(['PID', 'PPID', 'STATE', 'CPU_MS', 'SWITCHES(V/I)', 'NICE', 'MEM', 'PROGRAM'], rows);
}

export function formatSyscalls(counts: SyscallCounts): string {
  const rows = [...counts.calls].sort((a, b) => b[1].ms - a[1].ms || b[1].calls - a[1].calls);
  const total = rows.reduce((s, [, c]) => s + c.ms, 0);
  const body = rows.map(([name, c]) => [
    total > 0 ? ((100 * c.ms) / total).toFixed(2) : '0.00', c.ms.toFixed(3), c.calls > 0 ? ((c.ms * 1e3) / c.calls).toFixed(1) : '0', c.calls, c.errors, name,
  ]);
  const calls = rows.reduce((s, [, c]) => s + c.calls, 0);
  const errors = rows.reduce((s, [, c]) => s + c.errors, 0);
  return table(['% TIME', 'MS', 'US/CALL', 'CALLS', 'ERRORS', 'SYSCALL'], [...body, ['100.00', total.toFixed(3), '', calls, errors, 'total']]);
}

export function formatMemory(m: MemInfo): string {
  const head = `memory: ${formatSize(m.total)} total, ${formatSize(m.used)} used, ${formatSize(m.free)} free, largest free block ` +
    `${formatSize(m.largestFree)}, fragmentation ${(m.fragmentation * 100).toFixed(1)}%, ${m.regions} regions, ${m.compactions} compactions`;
  const procs = m.byProcess.filter((p) => p.bytes > 0);
  if (procs.length === 0) return head;
  return `${head}\n${table(['PID', 'BYTES', 'PROPORTIONAL', 'LIMIT'], procs.map((p) => [p.pid, p.bytes, Math.round(p.proportional), p.limit === null ? '-' : formatSize(p.limit)]))}`;
}

export function formatIpcs(i: IpcInfo): string {
  const lines = [`ipc: ${i.pipes.length} pipes, ${i.shm.length} shared memory objects, ${i.mq.length} message queues, ${i.futexWaiters} futex waiters`];
  for (const p of i.pipes) lines.push(`  pipe ${p.id}: ${p.buffered} of ${p.capacity} B buffered, ${p.holders} holders, ${p.waiters} waiting`);
  for (const s of i.shm) lines.push(`  shm ${s.name}: ${formatSize(s.bytes)}, ${s.mappers} mapped, ${s.opens} open`);
  for (const q of i.mq) lines.push(`  mq ${q.name}: ${q.curmsgs} of ${q.maxmsg} messages (${q.msgsize} B each), ${q.opens} open`);
  return lines.join('\n');
}

/** The runqueue: who holds each CPU and who waits, in the order they would be picked. */
export function formatRunqueue(ncpu: number, ps: readonly ProcInfo[], queued: readonly number[]): string {
  const onCpu = ps.filter((p) => p.cpu !== null).map((p) => `cpu${p.cpu}=${p.pid}`);
  return `runqueue: ${onCpu.length} of ${ncpu} CPUs busy${onCpu.length > 0 ? ` (${onCpu.join(' ')})` : ''}, ${queued.length} waiting${queued.length > 0 ? `: ${queued.join(' ')}` : ''}`;
}
