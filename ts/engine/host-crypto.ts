/**
 * The wasm engine's signature arithmetic, done by the host. V8 runs big-number code
 * compiled to wasm 10–30× slower than native, while `node:crypto` hands it to OpenSSL;
 * so the wasm engine parses and decides, and calls this for each signature
 * (`crates/certgate-wasm/src/host.rs`). Returning `undefined` (or throwing) makes the
 * engine fall back to its built-in RustCrypto code.
 *
 * Parsing an SPKI into a KeyObject costs more than an RSA verify, and the same CA keys
 * sign every device certificate, so KeyObjects are cached by SPKI bytes (bounded).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';

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

/** Registered CAs per installation are few; 1024 keys bound memory for hostile input. */
export const MAX_CACHED_KEYS = 1024;
/** SPKI (base64) → its KeyObject; the least recently used dropped first. */
const keys = new LRUCache<string, KeyObject>({ max: MAX_CACHED_KEYS });

function keyFor(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  let key = keys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    keys.set(id, key);
  }
  return key;
}

/** The host verifier installed into the wasm engine with `setHostVerifier`. */
export function hostVerify(algorithm: string, spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean | undefined {
  const digest = DIGESTS[algorithm];
  if (digest === undefined) return undefined;
  try {
    return verify(digest, message, keyFor(spki), signature);
  } catch {
    // OpenSSL rejects some inputs the engine still wants judged (e.g. a key it cannot
    // load); the built-in code decides those.
    return undefined;
  }
}
