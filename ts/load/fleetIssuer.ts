/**
 * Where `certgate fleet create` makes its device batches: in `workers` threads (piscina,
 * one engine per thread), so key generation and signing use the other cores while the
 * main thread registers finished batches; with 0 workers, on the calling thread.
 */
import { Piscina } from 'piscina';
import type { Engine } from '../engine/types.js';
import { fleetWorkerPath } from '../paths.js';
import type { FleetTask } from './fleetWorker.js';
import { issueBatch, type FleetCa, type IssueBatch, type IssuedDevice } from './provision.js';

export class FleetIssuer {
  readonly #piscina: Piscina<FleetTask, IssuedDevice[]> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly ca: FleetCa,
    workers: number,
  ) {
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be a non-negative integer, got ${workers}`);
    // Every batch is queued at once; the workers take them in order.
    this.#piscina =
      workers === 0
        ? undefined
        : new Piscina<FleetTask, IssuedDevice[]>({
            filename: fleetWorkerPath,
            minThreads: workers,
            maxThreads: workers,
            maxQueue: Infinity,
          });
  }

  /** One batch of devices; rejects when the engine refuses it. */
  async issue(batch: IssueBatch): Promise<IssuedDevice[]> {
    if (this.#piscina === undefined) return issueBatch(this.engine, this.ca, batch);
    return this.#piscina.run({ ...batch, engine: this.engine.name, ca: this.ca });
  }

  async close(): Promise<void> {
    await this.#piscina?.close({ force: true });
  }
}
