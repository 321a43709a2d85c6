/**
 * The worker thread of `certgate fleet create` (fleetIssuer.ts): makes one batch of
 * device keys and certificates with its own copy of the engine. No I/O happens here.
 */
import { loadEngine } from '../engine/load.js';
import type { EngineName } from '../engine/types.js';
import { issueBatch, type FleetCa, type IssueBatch, type IssuedDevice } from './provision.js';

export interface FleetTask extends IssueBatch {
  engine: EngineName;
  ca: FleetCa;
}

export default function run(task: FleetTask): IssuedDevice[] {
  return issueBatch(loadEngine(task.engine), task.ca, task);
}
