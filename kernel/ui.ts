// The live view: `agentix run --ui prog` serves a page on 127.0.0.1 that shows the run as it happens: the process
// tree, a per-CPU timeline, memory by process and by size class, IPC objects, and the strace of every call.
//
// The server keeps what the page shows, derived from the event stream as it comes (a synchronous listener: full
// tracing cost while the view is on), in bounded rings. It pushes to each page with Server-Sent Events over
// node:http: on connect everything retained, then every TICK_MS what is new and a snapshot of the kernel's state
// (ps, meminfo, ipcs). A page that stops reading is dropped once MAX_BACKLOG bytes wait for it, never waited for;
// its EventSource reconnects and starts again from what is retained.
//
// Only loopback: the server binds 127.0.0.1, and a request whose Host header names anything else is refused, so
// that a web page elsewhere cannot reach it through a DNS name that resolves to 127.0.0.1.

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExitResult, Kernel } from './api.js';
import { EVENT_SCHEMA, type Stamped } from './events.js';
import { ProcHistory } from './stats.js';
import { CpuRuns, programName, type Stretch } from './records.js';
import { Strace } from './trace.js';

const TICK_MS = 200;
const MAX_LINES = 2000;
const MAX_STRETCHES = 5000;
const MAX_IPC_LOG = 500;
const MAX_BACKLOG = 4 * 1024 * 1024;

const STATIC: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Readonly<Record<string, string>> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The page's files: copied beside the compiled ui.js by the build, or read from the source tree in a checkout. */
function loadPage(): Map<string, Buffer> {
  const dirs = [new URL('./ui/', import.meta.url), new URL('../../kernel/ui/', import.meta.url)];
  for (const dir of dirs) {
    try {
      return new Map([...new Set(Object.values(STATIC))].map((f) => [f, readFileSync(new URL(f, dir))]));
    } catch {
      // not there: try the next place
    }
  }
  throw new Error(`the live view's page is missing (looked in ${dirs.map((d) => d.pathname).join(' and ')})`);
}

/** A bounded list that remembers how many items it has ever held, so a reader can ask for what is new. */
class Ring<T> {
  private items: T[] = [];
  total = 0;

  constructor(private readonly max: number) {}

  push(v: T): void {
    this.items.push(v);
    this.total++;
    if (this.items.length > this.max * 1.25) this.items = this.items.slice(-this.max);
  }

  /** Items after the first `seen` ever pushed (as many as are still kept). */
  since(seen: number): T[] {
    const kept = Math.min(this.items.length, this.max);
    return this.items.slice(Math.max(this.items.length - kept, this.items.length - (this.total - seen)));
  }
}

type IpcEntry = { readonly t: number; readonly pid: number; readonly op: string; readonly object: string; readonly name: string | null; readonly bytes: number };
type Region = { readonly pid: number; readonly size: number; readonly kind: string };

interface Client {
  readonly res: ServerResponse;
  lines: number;
  stretches: number;
  ipc: number;
}

export class LiveView {
  private readonly page = loadPage();
  private readonly clients = new Set<Client>();
  private readonly t0 = performance.now();
  private readonly history: ProcHistory;
  private readonly runs = new CpuRuns((s) => this.stretches.push(this.rel(s)));
  private readonly strace: Strace;
  private readonly lines = new Ring<string>(MAX_LINES);
  private readonly stretches = new Ring<Stretch>(MAX_STRETCHES);
  private readonly ipcLog = new Ring<IpcEntry>(MAX_IPC_LOG);
  private readonly regions = new Map<number, Region>();
  private readonly kinds: Record<string, number> = {};
  private events = 0;
  private status = 'running';
  /** When the last event came: once the program has ended, the view's clock stops there. */
  private lastTs = performance.now();
  private ended = false;
  private readonly unsubscribe: () => void;
  private readonly ticker: NodeJS.Timeout;
  private server: Server | null = null;
  url = '';

  private constructor(
    private readonly kernel: Kernel,
    private readonly program: string,
  ) {
    this.history = new ProcHistory((pid) => kernel.ps().find((p) => p.pid === pid));
    this.strace = new Strace((l) => this.lines.push(l), null, kernel.params.deterministic ? 'kernel' : 'wall');
    this.unsubscribe = kernel.stream.on((e) => this.feed(e));
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  /** Starts serving on 127.0.0.1:port (0: any free port); `url` says where. */
  static async start(kernel: Kernel, program: string, port: number): Promise<LiveView> {
    const view = new LiveView(kernel, program);
    const server = createServer((req, res) => view.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    view.server = server;
    view.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return view;
  }

  /** The program ended: the page says so (the view keeps serving until close). */
  finished(r: ExitResult): void {
    this.status = r.signalName !== null ? `killed by ${r.signalName}` : `exited ${r.code ?? 0}`;
    this.ended = true;
    this.tick();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.ticker);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    const server = this.server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private feed(e: Stamped): void {
    this.events++;
    this.lastTs = e.ts;
    this.kinds[e.kind] = (this.kinds[e.kind] ?? 0) + 1;
    this.history.feed(e);
    this.runs.feed(e);
    this.strace.feed(e);
    if (e.kind === 'ipc') {
      this.ipcLog.push({ t: this.ms(e.ts), pid: e.pid, op: e.op, object: e.object, name: e.name, bytes: e.bytes });
    } else if (e.kind === 'mem') {
      if (e.op === 'map') this.regions.set(e.addr, { pid: e.pid, size: e.size, kind: e.region });
      else this.regions.delete(e.addr);
    }
  }

  private ms(ts: number): number {
    return Math.round((ts - this.t0) * 1000) / 1000;
  }

  private rel(s: Stretch): Stretch {
    return { ...s, start: this.ms(s.start), end: this.ms(s.end) };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const port = (this.server?.address() as AddressInfo | null)?.port;
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('the live view answers only to 127.0.0.1 and localhost\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/events') return this.connect(res);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/snapshot.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(this.snapshot()));
      return;
    }
    const file = STATIC[url.pathname];
    const body = file === undefined ? undefined : this.page.get(file);
    if (file === undefined || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'Content-Security-Policy': "default-src 'self'",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    }).end(req.method === 'HEAD' ? undefined : body);
  }

  private connect(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const c: Client = { res, lines: 0, stretches: 0, ipc: 0 };
    this.clients.add(c);
    res.on('close', () => this.clients.delete(c));
    const mem = this.kernel.meminfo();
    this.send(c, 'hello', {
      schema: EVENT_SCHEMA, program: this.program, cpus: this.kernel.sched.ncpu, memTotal: mem.total, deterministic: this.kernel.params.deterministic,
    });
    this.push(c, this.snapshot());
  }

  /** Sends each page what is new since it last heard, then the state now. */
  private tick(): void {
    if (this.clients.size === 0) return;
    const snap = this.snapshot();
    for (const c of this.clients) this.push(c, snap);
  }

  private push(c: Client, snap: Snapshot): void {
    const lines = this.lines.since(c.lines);
    const stretches = this.stretches.since(c.stretches);
    const ipc = this.ipcLog.since(c.ipc);
    c.lines = this.lines.total;
    c.stretches = this.stretches.total;
    c.ipc = this.ipcLog.total;
    if (lines.length > 0) this.send(c, 'lines', lines);
    if (stretches.length > 0) this.send(c, 'stretches', stretches);
    if (ipc.length > 0) this.send(c, 'ipc', ipc);
    this.send(c, 'snapshot', snap);
  }

  private send(c: Client, type: string, data: unknown): void {
    if (c.res.writableLength > MAX_BACKLOG) {
      c.res.destroy();
      this.clients.delete(c);
      return;
    }
    c.res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private snapshot(): Snapshot {
    const ps = this.kernel.ps();
    const live = new Map(ps.map((p) => [p.pid, p]));
    const pids = [...new Set([...live.keys(), ...this.history.procs.keys()])].sort((a, b) => a - b);
    const procs = pids.map((pid): ProcView => {
      const p = live.get(pid);
      const h = this.history.procs.get(pid);
      const info = p ?? h?.last ?? null;
      return {
        pid, ppid: p?.ppid ?? h?.ppid ?? 0, name: pid === 1 ? 'init' : programName(p?.program ?? h?.program ?? '?'),
        state: p?.state ?? h?.state ?? 'reaped', end: h?.end ?? null, cpu: p?.cpu ?? null, nice: info?.nice ?? 0,
        policy: info?.policy ?? 'other', runtimeMs: info?.runtimeMs ?? 0, vruntimeMs: info?.vruntimeMs ?? 0,
        memBytes: p?.memBytes ?? 0, fds: p?.fds ?? 0, syscall: p?.syscall ?? '', waitingFor: p?.waitingFor ?? null,
      };
    });
    const mem = this.kernel.meminfo();
    const bySize = new Map<number, { count: number; bytes: number; kinds: Set<string> }>();
    for (const r of this.regions.values()) {
      const cls = 2 ** Math.ceil(Math.log2(Math.max(r.size, 1)));
      const b = bySize.get(cls) ?? { count: 0, bytes: 0, kinds: new Set<string>() };
      b.count++;
      b.bytes += r.size;
      b.kinds.add(r.kind);
      bySize.set(cls, b);
    }
    const now = this.ended ? this.lastTs : performance.now();
    return {
      now: this.ms(now), status: this.status, events: this.events, kinds: this.kinds, procs,
      running: this.runs.open(now).map((s) => this.rel(s)), pending: this.strace.pending(),
      runqueue: this.kernel.sched.runqueue().map((p) => p.pid),
      mem: {
        total: mem.total, used: mem.used, free: mem.free, largestFree: mem.largestFree, fragmentation: mem.fragmentation,
        regions: mem.regions, compactions: mem.compactions, byProcess: mem.byProcess,
        sizeClasses: [...bySize].sort((a, b) => a[0] - b[0]).map(([upTo, b]) => ({ upTo, count: b.count, bytes: b.bytes, kinds: [...b.kinds] })),
        freeClasses: mem.classes.filter((c) => c.freeBlocks > 0),
      },
      ipcs: this.kernel.ipcs(),
    };
  }
}

interface ProcView {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly state: string;
  readonly end: string | null;
  readonly cpu: number | null;
  readonly nice: number;
  readonly policy: string;
  readonly runtimeMs: number;
  readonly vruntimeMs: number;
  readonly memBytes: number;
  readonly fds: number;
  readonly syscall: string;
  readonly waitingFor: string | null;
}

/** What the page renders on each tick (times in ms since the view started). */
interface Snapshot {
  readonly now: number;
  readonly status: string;
  readonly events: number;
  readonly kinds: Readonly<Record<string, number>>;
  readonly procs: readonly ProcView[];
  readonly running: readonly Stretch[];
  /** The strace line in progress: a call that has not returned, with no other line since its enter. */
  readonly pending: string | null;
  readonly runqueue: readonly number[];
  readonly mem: Readonly<Record<string, unknown>>;
  readonly ipcs: ReturnType<Kernel['ipcs']>;
}
