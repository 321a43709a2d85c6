/**
 * Where a chain verification runs: inline on the event loop, or on the piscina pool.
 *
 * The numbers (bench + `../shared/spec/performance-baselines.md`, 2 vCPU, Node 20):
 * handing one task to the pool costs 80–100 µs of latency and 30–38 µs of main-thread
 * CPU, more than a native RSA-2048 verify (17–30 µs) or a native P-256 verify (~60 µs).
 * The server already runs one process per core, so the pool adds no cores; it only keeps
 * long verifications from stalling every other request on the event loop. So a
 * verification goes to the pool when its estimated cost exceeds `inlineBudgetUs`
 * (default 250 µs: a stall the p99 target of 2 ms absorbs several times over) and
 * inline otherwise. `docs/authorizer.md` explains the policy with the measurements.
 */
import type { EngineName, PublicKeyInfo } from '../engine/types.js';

/** Where one verification runs. */
export type Placement = 'inline' | 'pool';

/**
 * Estimated µs for one signature check by the signer's key, per engine. From the
 * baselines table: native RSA-2048 17–33, RSA-3072 36, RSA-4096 64, P-256 58–62,
 * P-384 740–825, P-521 505, DSA-2048 215; wasm RSA 430–664, P-256 ~280–600,
 * P-384 1500–3000, others 10–30× native.
 */
export function signatureCostUs(engine: EngineName, key: PublicKeyInfo): number {
  const native = nativeCost(key);
  return engine === 'native' ? native : Math.max(native * 10, 450);
}

function nativeCost(key: PublicKeyInfo): number {
  switch (key.type) {
    case 'RSA':
      return key.bits <= 2048 ? 30 : key.bits <= 3072 ? 40 : 70;
    case 'EC':
      return key.bits <= 256 ? 65 : key.bits <= 384 ? 800 : 520;
    case 'DSA':
      return 220;
    default:
      return 1000;
  }
}

/**
 * Decide inline or pool for a chain with `signatures` checks, each by a key like
 * `signerKey`. Without a pool everything runs inline.
 */
export function placeVerification(
  engine: EngineName,
  signerKey: PublicKeyInfo,
  signatures: number,
  inlineBudgetUs: number,
  poolAvailable: boolean,
): Placement {
  if (!poolAvailable) return 'inline';
  return signatureCostUs(engine, signerKey) * signatures > inlineBudgetUs ? 'pool' : 'inline';
}
