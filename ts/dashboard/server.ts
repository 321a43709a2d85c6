/**
 * `GET /dashboard` on the admin port: a live page of the authorizer's metrics.
 *
 * Data source: the node's own `/metrics` exposition — in a cluster the primary's
 * aggregate over all processes (clusterMetrics.ts), in one process the local registry.
 * Reading the exposition, not the in-memory objects, means the page shows exactly what
 * Prometheus scrapes, across every process, through the one aggregation path that already
 * bounds its cost (a cached aggregate, a wait capped per worker). One sampler per process
 * polls it every {@link SAMPLE_INTERVAL_MS} while at least one page is connected (none
 * otherwise), turns two consecutive expositions into per-second rates and quantiles
 * (frames.ts) and pushes each frame to every open `GET /dashboard/events` stream
 * (server-sent events). The page draws with uPlot, served from the npm package: no CDN.
 *
 * No SigV4 (a browser cannot sign): the page and its stream are read-only operational
 * data, the same numbers `/metrics` serves unauthenticated on the authorizer port. The
 * admin port is loopback by default and HTTPS (--admin-tls-cert) beyond it;
 * `--no-dashboard` removes the routes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type http from 'node:http';
import path from 'node:path';
import { frame, index, type Frame } from './frames.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_ICON, DASHBOARD_JS } from './page.js';
import { parsePromText } from './promText.js';

/** Frames per second the page shows; the cluster aggregate is reused for 1 s anyway (METRICS_CACHE_MS). */
export const SAMPLE_INTERVAL_MS = 1000;
/**
 * Open event streams per process. Each is one socket held open; a handful of people
 * watching is the use; beyond this a new page is refused (503) rather than letting
 * streams eat the admin port's connection cap.
 */
export const MAX_DASHBOARD_STREAMS = 16;

export interface Dashboard {
  /** Serve the request if it is a dashboard route; false: not ours. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** End every stream and stop sampling (before the admin server closes). */
  close(): void;
}

const require = createRequire(import.meta.url);
const uplotDir = path.dirname(require.resolve('uplot/package.json'));
let assets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  assets ??= {
    js: readFileSync(path.join(uplotDir, 'dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(path.join(uplotDir, 'dist/uPlot.min.css'), 'utf8'),
  };
  return assets;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  // Everything comes from this origin; uPlot sizes its elements through the CSSOM.
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
};

function file(res: http.ServerResponse, type: string, body: string): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createDashboard(exposition: () => Promise<{ body: string }>, now: () => number = Date.now): Dashboard {
  const streams = new Set<http.ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let previous: { at: number; body: string; ix: ReturnType<typeof index> } | undefined;
  let sampling = false;

  const broadcast = (f: Frame | { error: string }) => {
    const text = `data: ${JSON.stringify(f)}\n\n`;
    for (const res of streams) res.write(text);
  };

  const sample = async () => {
    if (sampling) return;
    sampling = true;
    try {
      const { body } = await exposition();
      const at = now();
      // The cluster aggregate is cached for METRICS_CACHE_MS: the same body again is not a new second.
      if (previous !== undefined && body === previous.body) return;
      const ix = index(parsePromText(body));
      if (previous !== undefined) broadcast(frame(ix, previous.ix, (at - previous.at) / 1000, at / 1000));
      previous = { at, body, ix };
    } catch (err) {
      broadcast({ error: err instanceof Error ? err.message : String(err) });
    } finally {
      sampling = false;
    }
  };

  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    previous = undefined;
  };

  const events = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (streams.size >= MAX_DASHBOARD_STREAMS) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' });
      res.end(`at most ${MAX_DASHBOARD_STREAMS} dashboard streams per process are open\n`);
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    // The browser reconnects after this many ms if the stream drops.
    res.write(`retry: ${SAMPLE_INTERVAL_MS * 2}\n\n`);
    streams.add(res);
    req.socket.setTimeout(0);
    res.on('close', () => {
      streams.delete(res);
      if (streams.size === 0) stop();
    });
    if (timer === undefined) {
      void sample();
      timer = setInterval(() => void sample(), SAMPLE_INTERVAL_MS);
      timer.unref();
    }
  };

  return {
    handle(req, res) {
      const p = (req.url ?? '/').split('?')[0];
      if (p !== '/dashboard' && !p?.startsWith('/dashboard/')) return false;
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' });
        res.end('the dashboard is read-only: GET\n');
        return true;
      }
      switch (p) {
        case '/dashboard':
          file(res, 'text/html; charset=utf-8', DASHBOARD_HTML);
          break;
        case '/dashboard/app.js':
          file(res, 'text/javascript; charset=utf-8', DASHBOARD_JS);
          break;
        case '/dashboard/app.css':
          file(res, 'text/css; charset=utf-8', DASHBOARD_CSS);
          break;
        case '/dashboard/icon.svg':
          file(res, 'image/svg+xml', DASHBOARD_ICON);
          break;
        case '/dashboard/uPlot.iife.min.js':
          file(res, 'text/javascript; charset=utf-8', uplot().js);
          break;
        case '/dashboard/uPlot.min.css':
          file(res, 'text/css; charset=utf-8', uplot().css);
          break;
        case '/dashboard/events':
          events(req, res);
          break;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('no such dashboard resource\n');
      }
      return true;
    },
    close() {
      stop();
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
