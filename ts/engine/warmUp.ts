/**
 * One chain verified when a server process starts, before it listens: the engine's code
 * for a common decision (parse a P-256 leaf and CA, check the signature, hash the path)
 * is compiled then rather than inside the first device's decision. With the wasm engine
 * under `--no-liftoff` (ts/server/v8Flags.ts `serverV8Flags`) that first call compiles every
 * function it reaches with V8's optimising compiler: ~70 ms, against ~4 ms with V8's
 * default and ~0.2 ms once compiled (measured on the 2-core machine of bench/README.md).
 * It doubles as a self-test: an engine that cannot verify a good chain stops the
 * process before it answers anyone.
 *
 * The chain is a fixed P-256 CA and a device certificate it issued (valid 2020–2099),
 * verified at a fixed instant inside that validity; it is not a credential of anything.
 */
import type { Engine } from './types.js';

const CA =
  'MIIBkTCCATegAwIBAgICA+gwCgYIKoZIzj0EAwIwPjEXMBUGA1UECgwOY2VydGdhdGUgdGVzdHMxIzAhBgNVBAMMGmNlcnRnYXRlIGVuZ2luZSB3YXJtLXVwIENBMCAXDTIwMDEwMTAwMDAwMFoYDzIwOTkxMjMxMjM1OTU5WjA+MRcwFQYDVQQKDA5jZXJ0Z2F0ZSB0ZXN0czEjMCEGA1UEAwwaY2VydGdhdGUgZW5naW5lIHdhcm0tdXAgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASava9yw1bAErRUil51zLugupEfZVO6yC9M+V0dK7FbZ/lloDfr7hiW3pFkEGc1TcBBNOHJtfE4w4Wy8nPoc3JwoyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiEAzvY/8a13+XeWJ5y2hXo9ugO5oPKGvtQW3deT1UZhLm0CIEtunmWbwcYsICV7uQOvpr2tWr6WhPy8VvNbCPVRtMe5';
const LEAF =
  'MIIBpzCCAU2gAwIBAgICA+kwCgYIKoZIzj0EAwIwPjEXMBUGA1UECgwOY2VydGdhdGUgdGVzdHMxIzAhBgNVBAMMGmNlcnRnYXRlIGVuZ2luZSB3YXJtLXVwIENBMCAXDTIwMDEwMTAwMDAwMFoYDzIwOTkxMjMxMjM1OTU5WjBCMRcwFQYDVQQKDA5jZXJ0Z2F0ZSB0ZXN0czEnMCUGA1UEAwweY2VydGdhdGUgZW5naW5lIHdhcm0tdXAgZGV2aWNlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmr2vcsNWwBK0VIpedcy7oLqRH2VTusgvTPldHSuxW2f5ZaA36+4Ylt6RZBBnNU3AQTThybXxOMOFsvJz6HNycKM1MDMwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUHAwIwCgYIKoZIzj0EAwIDSAAwRQIgHeMkGj7PQ5hgxv7BsUhNXsVQ/0CWUvgzvwJJ1zaJoFgCIQCUI1pbYvaxcVp4kuh0aFMpjwSZHzI5eQplHMH9I9Znmw==';
/** 2030-06-01T00:00:00Z, inside both certificates' validity. */
const AT = 1_906_934_400;
/** The leaf's certificateId (SHA-256 of its DER), which the engine must report. */
const LEAF_ID = '950b933312451f0d1db11024abe079019a2544a601e2b2f373098ef4b155fe0a';

/** Verify the fixed chain with `engine`; throws if the engine does not accept it as it must. */
export function warmUpEngine(engine: Engine): void {
  const verified = engine.verifyChain(Buffer.from(LEAF, 'base64'), [], [Buffer.from(CA, 'base64')], AT, 'client');
  if (!verified.ok || verified.leafCertificateId !== LEAF_ID) {
    const why = verified.ok ? `leaf id ${verified.leafCertificateId}` : `${verified.code}: ${verified.message}`;
    throw new Error(`the ${engine.name} engine failed its start-up check (a known good chain: ${why})`);
  }
}
