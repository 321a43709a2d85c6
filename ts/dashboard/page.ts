/**
 * The dashboard page and its script (plain browser JavaScript, no build step): one uPlot
 * chart per panel, fed by `/dashboard/events` frames (frames.ts `Frame`). A panel whose
 * series set changes (a new deny reason, a stage seen for the first time) is rebuilt with
 * the history padded with gaps. No inline script or style: the page runs under a
 * same-origin CSP.
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>certgate dashboard</title>
<link rel="stylesheet" href="/dashboard/uPlot.min.css">
<link rel="stylesheet" href="/dashboard/app.css">
<link rel="icon" href="/dashboard/icon.svg">
</head>
<body>
<h1>certgate</h1>
<div id="status">connecting…</div>
<div id="grid"></div>
<script src="/dashboard/uPlot.iife.min.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `body { font: 13px system-ui, sans-serif; margin: 12px; background: #fff; color: #222; }
h1 { font-size: 16px; margin: 0 0 4px; }
#status { color: #666; margin-bottom: 8px; }
#status.error { color: #b00; }
#grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 10px; }
.panel { border: 1px solid #ddd; border-radius: 4px; padding: 6px; }
.panel h2 { font-size: 13px; margin: 0 0 4px; font-weight: 600; }
.now { color: #444; font-variant-numeric: tabular-nums; }
`;

/** A dot for the tab (without an icon the browser asks the admin API for /favicon.ico). */
export const DASHBOARD_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#2a7"/></svg>';

export const DASHBOARD_JS = String.raw`'use strict';
(() => {
  const WINDOW = 300; // points kept: five minutes at one frame a second
  const HEIGHT = 150;
  const COLORS = ['#2a7', '#d33', '#e90', '#37c', '#85c', '#999', '#0aa', '#c5a', '#7a3', '#a52'];
  const us = (s) => (s === null || s === undefined ? null : s * 1e6);
  // An axis tick of a latency panel (values in µs): 10 µs, 1 ms, 100 ms.
  const duration = (v) => (v === null ? '' : v >= 1000 ? +(v / 1000).toPrecision(3) + ' ms' : +v.toPrecision(3) + ' µs');
  const fmt = (v, unit) => (v === null || v === undefined ? '–' : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) + unit);

  // Each panel: its series keys, how to read them from a frame, the unit of the axis.
  const PANELS = [
    { id: 'decisions', title: 'Decisions/s by result', unit: '/s', keys: () => ['allow', 'deny', 'unavailable'], read: (f, k) => f.decisions[k] },
    { id: 'latency', title: 'Decision latency (µs, log scale)', unit: ' µs', log: true, keys: () => ['p50', 'p90', 'p99'], read: (f, k) => us(f.latency[k]) },
    { id: 'stages', title: 'Stage latency p99 (µs, log scale)', unit: ' µs', log: true, keys: (f) => Object.keys(f.stageP99).sort(), read: (f, k) => us(f.stageP99[k]) },
    { id: 'refusals', title: 'Denies and unavailable by reason (/s)', unit: '/s', keys: (f) => Object.keys(f.refusals).sort(), read: (f, k) => f.refusals[k] },
    { id: 'cache', title: 'Verification-cache hit ratio (%)', unit: ' %', keys: () => ['hit ratio'], read: (f) => (f.cacheHitRatio === null ? null : f.cacheHitRatio * 100) },
    { id: 'pool', title: 'Pool queue (all processes)', unit: '', keys: (f) => (f.pool ? ['queued', 'limit'] : []), read: (f, k) => (f.pool ? (k === 'queued' ? f.pool.queue : f.pool.limit) : null) },
    { id: 'perProcess', title: 'Decisions/s per process', unit: '/s', empty: 'no per-process series in the exposition (it needs a worker label)', keys: (f) => Object.keys(f.perProcess).sort(), read: (f, k) => f.perProcess[k] },
    { id: 'processes', title: 'Server processes: CPU cores in use, processes missing from the aggregate', unit: '', keys: (f) => ['CPU cores'].concat(f.processes.missing === null ? [] : ['missing']), read: (f, k) => (k === 'CPU cores' ? f.processes.cpuCores : f.processes.missing) },
  ];

  const grid = document.getElementById('grid');
  const status = document.getElementById('status');
  const times = [];
  const frames = [];
  const charts = {};
  window.certgateDashboard = { charts, frames };

  for (const p of PANELS) {
    const el = document.createElement('div');
    el.className = 'panel';
    el.innerHTML = '<h2></h2><div class="now"></div><div class="chart"></div>';
    el.querySelector('h2').textContent = p.title;
    el.id = 'panel-' + p.id;
    grid.appendChild(el);
    charts[p.id] = { panel: p, el, keys: [], plot: null };
  }

  function width(c) {
    return Math.max(300, c.el.clientWidth - 14);
  }

  function build(c, keys) {
    if (c.plot) c.plot.destroy();
    c.keys = keys;
    const series = [{}].concat(keys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false })));
    const opts = {
      width: width(c),
      height: HEIGHT,
      series,
      scales: { x: { time: true }, y: c.panel.log ? { distr: 3 } : {} },
      axes: [{}, c.panel.log ? { size: 64, values: (u, vals) => vals.map(duration) } : { size: 64 }],
      legend: { live: false },
    };
    c.plot = new uPlot(opts, data(c), c.el.querySelector('.chart'));
  }

  function data(c) {
    return [times.slice()].concat(c.keys.map((k) => frames.map((f) => { const v = c.panel.read(f, k); return v === undefined ? null : v; })));
  }

  function render() {
    const last = frames[frames.length - 1];
    for (const id in charts) {
      const c = charts[id];
      const keys = c.panel.keys(last);
      const known = c.keys.concat(keys.filter((k) => !c.keys.includes(k)));
      if (!c.plot || known.length !== c.keys.length) build(c, known);
      else c.plot.setData(data(c));
      c.el.querySelector('.now').textContent = c.keys.length === 0 ? (c.panel.empty || 'no data') : c.keys.map((k) => k + ': ' + fmt(c.panel.read(last, k), c.panel.unit)).join('   ');
    }
  }

  const source = new EventSource('/dashboard/events');
  source.onmessage = (e) => {
    const f = JSON.parse(e.data);
    if (f.error) {
      status.textContent = 'metrics unavailable: ' + f.error;
      status.className = 'error';
      return;
    }
    times.push(f.t);
    frames.push(f);
    if (times.length > WINDOW) { times.shift(); frames.shift(); }
    const p = f.processes;
    status.className = '';
    status.textContent = new Date(f.t * 1000).toLocaleTimeString() + ' · ' + fmt(f.decisions.allow + f.decisions.deny + f.decisions.unavailable, ' decisions/s') +
      (p.asked === null ? ' · one process' : ' · ' + p.asked + ' processes' + (p.missing ? ', ' + p.missing + ' missing' : ''));
    render();
  };
  source.onerror = () => {
    status.textContent = 'disconnected; reconnecting…';
    status.className = 'error';
  };
  window.addEventListener('resize', () => { for (const id in charts) { const c = charts[id]; if (c.plot) c.plot.setSize({ width: width(c), height: HEIGHT }); } });
})();
`;
