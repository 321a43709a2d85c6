/**
 * The batch issuance calls (`generateKeys`, `issueCertificates`), one contract run
 * against both engines: key pairs OpenSSL accepts, certificates OpenSSL verifies under
 * the CA, the same bytes as `issueCertificate` one at a time (ECDSA here is RFC 6979
 * deterministic), and every refusal named by its entry.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../ts/engine/load.js';
import { ENGINE_NAMES, type EcKeyType, type Engine, type GeneratedKey } from '../../ts/engine/types.js';

const NOW = 1_780_000_000;
const CURVES: [EcKeyType, number, string][] = [
  ['p256', 32, 'prime256v1'],
  ['p384', 48, 'secp384r1'],
  ['p521', 66, 'secp521r1'],
];

/** Distinct in-range secrets without randomness, so a failure replays. */
function secret(len: number, i: number): Buffer {
  const s = Buffer.alloc(len, 0x11);
  s[0] = 0; // below every group order, P-521's included
  s.writeUInt32BE(i + 1, len - 4);
  return s;
}

function serial(i: number): Buffer {
  const s = Buffer.alloc(20, 0x22);
  s.writeUInt32BE(i + 1, 16);
  return s;
}

function keysOf(engine: Engine, type: EcKeyType, count: number, len: number): GeneratedKey[] {
  const out = engine.generateKeys(
    type,
    Array.from({ length: count }, (_, i) => secret(len, i)),
  );
  if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
  return out.keys;
}

function caOf(engine: Engine): { certificatePem: string; privateKeyPem: string } {
  const [key] = keysOf(engine, 'p256', 1, 32);
  const ca = engine.createIssuingCa(Buffer.from(key?.privateKeyPem ?? ''), 'CN=batch test CA', serial(99), NOW - 10, NOW + 86_400);
  if (!ca.ok) throw new Error(`${ca.code}: ${ca.message}`);
  return { certificatePem: ca.certificatePem, privateKeyPem: key?.privateKeyPem ?? '' };
}

describe.each(ENGINE_NAMES)('the %s engine batch calls', (name) => {
  const engine = loadEngine(name);

  it.each(CURVES)('generateKeys %s: PKCS#8 and SPKI that OpenSSL reads, the public key matching the private one', (type, len, curve) => {
    const keys = keysOf(engine, type, 3, len);
    expect(keys).toHaveLength(3);
    for (const k of keys) {
      const priv = createPrivateKey(k.privateKeyPem);
      expect(priv.asymmetricKeyDetails?.namedCurve).toBe(curve);
      expect(createPublicKey(priv).export({ type: 'spki', format: 'pem' })).toBe(k.publicKeyPem);
    }
    expect(new Set(keys.map((k) => k.publicKeyPem)).size).toBe(3);
    // Deterministic: the same secret gives the same key.
    expect(keysOf(engine, type, 1, len)[0]).toEqual(keys[0]);
  });

  it('generateKeys refuses a secret outside [1, n-1], of the wrong length, or an unknown key type, naming the entry', () => {
    const good = secret(32, 0);
    expect(engine.generateKeys('p256', [good, Buffer.alloc(32, 0xff)])).toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^entry 2: /),
    });
    expect(engine.generateKeys('p256', [Buffer.alloc(32, 0)])).toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^entry 1: /),
    });
    expect(engine.generateKeys('p384', [good])).toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('48 bytes'),
    });
    expect(engine.generateKeys('rsa2048' as EcKeyType, [good])).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
  });

  it('issueCertificates issues what issueCertificate issues, in order, each verifying under the CA', () => {
    const ca = caOf(engine);
    const caX509 = new X509Certificate(ca.certificatePem);
    const keys = keysOf(engine, 'p384', 4, 48);
    const pubs = keys.map((k) => Buffer.from(k.publicKeyPem));
    const batch = engine.issueCertificates(
      pubs,
      Buffer.from(ca.certificatePem),
      Buffer.from(ca.privateKeyPem),
      pubs.map((_, i) => serial(i)),
      NOW,
    );
    if (!batch.ok) throw new Error(`${batch.code}: ${batch.message}`);
    expect(batch.certificates).toHaveLength(4);
    batch.certificates.forEach((c, i) => {
      const one = engine.issueCertificate(pubs[i] as Buffer, Buffer.from(ca.certificatePem), Buffer.from(ca.privateKeyPem), serial(i), NOW);
      expect({ ok: true, ...c }).toEqual(one);
      const x = new X509Certificate(c.certificatePem);
      expect(x.verify(caX509.publicKey)).toBe(true);
      expect(x.publicKey.export({ type: 'spki', format: 'pem' })).toBe(keys[i]?.publicKeyPem);
      expect(x.issuer).toBe(caX509.subject);
    });
  });

  it('issueCertificates refuses the batch at the first bad entry, a serial count mismatch, a foreign CA key, and more than 10,000 entries', () => {
    const ca = caOf(engine);
    const key = keysOf(engine, 'p256', 2, 32)[1]; // not the CA's key (entry 1)
    const pub = Buffer.from(key?.publicKeyPem ?? '');
    const caPem = Buffer.from(ca.certificatePem);
    const caKey = Buffer.from(ca.privateKeyPem);
    expect(engine.issueCertificates([pub, Buffer.from('not a key')], caPem, caKey, [serial(0), serial(1)], NOW)).toMatchObject({
      ok: false,
      code: 'BAD_KEY',
      message: expect.stringMatching(/^entry 2: /),
    });
    expect(engine.issueCertificates([pub, pub], caPem, caKey, [serial(0), Buffer.alloc(20)], NOW)).toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^entry 2: /),
    });
    expect(engine.issueCertificates([pub, pub], caPem, caKey, [serial(0)], NOW)).toMatchObject({
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('2 public keys but 1 serials'),
    });
    expect(engine.issueCertificates([pub], caPem, Buffer.from(key?.privateKeyPem ?? ''), [serial(0)], NOW)).toMatchObject({
      ok: false,
      code: 'BAD_KEY',
    });
    const many = Array.from({ length: 10_001 }, () => pub);
    expect(
      engine.issueCertificates(
        many,
        caPem,
        caKey,
        many.map((_, i) => serial(i)),
        NOW,
      ),
    ).toMatchObject({ ok: false, code: 'TOO_MANY_CERTIFICATES' });
    expect(
      engine.generateKeys(
        'p256',
        Array.from({ length: 10_001 }, (_, i) => secret(32, i)),
      ),
    ).toMatchObject({ ok: false, code: 'TOO_MANY_CERTIFICATES' });
  });
});

describe('the native and wasm engines', () => {
  it('make the same keys and certificates from the same inputs', () => {
    const [native, wasm] = [loadEngine('native'), loadEngine('wasm')];
    expect(keysOf(wasm, 'p521', 2, 66)).toEqual(keysOf(native, 'p521', 2, 66));
    const ca = caOf(native);
    const pubs = keysOf(native, 'p256', 3, 32).map((k) => Buffer.from(k.publicKeyPem));
    const args = [pubs, Buffer.from(ca.certificatePem), Buffer.from(ca.privateKeyPem), pubs.map((_, i) => serial(i)), NOW] as const;
    expect(wasm.issueCertificates(...args)).toEqual(native.issueCertificates(...args));
  });
});
