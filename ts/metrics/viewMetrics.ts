/**
 * Fleet-mode metrics (ts/view/, docs/fleet.md): the local view's lag and lease per
 * server process (`worker` = its pid, like the other per-process series: each process
 * is its own sidecar), its cache, the notifications and heartbeats it saw, and how long
 * lowering writes made in this process waited for the fleet. Gauges and counters read
 * the view at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FleetView } from '../view/fleetView.js';
import type { FleetWaitResult } from '../view/fleetWait.js';
import { WORKER_LABEL } from './authzMetrics.js';

/** Heartbeat round trips: one small upsert and a MAX, sub-millisecond on a LAN. */
const HEARTBEAT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Fleet waits: a few ms when every sidecar is up, the lease (default 5 s) when one is not. */
const WAIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ViewMetrics {
  readonly #heartbeat: Histogram;
  readonly #wait: Histogram<'outcome'>;

  /**
   * `held`: on SQLite with every standing held (ts/fastpath/standings.ts), how many this
   * process holds — the one view figure a single box has (no lease, no feed).
   */
  constructor(view: FleetView | undefined, registers: Registry[], held?: () => number) {
    this.#heartbeat = new Histogram({
      name: 'certgate_view_heartbeat_seconds',
      help: "Round trip of the local view's heartbeat (upsert of this process's lease row and the change log's newest sequence).",
      buckets: HEARTBEAT_BUCKETS,
      registers,
    });
    this.#wait = new Histogram({
      name: 'certgate_fleet_wait_seconds',
      help: 'How long a write that can turn an allow into a deny (revoke, deactivate, delete, detach, CA or CRL change) waited, after its commit, for every live sidecar to apply it; outcome none, applied, lease_expired or bound.',
      labelNames: ['outcome'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.set({ worker: WORKER_LABEL }, read());
        },
      });
    if (view === undefined) {
      if (held !== undefined)
        gauge(
          'certgate_view_cache_entries',
          'Certificate standings this process holds in memory: every registered certificate (SQLite, --view-standings all).',
          held,
        );
      return;
    }
    gauge(
      'certgate_view_lag_sequences',
      'Changes in the log the local view has not applied yet, as of its newest heartbeat.',
      () => view.stats().lagSequences,
    );
    gauge(
      'certgate_view_staleness_seconds',
      'Seconds since the heartbeat that last confirmed the local view current was sent (allows stop past --max-staleness).',
      () => Math.min(view.stats().sinceConfirmedMs / 1000, 1e9),
    );
    gauge(
      'certgate_view_lease_remaining_seconds',
      'Seconds this process may still allow without a new confirming heartbeat (0: REGISTRY_STALE).',
      () => view.lease.remainingMs() / 1000,
    );
    gauge(
      'certgate_view_cache_entries',
      'Certificate standings held by the local view: every registered certificate (--view-standings all), or those seen, negative answers included (seen).',
      () => view.stats().cacheEntries,
    );
    gauge(
      'certgate_view_load_seconds',
      'Duration of the newest whole load of the local view (--view-standings all: every standing and the tables, in one snapshot; at start and after a gap in the log).',
      () => view.stats().loadSeconds,
    );
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          this.inc({ worker: WORKER_LABEL }, read());
        },
      });
    counter('certgate_view_cache_hits_total', 'Standing reads answered from the local view.', () => view.stats().cacheHits);
    counter(
      'certgate_view_cache_misses_total',
      'Standing reads that went to PostgreSQL (one statement each).',
      () => view.stats().cacheMisses,
    );
    counter('certgate_view_notifications_total', 'Change notifications (LISTEN) received.', () => view.stats().notifications);
    counter(
      'certgate_view_resets_total',
      'Gaps found in the change log (held standings dropped or reloaded whole, tables reloaded).',
      () => view.stats().resets,
    );
  }

  heartbeat(seconds: number): void {
    this.#heartbeat.observe(seconds);
  }

  fleetWait(result: FleetWaitResult): void {
    this.#wait.observe({ outcome: result.outcome }, result.seconds);
  }
}
