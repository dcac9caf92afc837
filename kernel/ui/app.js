// The live view's page: listens to /events (Server-Sent Events from kernel/ui.ts) and draws what it is sent.
// Everything shown comes from the server; the page keeps only what it must to redraw (the CPU stretches, the
// trace lines and the IPC history it was sent). Text from the run (program names, traced bytes) is only ever
// set as textContent, never parsed as HTML.
'use strict';

const MAX_LINES = 1000;
const MAX_STRETCHES = 5000;
const SVG = 'http://www.w3.org/2000/svg';

const state = { hello: null, snap: null, stretches: [], ipc: [] };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === 'class') e.className = v;
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (k === 'style') e.style.cssText = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function size(n) {
  if (n < 1024) return `${n} B`;
  const units = ['K', 'M', 'G', 'T'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')}${units[u]}`;
}

const ms = (v) => `${v < 10 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : Math.round(v)} ms`;
const color = (pid) => `hsl(${(pid * 67) % 360} 62% 52%)`;

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function cell(v, cls) {
  return el('td', cls ? { class: cls } : {}, v);
}

// ---- processes -------------------------------------------------------------------------------------------------

function drawProcesses(snap) {
  const byParent = new Map();
  for (const p of snap.procs) {
    if (!byParent.has(p.ppid)) byParent.set(p.ppid, []);
    byParent.get(p.ppid).push(p);
  }
  const rows = [];
  const known = new Set(snap.procs.map((p) => p.pid));
  const visit = (p, depth) => {
    const ended = p.end !== null;
    const where = p.waitingFor ?? p.syscall;
    rows.push(el('tr', { id: `proc-${p.pid}`, 'data-pid': p.pid, 'data-state': ended ? 'ended' : p.state, class: ended ? 'ended' : '' },
      cell(p.pid, 'num'),
      el('td', {}, el('span', { class: 'tree' }, `${depth > 0 ? '  '.repeat(depth - 1) + '└ ' : ''}${p.name}`)),
      cell(ended ? p.end : p.state),
      cell(p.cpu === null ? '' : `cpu${p.cpu}`),
      cell(p.nice, 'num'),
      cell(ms(p.runtimeMs), 'num'),
      cell(size(p.memBytes), 'num'),
      cell(ended ? '' : where)));
    for (const c of byParent.get(p.pid) ?? []) visit(c, depth + 1);
  };
  // Roots: init, and any process whose parent is not listed.
  for (const p of snap.procs) if (!known.has(p.ppid)) visit(p, 0);
  fill($('procs').tBodies[0], rows);
  $('runqueue').textContent = snap.runqueue.length === 0 ? 'empty' : snap.runqueue.map((p) => `pid ${p}`).join(', ');
}

// ---- CPU timeline ----------------------------------------------------------------------------------------------

function drawTimeline() {
  const snap = state.snap;
  if (snap === null || state.hello === null) return;
  const svg = $('timeline');
  const cpus = state.hello.cpus;
  const lane = 24;
  const top = 4;
  const left = 44;
  const width = Math.max(svg.clientWidth, 200);
  const height = top + cpus * lane + 18;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.style.height = `${height}px`;
  const all = [...state.stretches, ...snap.running];
  // From the first time anything ran (the kernel boots its workers before that), to now.
  const origin = all.length === 0 ? 0 : Math.min(...all.map((s) => s.start));
  const end = Math.max(snap.now, origin + 1);
  const x = (t) => left + ((width - left - 4) * Math.max(0, t - origin)) / (end - origin);
  const parts = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', '2');
    label.setAttribute('y', String(top + cpu * lane + 16));
    label.textContent = `CPU ${cpu}`;
    parts.push(label);
  }
  const pids = new Set();
  for (const s of all) {
    const r = document.createElementNS(SVG, 'rect');
    const x0 = x(s.start);
    r.setAttribute('x', String(x0));
    r.setAttribute('y', String(top + s.cpu * lane + 3));
    r.setAttribute('width', String(Math.max(x(s.end) - x0, 1)));
    r.setAttribute('height', String(lane - 6));
    r.setAttribute('fill', color(s.pid));
    r.setAttribute('data-pid', String(s.pid));
    r.setAttribute('class', 'stretch');
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `pid ${s.pid} on CPU ${s.cpu}: ${ms(s.start)} to ${ms(s.end)} (${s.why}); vruntime ${ms(s.pick.vruntime / 1e6)}`;
    r.append(title);
    parts.push(r);
    pids.add(s.pid);
  }
  const axis = document.createElementNS(SVG, 'text');
  axis.setAttribute('x', String(width - 4));
  axis.setAttribute('y', String(height - 4));
  axis.setAttribute('text-anchor', 'end');
  axis.textContent = ms(end);
  const start = document.createElementNS(SVG, 'text');
  start.setAttribute('x', String(left));
  start.setAttribute('y', String(height - 4));
  start.textContent = ms(origin);
  parts.push(axis, start);
  svg.replaceChildren(...parts);
  const names = new Map(snap.procs.map((p) => [p.pid, p.name]));
  const legend = $('timeline-legend');
  legend.replaceChildren(...[...pids].sort((a, b) => a - b).flatMap((pid) => [
    el('span', { class: 'bar', style: `width:10px;background:${color(pid)}` }), ` ${pid} ${names.get(pid) ?? ''}  `,
  ]));
}

// ---- memory ----------------------------------------------------------------------------------------------------

function drawMemory(mem) {
  $('mem-summary').textContent = `${size(mem.used)} used of ${size(mem.total)} · ${size(mem.free)} free · largest free block ` +
    `${size(mem.largestFree)} · fragmentation ${(mem.fragmentation * 100).toFixed(1)}% · ${mem.regions} regions · ${mem.compactions} compactions`;
  const most = Math.max(1, ...mem.byProcess.map((p) => p.bytes));
  fill($('mem-procs').tBodies[0], mem.byProcess.filter((p) => p.bytes > 0).map((p) => el('tr', { 'data-pid': p.pid },
    cell(p.pid, 'num'), cell(p.bytes, 'num'), el('td', {}, el('span', { class: 'bar', style: `width:${Math.round((120 * p.bytes) / most)}px` })))));
  fill($('mem-sizes').tBodies[0], mem.sizeClasses.map((c) => el('tr', {}, cell(size(c.upTo), 'num'), cell(c.count, 'num'), cell(c.bytes, 'num'), cell(c.kinds.join(', ')))));
  const free = [...mem.freeClasses].sort((a, b) => b.freeBytes - a.freeBytes).slice(0, 12);
  fill($('mem-free').tBodies[0], free.map((c) => el('tr', {}, cell(`${size(c.min)}–${size(c.max)}`), cell(c.freeBlocks, 'num'), cell(c.freeBytes, 'num'))));
}

// ---- IPC -------------------------------------------------------------------------------------------------------

function drawIpc(ipcs) {
  const rows = [
    ...ipcs.pipes.map((p) => ['pipe', `pipe ${p.id}`, `${p.buffered} of ${p.capacity} B buffered, ${p.holders} holders, ${p.waiters} waiting`]),
    ...ipcs.shm.map((s) => ['shm', s.name, `${size(s.bytes)}, ${s.mappers} mapped, ${s.opens} open`]),
    ...ipcs.mq.map((q) => ['mq', q.name, `${q.curmsgs} of ${q.maxmsg} messages, ${q.opens} open`]),
  ];
  if (ipcs.futexWaiters > 0) rows.push(['futex', 'waiters', `${ipcs.futexWaiters} waiting`]);
  fill($('ipc-objects').tBodies[0], rows.length === 0
    ? [el('tr', {}, el('td', { colspan: 3, class: 'note' }, 'none open now'))]
    : rows.map(([kind, name, what]) => el('tr', { 'data-kind': kind, 'data-name': name }, cell(kind), cell(name), cell(what))));
}

function addIpcLog(entries) {
  const log = $('ipc-log');
  for (const e of entries) {
    state.ipc.push(e);
    log.append(el('li', { 'data-op': e.op, 'data-object': e.object },
      `${ms(e.t)}: pid ${e.pid} ${e.op} ${e.object}${e.name === null ? '' : ` ${e.name}`} (${size(e.bytes)})`));
  }
  while (log.childElementCount > 500) log.firstElementChild.remove();
}

// ---- trace -----------------------------------------------------------------------------------------------------

function addLines(lines) {
  const pre = $('trace');
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  const text = lines.join('\n') + '\n';
  pre.append(document.createTextNode(text));
  // Keep the node count small: merge into one text node once it grows, and drop the oldest lines.
  if (pre.childNodes.length > 50) {
    const all = pre.textContent.split('\n');
    pre.textContent = all.slice(Math.max(0, all.length - 1 - MAX_LINES)).join('\n');
  }
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

// ---- wiring ----------------------------------------------------------------------------------------------------

function onSnapshot(snap) {
  state.snap = snap;
  const ended = snap.status !== 'running';
  const status = $('status');
  status.textContent = ended ? `program ${snap.status}` : 'running';
  status.dataset.status = ended ? 'ended' : 'running';
  $('clock').textContent = ms(snap.now);
  $('event-count').textContent = String(snap.events);
  $('trace-pending').textContent = snap.pending ?? '';
  drawProcesses(snap);
  drawTimeline();
  drawMemory(snap.mem);
  drawIpc(snap.ipcs);
}

function connect() {
  const source = new EventSource('/events');
  const on = (type, f) => source.addEventListener(type, (m) => f(JSON.parse(m.data)));
  source.onopen = () => { $('connection').textContent = 'live'; };
  source.onerror = () => { $('connection').textContent = 'reconnecting…'; };
  on('hello', (h) => {
    // A (re)connection replays everything the server keeps: start from nothing.
    state.hello = h;
    state.stretches = [];
    state.ipc = [];
    $('trace').textContent = '';
    $('ipc-log').replaceChildren();
    $('program').textContent = h.program;
    document.title = `agentix: ${h.program}`;
  });
  on('lines', addLines);
  on('stretches', (s) => {
    state.stretches.push(...s);
    if (state.stretches.length > MAX_STRETCHES) state.stretches.splice(0, state.stretches.length - MAX_STRETCHES);
  });
  on('ipc', addIpcLog);
  on('snapshot', onSnapshot);
}

window.addEventListener('resize', drawTimeline);
connect();
