/**
 * Where a chain verification runs: inline on the event loop, or on the piscina pool.
 *
 * The numbers (`bench/README.md`, 2 vCPU, Node 20):
 * handing one task to the pool costs 80–100 µs of latency and 30–38 µs of main-thread
 * CPU, more than a whole cold RSA-2048 (25–40 µs) or P-256 (45–65 µs) chain step.
 * The server already runs one process per core, so the pool adds no cores; it only keeps
 * long verifications from stalling every other request on the event loop. Measured
 * (`bench/authzPlacement.ts`: 4,000 warm req/s plus 300 cold P-384 req/s, 2 processes
 * on 2 cores) sending P-384 (~0.5 ms) to the pool made warm p99 worse (5.3–7.7 ms vs
 * 4.1–4.7 ms inline) and cold P-384 p99 worse (11–16 ms vs 5–6 ms): the hop and the
 * extra thread competing for the same two cores cost more than the stall. So a
 * verification goes to the pool only when its estimated cost exceeds `inlineBudgetUs`
 * (default {@link DEFAULT_INLINE_BUDGET_US}), which today means native DSA (~6 ms).
 * `docs/authorizer.md` explains the policy with the measurements.
 */
import type { EngineName, PublicKeyInfo } from '../engine/types.js';

/** Where one verification runs. */
export type Placement = 'inline' | 'pool';

/** Default inline budget (µs): above every measured chain step except native DSA. */
export const DEFAULT_INLINE_BUDGET_US = 1000;

/**
 * Estimated µs for one cold `verifyChain` step (parse both certificates, check one
 * signature by the signer's key), per engine, from `bench/README.md` "Cold verify":
 * native (ring, RustCrypto for P-521/DSA) RSA 25, P-256 45, P-384 486, P-521 425,
 * DSA 5935; wasm (signatures through node:crypto) RSA 39, P-256 64, P-384 430,
 * P-521 980, DSA 270. Larger RSA keys scale roughly with the modulus.
 */
export function signatureCostUs(engine: EngineName, key: PublicKeyInfo): number {
  const wasm = engine === 'wasm';
  switch (key.type) {
    case 'RSA': {
      const base = wasm ? 40 : 25;
      return key.bits <= 2048 ? base : key.bits <= 3072 ? base * 1.6 : base * 2.6;
    }
    case 'EC':
      if (key.bits <= 256) return wasm ? 65 : 45;
      if (key.bits <= 384) return wasm ? 430 : 490;
      return wasm ? 980 : 425;
    case 'DSA':
      return wasm ? 270 : 5935;
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
