/**
 * The wasm engine's signature arithmetic, done by the host. V8 runs big-number code
 * compiled to wasm 10–30× slower than native, while `node:crypto` hands it to OpenSSL;
 * so the wasm engine parses and decides, and calls this for each signature
 * (`crates/certgate-wasm/src/host.rs`). Answering anything but valid/invalid (or
 * throwing) makes the engine fall back to its built-in RustCrypto code.
 *
 * Parsing an SPKI into a KeyObject costs more than an RSA verify, and the same CA keys
 * sign every device certificate, so KeyObjects are kept per key slot: the engine numbers
 * the keys it has seen (by exact bytes, at most `KEY_SLOTS` of them, the least recently
 * used slot reused) and sends a key's SPKI only when it gives a slot a new key.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** node:crypto digest names per AWS algorithm name; DSA and ECDSA signatures are DER. */
const DIGESTS: Record<string, string> = {
  SHA256WITHRSA: 'sha256',
  SHA384WITHRSA: 'sha384',
  SHA512WITHRSA: 'sha512',
  DSA_WITH_SHA256: 'sha256',
  'ECDSA-WITH-SHA256': 'sha256',
  'ECDSA-WITH-SHA384': 'sha384',
  'ECDSA-WITH-SHA512': 'sha512',
};

/** What `verify` answers: valid, invalid, or "decide yourself" (the engine's own code). */
export const VALID = 1;
export const INVALID = 0;
export const CANNOT_ANSWER = 2;
export type HostAnswer = typeof VALID | typeof INVALID | typeof CANNOT_ANSWER;

/** The object installed into the wasm engine with `setHostVerifier`. */
export interface HostVerifier {
  /**
   * `algorithm` indexes the engine's `hostAlgorithms()`; `spki` is empty unless the
   * engine has just given `slot` a new key. The byte arguments are views of the engine's
   * memory, valid only during the call.
   */
  verify(algorithm: number, slot: number, spki: Uint8Array, message: Uint8Array, signature: Uint8Array): HostAnswer;
}

/** A host verifier for an engine whose algorithm indexes name `algorithms` (its `hostAlgorithms()`). */
export function createHostVerifier(algorithms: readonly string[]): HostVerifier {
  const digests = algorithms.map((name) => DIGESTS[name]);
  /** Per slot its KeyObject; null when OpenSSL could not load the key. */
  const keys: (KeyObject | null | undefined)[] = [];
  return {
    verify(algorithm, slot, spki, message, signature) {
      if (spki.length > 0) keys[slot] = loadKey(spki);
      const key = keys[slot];
      const digest = digests[algorithm];
      if (key == null || digest === undefined) return CANNOT_ANSWER;
      try {
        return verify(digest, message, key, signature) ? VALID : INVALID;
      } catch {
        // OpenSSL rejects some inputs the engine still wants judged; the built-in code decides those.
        return CANNOT_ANSWER;
      }
    },
  };
}

function loadKey(spki: Uint8Array): KeyObject | null {
  try {
    // Buffer.from copies: the view into the engine's memory lives only during the call.
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}
