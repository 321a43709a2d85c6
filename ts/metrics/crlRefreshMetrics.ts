/**
 * CRL distribution-point refresh metrics (branch crlrefresh), read from the refresher at
 * scrape time. It runs once per installation (the cluster primary, or the one process
 * with `--processes 1`), like the webhook deliverer.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CrlRefresher } from '../crl/refresh.js';

/** Register the metrics; returns them (they read the refresher when collected). */
export function registerCrlRefreshMetrics(refresher: Pick<CrlRefresher, 'stats'>, registers: Registry[]): (Counter | Gauge)[] {
  const total = new Counter({
    name: 'certgate_crl_refresh_total',
    help: 'CRL distribution-point fetches by result: ok (verified and stored, or unchanged) or failed (network error, timeout, non-200, too large, or refused by verification; the last good CRL stays).',
    labelNames: ['result'],
    registers,
    collect() {
      const { ok, failed } = refresher.stats();
      this.reset();
      this.inc({ result: 'ok' }, ok);
      this.inc({ result: 'failed' }, failed);
    },
  });
  const failing = new Gauge({
    name: 'certgate_crl_refresh_failing',
    help: 'Registered CAs whose last CRL distribution-point fetch failed (their last good CRL stays in force until its nextUpdate).',
    registers,
    collect() {
      this.set(refresher.stats().failing.length);
    },
  });
  return [total, failing];
}
