/**
 * The `--metrics-port` listener: `GET /metrics` and nothing else. With several processes
 * the primary serves it (it holds the aggregate, clusterMetrics.ts), so scrapes never
 * share an event loop with decisions; with one process it is a separate port of it.
 */
import http from 'node:http';
import { admissionServerOptions, capConnections, type AdmissionLimits } from './admission.js';
import { negotiate, type Exposition, type MetricsFormat } from '../metrics/exposition.js';

export function createMetricsServer(metrics: (format: MetricsFormat) => Promise<Exposition>, admission: AdmissionLimits): http.Server {
  const server = http.createServer(admissionServerOptions(admission), (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('only GET /metrics is served here\n');
      return;
    }
    metrics(negotiate(req.headers.accept)).then(
      (m) => {
        res.writeHead(200, { 'content-type': m.contentType });
        res.end(m.body);
      },
      (err: unknown) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(`${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  return capConnections(server, admission);
}
