// Kernel tunables: the one place for defaults userland cannot observe directly (see abi/limits.ts for those it can).

import os from 'node:os';

export const PARAM = {
  /** Virtual CPUs: at most this many processes run userland code at once. */
  cpus: os.availableParallelism(),
  /** Processes alive at once (zombies included); spawn past it fails with EAGAIN. */
  maxProcs: 256,
  /** CFS: every runnable process runs once within this period, unless that would give slices below minGranularityMs. */
  targetLatencyMs: 6,
  minGranularityMs: 0.75,
  /** SCHED_RR: how long a real-time round-robin process runs before yielding to its equals. */
  rrSliceMs: 100,
  /** A process running this long without a syscall is reported (a 'watchdog' event); checked every tick. */
  watchdogMs: 1000,
  watchdogTickMs: 50,
  /** RLIMIT_CPU: time between SIGXCPU and SIGKILL, for a process that survives SIGXCPU. */
  cpuLimitGraceMs: 1000,
  /** Deterministic mode: one virtual CPU, and a virtual clock charged this much per syscall (see clock.ts). */
  deterministic: false,
  seed: 0,
  detUserNs: 10_000,
  detSyscallNs: 1_000,
  /** How long a process may keep its worker busy after it exited before the worker is terminated. */
  exitGraceMs: 1000,
  /** Kernel shutdown: time between SIGTERM to all and SIGKILL to the survivors. */
  shutdownGraceMs: 2000,
  /** Polls userland may spin on its channel before sleeping, when a physical core is free for it (kSpin). */
  userSpinPolls: 4000,
  /** Microseconds a process may sleep in place on a pipe's ring or a futex word before asking the kernel to park
   *  it (kWaitUs in abi/layout.ts), while no process waits for a CPU (the kernel ends the sleep when one starts
   *  to), under the scheduler's 6 ms latency. Not shorter: an Atomics.wait whose timeout falls before the host's
   *  next timer tick costs the host a timer reprogramming on the way in and out, about 1.5 us per wait on these
   *  VMs (futex ping-pong 24 us at 750 us, 19 us at 5 ms, as with no timeout). 0: never. */
  userWaitUs: 5000,
  /** Polls the kernel spins for the next request of the process it just answered, when a core is free. */
  kernelSpinPolls: 2000,
  /** Worker threads kept warm (piscina minThreads), and how long an idle extra one lives. */
  warmWorkers: 4,
  workerIdleMs: 30_000,
  /** Each process's JavaScript heap limit in MiB (worker resourceLimits); 0 leaves V8's default. A process
   *  that exceeds it dies with SIGKILL, as under an OOM killer. */
  heapMb: 0,
  /** Simulated physical memory: every region processes hold (mmap, and IPC buffers as they come) is charged to it. */
  memBytes: 256 * 1024 * 1024,
  /** Memory pressure events when usage crosses these fractions of memBytes (rising and falling). */
  memPressureWarn: 0.8,
  memPressureCritical: 0.95,
  /** Whether the kernel has an event stream; false: nothing can subscribe (the baseline tracing is measured against). */
  events: true,
  /** Bytes of data a pipe's ring holds (a power of two; Linux's default pipe capacity is 64 KiB). */
  pipeBytes: 64 * 1024,
} as const;

export type Params = { -readonly [K in keyof typeof PARAM]: (typeof PARAM)[K] extends boolean ? boolean : number };
