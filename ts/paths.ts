/**
 * Where build artefacts live. Source runs from `ts/` under vitest and from `dist/` in
 * production; both sit one level below the project root.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const nativeAddonPath = path.join(projectRoot, 'build', 'native', 'certgate.linux-x64-gnu.node');
export const wasmModulePath = path.join(projectRoot, 'build', 'wasm', 'certgate_wasm.js');
/** Compiled worker entry; piscina cannot load TypeScript, so this always points at dist/. */
export const poolWorkerPath = path.join(projectRoot, 'dist', 'engine', 'worker.js');
/** Compiled worker of `certgate fleet create` (ts/load/fleetWorker.ts), in dist/ for the same reason. */
export const fleetWorkerPath = path.join(projectRoot, 'dist', 'load', 'fleetWorker.js');
