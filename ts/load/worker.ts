/**
 * One generator process of `certgate load --workers N` (node:child_process fork): it
 * opens its own target, runs its slice of the fleet and of the rate, reports its
 * statistics about once a second and when done. One Node process cannot saturate a
 * multi-core server; several can.
 */
import { readFleet } from './fleet.js';
import { runLoad, type LoadOptions } from './run.js';
import type { StatsJson } from './stats.js';
import { openTarget, type TargetSpec } from './targets.js';

export interface WorkerJob {
  spec: TargetSpec;
  fleetDir: string;
  timeoutMs: number;
  load: Omit<LoadOptions, 'target' | 'fleet' | 'onTick'>;
}

export type FromWorker =
  { type: 'tick'; stats: StatsJson } | { type: 'done'; stats: StatsJson; seconds: number } | { type: 'failed'; message: string };

function send(m: FromWorker): Promise<void> {
  return new Promise<void>((resolve) => process.send?.(m, () => resolve()));
}

async function work(job: WorkerJob): Promise<void> {
  const target = openTarget(job.spec, job.load.connections, job.timeoutMs);
  try {
    const { stats, seconds } = await runLoad({
      ...job.load,
      target,
      fleet: readFleet(job.fleetDir),
      onTick: (s) => void send({ type: 'tick', stats: s.toJSON() }),
    });
    await send({ type: 'done', stats: stats.toJSON(), seconds });
  } finally {
    await target.close();
  }
}

process.once('message', (job: WorkerJob) => {
  work(job).then(
    () => process.disconnect(),
    async (err: unknown) => {
      process.send?.({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker, () =>
        process.disconnect(),
      );
    },
  );
});
