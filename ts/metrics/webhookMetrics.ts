/**
 * Webhook delivery metrics, read from the deliverer at scrape time (it runs once per
 * installation: in the cluster primary, or the one process with `--processes 1`).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebhookDeliverer } from '../authz/webhooks.js';

/** Register the metrics; returns them (they read the deliverer when collected). */
export function registerWebhookMetrics(
  deliverer: Pick<WebhookDeliverer, 'stats'>,
  registers: Registry[],
  now: () => number = Date.now,
): (Counter | Gauge)[] {
  const deliveries = new Counter({
    name: 'certgate_webhook_deliveries_total',
    help: 'Webhook POSTs by result: delivered (2xx) or failed (network error, timeout, non-2xx; retried with backoff).',
    labelNames: ['result'],
    registers,
    collect() {
      const { delivered, failed } = deliverer.stats();
      this.reset();
      this.inc({ result: 'delivered' }, delivered);
      this.inc({ result: 'failed' }, failed);
    },
  });
  const backlog = new Gauge({
    name: 'certgate_webhook_backlog_events',
    help: 'Registry events read and not yet delivered, summed over webhook URLs (a lower bound beyond one batch of 100 per account).',
    registers,
    collect() {
      this.set(deliverer.stats().backlog);
    },
  });
  const lag = new Gauge({
    name: 'certgate_webhook_lag_seconds',
    help: 'Age of the oldest registry event not yet delivered to every webhook URL, seconds (0 when none is pending).',
    registers,
    collect() {
      const oldest = deliverer.stats().oldestPending;
      this.set(oldest === null ? 0 : Math.max(0, now() / 1000 - oldest));
    },
  });
  const leading = new Gauge({
    name: 'certgate_webhook_deliverer',
    help: 'Whether this service is the webhook deliverer now (1) or not (0). On a PostgreSQL registry exactly one service of the fleet holds the delivery lock; on SQLite it is always 1.',
    registers,
    collect() {
      this.set(deliverer.stats().leading ? 1 : 0);
    },
  });
  return [deliveries, backlog, lag, leading];
}
