/**
 * The writer's half of the lease (index.ts step 4): after a write that can turn an
 * allow into a deny has committed, wait until every sidecar whose lease is live has
 * applied it, or its lease has run out — then the API call may return.
 *
 * The write's sequence is taken as the change log's newest after the commit (at least
 * the write's own; at worst the wait also covers writes that committed just after).
 * The poll locks the lagging rows FOR SHARE: a heartbeat holding its row (it upserts it
 * and reads the newest sequence in one transaction, fleetView.ts) is waited for and its
 * outcome read, so no heartbeat can read a snapshot without this write and still get a
 * lease the poll did not see (https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS).
 *
 * Bounded: a sidecar confirmed before the commit holds its lease at most L after the
 * commit (its local deadline is its heartbeat's send time + L), and every later
 * confirmation includes the write, so after L (+ margin) it is safe to return whatever
 * the rows say — the dead or partitioned sidecar is denying REGISTRY_STALE by then.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queries } from '../registry/store.js';
import { LEASE_MARGIN_MS } from './fleetView.js';

/** How a wait ended: nobody lagged; all caught up; some leases ran out; the bound was reached. */
export type FleetWaitOutcome = 'none' | 'applied' | 'lease_expired' | 'bound';

export interface FleetWaitResult {
  sequence: number;
  seconds: number;
  outcome: FleetWaitOutcome;
}

const NEWEST = 'SELECT COALESCE(MAX(sequence), 0)::text AS sequence FROM change_log';
const LAGGING = `SELECT count(*) FILTER (WHERE lease_until > now())::int AS lagging,
    count(*) FILTER (WHERE lease_until <= now() AND lease_until > now() - interval '1 minute')::int AS lapsed,
    COALESCE(max(lease_ms) FILTER (WHERE lease_until > now()), 0)::int AS lease_ms
  FROM (SELECT lease_until, lease_ms FROM sidecars WHERE applied_sequence < ? FOR SHARE) AS s`;

/**
 * Poll delays: 1, 2, 4 ms, then every {@link FAST_POLL_MS} while live sidecars usually
 * answer (a notification, a catch-up and an acknowledging heartbeat: a few ms), every
 * {@link SLOW_POLL_MS} after {@link FAST_FOR_MS} (a sidecar is down: its lease decides).
 */
const FAST_POLL_MS = 5;
const FAST_FOR_MS = 250;
const SLOW_POLL_MS = 25;

/**
 * Wait for the fleet to apply everything committed so far. `leaseMs`: the lease assumed
 * when the rows cannot be read (the sidecars' own `lease_ms` otherwise). Never throws.
 */
export async function awaitFleet(store: Queries, leaseMs: number): Promise<FleetWaitResult> {
  const started = performance.now();
  let bound = started + leaseMs + LEASE_MARGIN_MS;
  let sequence = Number.POSITIVE_INFINITY;
  let lapsedAtFirst: number | undefined;
  let sawLagging = false;
  let delay = 1;
  let finalLook = false;
  const done = (outcome: FleetWaitOutcome): FleetWaitResult => ({
    sequence: Number.isFinite(sequence) ? sequence : 0,
    seconds: (performance.now() - started) / 1000,
    outcome,
  });
  for (;;) {
    try {
      if (!Number.isFinite(sequence)) sequence = Number((await store.get<{ sequence: string }>(NEWEST))?.sequence ?? 0);
      const row = await store.get<{ lagging: number; lapsed: number; lease_ms: number }>(LAGGING, [sequence]);
      const lagging = row?.lagging ?? 0;
      const lapsed = row?.lapsed ?? 0;
      lapsedAtFirst ??= lapsed;
      if (lagging === 0) return done(!sawLagging ? 'none' : lapsed > lapsedAtFirst ? 'lease_expired' : 'applied');
      sawLagging = true;
      bound = Math.max(bound, started + (row?.lease_ms ?? 0) + LEASE_MARGIN_MS);
    } catch {
      // The database is unreachable: only the bound can end the wait.
    }
    if (performance.now() >= bound) {
      // One last look, so a lease that ran out just now is reported as such.
      if (finalLook) return done('bound');
      finalLook = true;
      continue;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, performance.now() - started < FAST_FOR_MS ? FAST_POLL_MS : SLOW_POLL_MS);
  }
}
