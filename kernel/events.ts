// The kernel's event stream. Subsystems emit typed events; with no subscriber, emit costs one branch.
// (Issue 6 grows this into a bounded ring with filters and drop counts; the event shapes here are its schema v1.)

import type { ProcState } from './proc.js';

/** Every event names the process it is about (for kernel-wide ones, the process whose request caused it). */
export type KernelEvent =
  | { readonly kind: 'proc_state'; readonly pid: number; readonly from: ProcState; readonly to: ProcState }
  | { readonly kind: 'spawn'; readonly pid: number; readonly ppid: number; readonly path: string }
  | { readonly kind: 'exit'; readonly pid: number; readonly code: number | null; readonly signal: number | null; readonly how: ExitHow }
  | { readonly kind: 'signal'; readonly pid: number; readonly sig: number; readonly from: number; readonly action: 'term' | 'catch' | 'ignore' }
  | { readonly kind: 'cleanup'; readonly pid: number; readonly resource: string; readonly label: string; readonly order: number; readonly ok: boolean; readonly error?: string }
  | { readonly kind: 'reap'; readonly pid: number; readonly by: number }
  | { readonly kind: 'kernel_bug'; readonly pid: number; readonly syscall: string; readonly error: string }
  /** A CPU was given to pid: what it was compared with, so the pick can be explained after the fact. */
  | {
      readonly kind: 'sched'; readonly pid: number; readonly cpu: number; readonly cls: 'rt' | 'fair' | 'idle';
      readonly vruntime: number; readonly minVruntime: number; readonly runnerUp: number | null; readonly runnable: number;
    }
  /** pid gave up its CPU at a syscall: it yielded, a better class or priority waited, or its slice ran out while
   *  `next` had less vruntime (the compared values are here, so the decision can be explained). */
  | {
      readonly kind: 'preempt'; readonly pid: number; readonly reason: 'yield' | 'priority' | 'slice';
      readonly vruntime: number; readonly ranNs: number; readonly next: Readonly<{ pid: number; vruntime: number; rtPriority: number }> | null;
    }
  | { readonly kind: 'watchdog'; readonly pid: number; readonly ms: number }
  /** A region was mapped or unmapped (freed: its last user let go); `used` is the bytes in use after it. */
  | {
      readonly kind: 'mem'; readonly op: 'map' | 'unmap'; readonly pid: number; readonly addr: number; readonly size: number;
      readonly region: 'anon' | 'pipe' | 'shm' | 'mq'; readonly used: number;
    }
  /** Free memory was in pieces: the live regions were laid out again from address 0 (no byte moved). */
  | { readonly kind: 'mem_compact'; readonly pid: number; readonly regions: number; readonly largestFreeBefore: number; readonly largestFreeAfter: number }
  /** Usage crossed a pressure threshold (a fraction of total), rising or falling. */
  | { readonly kind: 'mem_pressure'; readonly pid: number; readonly threshold: number; readonly rising: boolean; readonly used: number; readonly total: number }
  /** The allocator could not serve `requested` bytes: the OOM killer's decision, with the free-list state and the
   *  top candidates it compared, so it can be explained after the fact. */
  | {
      readonly kind: 'oom'; readonly pid: number; readonly requested: number; readonly victim: number | null;
      readonly free: number; readonly largestFree: number;
      readonly candidates: readonly { readonly pid: number; readonly footprint: number; readonly oomScoreAdj: number; readonly badness: number }[];
    }
  | { readonly kind: 'rlimit'; readonly pid: number; readonly resource: 'cpu'; readonly action: 'SIGXCPU' | 'SIGKILL' }
  /** An IPC object was made, lost its name, or went (its last descriptor and mapping gone); pid: who caused it. */
  | {
      readonly kind: 'ipc'; readonly pid: number; readonly op: 'create' | 'unlink' | 'destroy';
      readonly object: 'pipe' | 'shm' | 'mq'; readonly id: number; readonly name: string | null; readonly bytes: number;
    };

/** How the kernel saw a process end: an exit call (return from main, exit(), an uncaught throw), a fatal signal
 *  (kill, shutdown), or its worker dying under it. */
export type ExitHow = 'exit' | 'signal' | 'crash';

export type Stamped = KernelEvent & { readonly id: number; readonly ts: number };
export type Listener = (e: Stamped) => void;

export class EventStream {
  private readonly listeners = new Set<Listener>();
  private nextId = 1;

  get active(): boolean {
    return this.listeners.size > 0;
  }

  emit(e: KernelEvent): void {
    if (this.listeners.size === 0) return;
    const stamped: Stamped = { ...e, id: this.nextId++, ts: performance.now() };
    for (const l of this.listeners) l(stamped);
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
