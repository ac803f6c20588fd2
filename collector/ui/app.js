// The collector's web page: polls /api/state and /api/crashes, draws the overview and a crash page.
// Every string from events (names, stderr, params) reaches the page as text nodes, never as markup.
'use strict';

const STATE_EVERY_MS = 1000;
const CRASHES_EVERY_MS = 3000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const MIB = 1024 * 1024;

const $ = (id) => document.getElementById(id);

// An element with attributes and children; strings become text nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

const fmt = {
  int: (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en')),
  rate: (r) => (r === null ? '–' : r < 10 ? r.toFixed(1) : Math.round(r).toLocaleString('en')),
  bytes(n) {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + units[i];
  },
  duration(s) {
    if (s === undefined) return '';
    if (s < 60) return s.toFixed(0) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  },
  time: (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '?'),
};

async function getJSON(url) {
  const resp = await fetch(url, { cache: 'no-store' });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || resp.status + ' ' + resp.statusText);
  return body;
}

// ---- the overview: runners, rates by type, sinks ----

let previous = null; // the last /api/state and when it came, for rates

function rate(now, before, dt) {
  return before === undefined || dt <= 0 ? null : Math.max(0, (now - before) / dt);
}

function drawState(st) {
  const at = performance.now();
  const dt = previous ? (at - previous.at) / 1000 : 0;
  const old = (list, name) => previous && previous.st[list].find((x) => x.name === name);
  const c = st.collector;

  $('version').textContent = 'version ' + c.version;
  $('health').textContent = c.health;
  $('health').className = 'badge ' + c.health;
  $('uptime').textContent = 'up ' + fmt.duration(c.uptime_seconds);
  $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();

  const byType = new Map();
  fill($('runners').tBodies[0], st.runners.map((r) => {
    const o = old('runners', r.name);
    const rt = rate(r.events, o && o.events, dt);
    const t = byType.get(r.type) || { runners: 0, events: 0, rate: null };
    t.runners++;
    t.events += r.events;
    if (rt !== null) t.rate = (t.rate || 0) + rt;
    byType.set(r.type, t);
    return el('tr', { 'data-runner': r.name },
      el('td', {}, r.name), el('td', {}, r.type), el('td', {}, r.status),
      el('td', { class: r.health }, r.health + (r.reason ? ': ' + r.reason : '')),
      el('td', { class: 'num' }, fmt.int(r.events)), el('td', { class: 'num' }, fmt.rate(rt)),
      el('td', { class: 'num' }, fmt.int(r.errors)), el('td', {}, r.paused ? 'yes' : ''));
  }));
  fill($('rates').tBodies[0], [...byType].map(([type, t]) => el('tr', { 'data-type': type },
    el('td', {}, type), el('td', { class: 'num' }, t.runners),
    el('td', { class: 'num' }, fmt.int(t.events)), el('td', { class: 'num' }, fmt.rate(t.rate)))));
  fill($('sinks').tBodies[0], st.sinks.map((s) => {
    const o = old('sinks', s.name);
    const lost = s.failed + s.dropped > 0;
    return el('tr', { 'data-sink': s.name },
      el('td', {}, s.name), el('td', {}, s.type), el('td', {}, s.policy),
      el('td', { class: 'num' }, fmt.int(s.queued)), el('td', { class: 'num' }, fmt.bytes(s.queued_bytes)),
      el('td', { class: 'num' }, fmt.int(s.delivered)),
      el('td', { class: 'num' }, fmt.rate(rate(s.delivered, o && o.delivered, dt))),
      el('td', { class: 'num' + (s.failed ? ' bad' : '') }, fmt.int(s.failed)),
      el('td', { class: 'num' + (lost ? ' bad' : '') }, fmt.int(s.dropped)),
      el('td', { class: s.waiting ? 'warn' : '' }, s.waiting ? 'yes' : ''));
  }));
  previous = { st, at };
}

// ---- crash reports: in words, as the CLI says them ----

const FAULTS = { SIGSEGV: 'segmentation fault', SIGABRT: 'aborted', SIGBUS: 'bus error',
  SIGFPE: 'arithmetic exception', SIGILL: 'illegal instruction' };

function mib(n) {
  return (n / MIB).toFixed(0) + ' MiB';
}

function causeText(r) {
  const sig = r.signal;
  switch (r.cause) {
    case 'oom_kill': return 'killed by the OOM killer';
    case 'timeout': return 'killed by the host: a call ran past its timeout';
    case 'hang': return 'killed by the host: it stopped answering heartbeats';
    case 'memory_restart': return 'restarted by the host before the OOM killer would act';
    case 'exit': return 'exited with code ' + r.exit_code;
    case 'signal':
      if (r.killed_by) return 'killed by signal ' + sig + ' sent by ' + r.killed_by.name;
      return FAULTS[sig] ? FAULTS[sig] + ' (' + sig + ')' : 'killed by signal ' + sig;
    default: return 'killed by the host: ' + r.cause;
  }
}

function senderText(r) {
  if (!r.signal) return 'no signal: it exited with code ' + r.exit_code;
  if (r.killed_by) {
    const who = r.killed_by.pid ? r.killed_by.name + ' (pid ' + r.killed_by.pid + ')' : r.killed_by.name;
    return r.signal + ' sent by ' + who;
  }
  if (FAULTS[r.signal]) return r.signal + ' raised by the child itself (a fault, no sender)';
  if (r.health_source === 'procfs') return r.signal + ', sender unknown (needs the BPF health monitor)';
  return r.signal + ', sender unknown';
}

function oomText(r) {
  const rss = r.oom_rss_bytes || null;
  const limit = r.limits && r.limits.memory_mb > 0 ? ' (limit ' + r.limits.memory_mb + ' MiB)' : '';
  if (r.oom_killed === true) return 'killed by the OOM killer' + (rss ? ' at ' + mib(rss) : '') + limit;
  if (r.oom_killed === false) return 'not an OOM kill' + limit;
  return 'unknown (the procfs health source cannot tell)';
}

// Same package, version and way of dying: one row, as `collector crashes` groups them.
function groupKey(r) {
  const p = r.package || { name: r.runner };
  return [p.name, p.version, r.cause, r.signal, r.exit_code, r.killed_by && r.killed_by.name].join('\u001f');
}

function drawCrashes(data) {
  const reports = data.crashes.slice().sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const groups = new Map();
  for (const r of reports) {
    const g = groups.get(groupKey(r)) || { count: 0, first: r };
    g.count++;
    g.last = r;
    groups.set(groupKey(r), g);
  }
  $('crash-dirs').textContent = 'from ' + data.dirs.join(', ');
  $('no-crashes').hidden = reports.length > 0;
  const rows = [...groups.values()].sort((a, b) => (a.last.time < b.last.time ? 1 : -1));
  fill($('crashes').tBodies[0], rows.map((g) => {
    const p = g.last.package || { name: g.last.runner };
    const link = el('a', { href: '#crash/' + encodeURIComponent(g.last.id) }, g.last.id);
    return el('tr', { 'data-crash': g.last.id },
      el('td', { class: 'num' }, '×' + g.count), el('td', {}, fmt.time(g.first.time)),
      el('td', {}, fmt.time(g.last.time)), el('td', {}, (p.name || '?') + ' ' + (p.version || '')),
      el('td', {}, causeText(g.last)), el('td', {}, link));
  }));
}

// ---- the crash page ----

// CPU % (left axis) and RSS (right axis) over the seconds before death.
function trendChart(r) {
  const W = 720, H = 240, L = 48, R = 64, T = 12, B = 28;
  const death = Date.parse(r.time);
  const pts = (r.samples || []).map((s) => ({ t: (Number(s.ts_ns) / 1e6 - death) / 1000,
    cpu: s.cpu_percent, rss: s.rss_bytes / MIB }));
  const box = svg('svg', { id: 'trend-chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H,
    role: 'img', 'aria-label': 'CPU and RSS before death' });
  if (!pts.length) {
    box.append(svg('text', { x: L, y: H / 2 }, 'no health samples in the last 30 s before death'));
    return box;
  }
  const t0 = Math.min(-1, pts[0].t);
  const cpuMax = Math.max(100, ...pts.map((p) => p.cpu));
  const rssMax = Math.max(1, ...pts.map((p) => p.rss)) * 1.1;
  const x = (t) => L + ((t - t0) / (0 - t0)) * (W - L - R);
  const yc = (v) => T + (1 - v / cpuMax) * (H - T - B);
  const yr = (v) => T + (1 - v / rssMax) * (H - T - B);
  box.append(svg('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svg('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
    svg('line', { class: 'axis', x1: W - R, y1: T, x2: W - R, y2: H - B }),
    svg('line', { class: 'death', x1: x(0), y1: T, x2: x(0), y2: H - B }),
    svg('text', { x: L - 4, y: T + 10, 'text-anchor': 'end', class: 'cpu-label' }, cpuMax.toFixed(0) + '%'),
    svg('text', { x: L - 4, y: H - B, 'text-anchor': 'end', class: 'cpu-label' }, '0%'),
    svg('text', { x: W - R + 4, y: T + 10, class: 'rss-label' }, rssMax.toFixed(0) + ' MiB'),
    svg('text', { x: W - R + 4, y: H - B, class: 'rss-label' }, '0'),
    svg('text', { x: L, y: H - 8 }, t0.toFixed(1) + ' s'),
    svg('text', { x: x(0), y: H - 8, 'text-anchor': 'end' }, 'death'));
  for (const [key, y] of [['cpu', yc], ['rss', yr]]) {
    box.append(svg('polyline', { class: key, points: pts.map((p) => `${x(p.t)},${y(p[key])}`).join(' ') }));
    for (const p of pts) {
      const c = svg('circle', { class: key + ' point', cx: x(p.t), cy: y(p[key]), r: 3 });
      c.append(svg('title', {}, key === 'cpu' ? p.cpu.toFixed(1) + '% CPU at ' + p.t.toFixed(2) + ' s'
        : p.rss.toFixed(1) + ' MiB RSS at ' + p.t.toFixed(2) + ' s'));
      box.append(c);
    }
  }
  box.append(svg('text', { x: L + 6, y: T + 12, class: 'cpu-label' }, 'CPU %'),
    svg('text', { x: L + 60, y: T + 12, class: 'rss-label' }, 'RSS'));
  return box;
}

// What happened when, in ms before death: spawn, calls sent, the stop's steps, the end.
function timelineEvents(r) {
  const ev = [{ ms: -(r.uptime_ms || 0), what: 'child started (pid ' + r.pid + ')' }];
  for (const c of r.calls_in_flight || [])
    ev.push({ ms: -c.age_ms, what: 'call ' + c.id + ' (' + c.method + ') submitted, never answered' });
  for (const s of r.stop_escalation || [])
    ev.push({ ms: -s.ago_ms, what: s.step === 'shutdown' ? 'the host asked it to shut down'
      : s.step + ' sent by the host', step: s.step });
  // The host's SIGTERM is how a call's timeout shows: it is sent the moment the timeout fires.
  const term = (r.stop_escalation || []).find((s) => s.step === 'SIGTERM');
  if (r.timed_out_call && term)
    ev.push({ ms: -term.ago_ms - 0.001, what: 'call ' + r.timed_out_call.id + ' ran past its timeout' });
  ev.push({ ms: 0, what: 'died: ' + causeText(r), death: true });
  return ev.sort((a, b) => a.ms - b.ms);
}

function timelineChart(events) {
  const W = 720, H = 70, L = 16, R = 16, Y = 30;
  const t0 = Math.min(-1, events[0].ms);
  const x = (ms) => L + ((ms - t0) / (0 - t0)) * (W - L - R);
  const box = svg('svg', { id: 'timeline-chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H,
    role: 'img', 'aria-label': 'timeline before death' });
  box.append(svg('line', { class: 'axis', x1: L, y1: Y, x2: W - R, y2: Y }));
  events.forEach((e, i) => {
    const m = svg('line', { class: e.death ? 'death' : 'mark', x1: x(e.ms), y1: Y - 10, x2: x(e.ms), y2: Y + 10 });
    m.append(svg('title', {}, e.what));
    // Labels near an edge grow inward, so none is cut off.
    const anchor = x(e.ms) > W - 80 ? 'end' : x(e.ms) < L + 40 ? 'start' : 'middle';
    box.append(m, svg('text', { x: x(e.ms), y: i % 2 ? Y + 24 : Y - 14, 'text-anchor': anchor },
      e.step || (e.death ? 'death' : i + 1)));
  });
  box.append(svg('text', { x: L, y: H - 2 }, (t0 / 1000).toFixed(2) + ' s'));
  return box;
}

function fact(name, value, id) {
  return [el('dt', {}, name), el('dd', id ? { id } : {}, value)];
}

function drawCrash(r) {
  const p = r.package || { name: r.runner };
  $('crash-title').textContent = 'Crash ' + r.id + ': ' + (p.name || '?') + ' ' + (p.version || '');
  $('crash-facts').replaceChildren(
    ...fact('cause', causeText(r), 'crash-cause'),
    ...fact('signal and sender', senderText(r), 'crash-sender'),
    ...fact('OOM verdict', oomText(r), 'crash-oom'),
    ...fact('core dumped', r.core_dumped ? 'yes' : 'no'),
    ...fact('when', fmt.time(r.time) + ', after ' + r.uptime_ms + ' ms up and ' + r.calls_answered + ' answered calls'),
    ...fact('instance', r.instance + ', pid ' + r.pid + ', restarts before it ' + r.restarts +
      ', circuit breaker ' + r.breaker),
    ...fact('health source', r.health_source || '?'),
    ...fact('command', (r.argv || []).join(' ')));
  $('trend').replaceChildren(trendChart(r));
  const events = timelineEvents(r);
  $('timeline').replaceChildren(timelineChart(events));
  $('timeline-list').replaceChildren(...events.map((e) =>
    el('li', {}, (e.ms / 1000).toFixed(3) + ' s: ' + e.what)));
  const calls = (r.calls_in_flight || []).map((c) => el('tr', {},
    el('td', { class: 'num' }, c.id), el('td', {}, c.method), el('td', { class: 'num' }, c.age_ms + ' ms'),
    el('td', {}, c.params + (c.params_truncated ? '…' : ''))));
  if (!calls.length) {
    const why = r.timed_out_call ? 'none: call ' + r.timed_out_call.id + ' (' + r.timed_out_call.method +
      ') had timed out and was answered as such before the end' : 'none';
    calls.push(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, why)));
  }
  fill($('calls').tBodies[0], calls);
  $('stderr').textContent = (r.stderr || []).join('\n') || '(nothing on stderr)';
}

// ---- routing and polling ----

async function route() {
  const m = location.hash.match(/^#crash\/(.+)$/);
  $('overview').hidden = !!m;
  $('crash').hidden = !m;
  if (!m) return;
  $('crash-error').hidden = true;
  try {
    drawCrash(await getJSON('/api/crashes/' + encodeURIComponent(decodeURIComponent(m[1]))));
  } catch (e) {
    $('crash-error').textContent = 'cannot show this crash: ' + e.message;
    $('crash-error').hidden = false;
  }
}

function every(ms, fn) {
  const tick = async () => {
    try { await fn(); } catch (e) { $('updated').textContent = 'not answering: ' + e.message; }
    setTimeout(tick, ms);
  };
  tick();
}

window.addEventListener('hashchange', route);
every(STATE_EVERY_MS, async () => drawState(await getJSON('/api/state')));
every(CRASHES_EVERY_MS, async () => drawCrashes(await getJSON('/api/crashes')));
route();
