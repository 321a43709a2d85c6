/**
 * `/metrics` rendering: Prometheus text or OpenMetrics, chosen by the scraper's Accept
 * header, from one or more processes' metrics (prom-client JSON).
 *
 * Every exposition is rendered from a registry built for it (prom-client's
 * `AggregatorRegistry.aggregate`, which also sums several processes): prom-client's
 * OpenMetrics output renames the counters of the registry it renders (drops `_total` from
 * their names), so a live registry is never rendered directly.
 */
import { AggregatorRegistry, Gauge, Registry, openMetricsContentType, prometheusContentType, type RegistryContentType } from 'prom-client';

export type MetricsFormat = 'prometheus' | 'openmetrics';

export interface Exposition {
  contentType: string;
  body: string;
}

/** One process's metrics as `Registry.getMetricsAsJSON()` returns them. */
export type ProcessMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * The format a scraper asked for: OpenMetrics when its Accept header ranks
 * `application/openmetrics-text` above `text/plain` (Prometheus does by default), else the
 * Prometheus text format (also for no Accept header, and for a tie). Hand-written: two
 * media types and their q-values, not worth a dependency.
 * https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1
 */
export function negotiate(accept: string | undefined): MetricsFormat {
  if (accept === undefined || !accept.includes('openmetrics')) return 'prometheus';
  let open = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q >= 0 && q <= 1)) continue;
    if (type === 'application/openmetrics-text') open = Math.max(open, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return open > 0 && open > text ? 'openmetrics' : 'prometheus';
}

/**
 * OpenMetrics names a counter without `_total` and its sample with it. prom-client renames
 * a registered metric for that, but an aggregated one only in a way its output does not
 * see (the TYPE line keeps `_total` and the samples get `_total_total`), so counters are
 * renamed here, in copies, before aggregation.
 */
function openMetricsNames(metrics: ProcessMetrics): ProcessMetrics {
  return metrics.map((m) =>
    String(m.type) === 'counter' && m.name.endsWith('_total') ? { ...m, name: m.name.slice(0, -'_total'.length) } : m,
  );
}

/** Seconds since the epoch when this process started (as prom-client's default metric computes it). */
export const PROCESS_START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/**
 * Render processes' metrics, summed per label set (each metric's own aggregator), plus
 * `process_start_time_seconds` of the service (`startSeconds`: the supervising process's
 * start; prom-client omits the per-process one when aggregating, and per-process start
 * times are `certgate_worker_start_time_seconds{worker}`).
 */
export async function render(
  processes: ProcessMetrics[],
  format: MetricsFormat,
  startSeconds: number,
  extra?: (registers: Registry[]) => void,
): Promise<Exposition> {
  const inputs = format === 'openmetrics' ? processes.map(openMetricsNames) : processes;
  const registry: Registry<RegistryContentType> =
    inputs.length === 0 ? new Registry() : AggregatorRegistry.aggregate<RegistryContentType>(inputs);
  const registers = [registry as Registry];
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the service (its supervising process) since unix epoch in seconds.',
    registers,
  }).set(startSeconds);
  extra?.(registers);
  registry.setContentType(format === 'openmetrics' ? openMetricsContentType : prometheusContentType);
  return { contentType: registry.contentType, body: await registry.metrics() };
}
