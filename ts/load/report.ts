/**
 * `certgate load --report FILE.html`: one self-contained page (no network: uPlot's script
 * and stylesheet are inlined from the `uplot` package, the run's numbers are embedded as
 * JSON) with the summary, latency over time (p50/p99 per second), the percentile curve
 * from the HdrHistogram and the answers by reason. It opens from a file, offline, and can
 * be attached to a CI run.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Summary } from './stats.js';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const dir = path.dirname(require.resolve('uplot/package.json'));
  return {
    js: readFileSync(path.join(dir, 'dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(path.join(dir, 'dist/uPlot.min.css'), 'utf8'),
  };
}

/** What the page shows besides the summary. */
export interface ReportInput {
  target: string;
  summary: Summary;
  /** When the run ended (ISO 8601). */
  finishedAt: string;
  /** The command line's options, shown so the run can be repeated. */
  command: string;
  thresholds: { passed: boolean; failures: string[] };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inline `<script>`/`<style>` text must not end its element early (HTML's raw-text rule). */
function rawText(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

/** The page's script: draws the three charts from `REPORT` with uPlot; charts kept on window for tests. */
const PAGE_SCRIPT = `
(function () {
  const R = window.CERTGATE_REPORT;
  const s = R.summary;
  const width = () => Math.min(1100, document.body.clientWidth - 40);
  const charts = [];
  const ms = (us) => us / 1000;

  // Latency over time: p50 and p99 of the requests due in each second, and the rate.
  const t = s.timeline;
  charts.push(new uPlot({
    title: 'Latency over time (by intended send second)', width: width(), height: 300,
    scales: { x: { time: false }, req: {} },
    axes: [
      { label: 'second of the run', incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600] },
      { label: 'ms', values: (u, v) => v.map((x) => x.toFixed(2)) },
      { scale: 'req', side: 1, label: 'requests', grid: { show: false } },
    ],
    series: [
      { label: 'second' },
      { label: 'p50 ms', stroke: '#1f77b4', width: 2 },
      { label: 'p99 ms', stroke: '#d62728', width: 2 },
      { label: 'requests', scale: 'req', stroke: '#999', dash: [4, 4] },
    ],
  }, [t.map((x) => x.second), t.map((x) => ms(x.p50Us)), t.map((x) => ms(x.p99Us)), t.map((x) => x.requests)], document.getElementById('timeline')));

  // Percentile curve on HdrHistogram's axis: x = 1 / (1 - p), log scale, so the tail spreads out.
  const n = Math.max(1, s.requests);
  const px = s.percentiles.map(([p]) => (p >= 100 ? n : 1 / (1 - p / 100)));
  const label = (v) => { const p = 100 * (1 - 1 / v); return p <= 0 ? 'p0' : 'p' + +p.toFixed(4); };
  charts.push(new uPlot({
    title: 'Latency by percentile', width: width(), height: 300,
    scales: { x: { time: false, distr: 3 }, y: {} },
    axes: [
      // Log axes hand minor ticks over as null: only 1, 10, 100… (p0, p90, p99…) are labelled.
      { label: 'percentile', values: (u, v) => v.map((x) => (x == null ? null : label(x))) },
      { label: 'ms', values: (u, v) => v.map((x) => x.toFixed(2)) },
    ],
    series: [
      { label: 'percentile', value: (u, v) => (v == null ? '' : label(v)) },
      { label: 'latency ms', stroke: '#2ca02c', width: 2, points: { show: true } },
    ],
  }, [px, s.percentiles.map(([, us]) => ms(us))], document.getElementById('percentiles')));

  // Answers by reason, most frequent first.
  const reasons = Object.entries(s.reasons);
  charts.push(new uPlot({
    title: 'Answers by reason', width: width(), height: 300,
    scales: { x: { time: false, range: [-0.5, reasons.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      { values: (u, v) => v.map((i) => (Number.isInteger(i) && reasons[i] ? reasons[i][0] : '')), splits: () => reasons.map((_, i) => i), size: 60 },
      { label: 'answers' },
    ],
    series: [
      { label: 'reason', value: (u, i) => (i == null || !reasons[i] ? '' : reasons[i][0]) },
      { label: 'answers', fill: 'rgba(31,119,180,0.6)', stroke: '#1f77b4', paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } },
    ],
  }, [reasons.map((_, i) => i), reasons.map(([, c]) => c)], document.getElementById('reasons')));

  window.CERTGATE_CHARTS = charts;
})();
`;

/** The report page for one run. */
export function renderReport(input: ReportInput): string {
  const { js, css } = uplotAssets();
  const s = input.summary;
  const data = JSON.stringify({ target: input.target, summary: s }).replace(/</g, '\\u003c');
  const row = (k: string, v: string | number) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`;
  const numbers = [
    row('target', input.target),
    row('finished', input.finishedAt),
    row('requests', s.requests),
    row('seconds', s.seconds.toFixed(1)),
    row('requests/s', Math.round(s.ratePerSecond)),
    row(
      'p50 / p90 / p99 / p99.9 / max',
      [s.latencyUs.p50, s.latencyUs.p90, s.latencyUs.p99, s.latencyUs.p999, s.latencyUs.max].map(ms).join(' / '),
    ),
    row('mean', ms(s.latencyUs.mean)),
    row('allow / deny / unavailable / error', `${s.outcomes.allow} / ${s.outcomes.deny} / ${s.outcomes.unavailable} / ${s.outcomes.error}`),
    row('wrong answers', s.wrong),
    row('error rate', s.errorRate.toFixed(4)),
    row('thresholds', input.thresholds.passed ? 'passed' : `FAILED: ${input.thresholds.failures.join('; ')}`),
  ].join('\n');
  const reasons = Object.entries(s.reasons)
    .map(([reason, n]) => `<tr><td>${escapeHtml(reason)}</td><td>${n}</td></tr>`)
    .join('\n');
  const wrong =
    s.wrongExamples.length === 0
      ? ''
      : `<h2>Wrong answers (first ${s.wrongExamples.length})</h2><ul>${s.wrongExamples.map((e) => `<li><code>${escapeHtml(e)}</code></li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>certgate load: ${escapeHtml(input.target)}</title>
<style>${rawText(css, 'style')}</style>
<style>
body { font: 14px system-ui, sans-serif; margin: 20px; color: #222; }
table { border-collapse: collapse; margin-bottom: 16px; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #ddd; }
th { font-weight: 600; }
.failed { color: #b00; }
.chart { margin: 16px 0; }
</style>
</head>
<body>
<h1>certgate load</h1>
<p><code>${escapeHtml(input.command)}</code></p>
<table class="${input.thresholds.passed ? '' : 'failed'}" id="summary">
${numbers}
</table>
${wrong}
<div class="chart" id="timeline"></div>
<div class="chart" id="percentiles"></div>
<div class="chart" id="reasons"></div>
<h2>Answers by reason</h2>
<table id="reason-table"><tr><th>reason</th><th>answers</th></tr>
${reasons}
</table>
<script>window.CERTGATE_REPORT = ${data};</script>
<script>${rawText(js, 'script')}</script>
<script>${rawText(PAGE_SCRIPT, 'script')}</script>
</body>
</html>
`;
}
