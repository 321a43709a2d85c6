import { describe, expect, it } from 'vitest';
import { pemToDers, readChain } from '../../ts/authz/chain.js';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { certificate, identity } from './pki.js';

/** pemToDers' answer as 'none', 'bad' or the DER hex of each block. */
function ours(text: string): string | string[] {
  const r = pemToDers(text);
  return typeof r === 'string' ? (r.startsWith('no ') ? 'none' : 'bad') : r.map((d) => d.toString('hex'));
}

describe('reading a presented chain', () => {
  const leaf = certificate({ subject: identity('leaf') });
  const ca = certificate({ subject: identity('ca'), ca: true });

  it('splits a PEM bundle into leaf and intermediates and hashes the whole chain', () => {
    const r = readChain([leaf.pem + ca.pem], DEFAULT_LIMITS);
    if (!r.ok) throw new Error(r.message);
    expect(r.chain.leaf).toEqual(leaf.der);
    expect(r.chain.intermediates).toEqual([ca.der]);
    const alone = readChain([leaf.pem], DEFAULT_LIMITS);
    expect(alone.ok && alone.chain.key).not.toBe(r.chain.key);
  });

  it('finds PEM blocks exactly where the pattern BEGIN([^-]*)END does', () => {
    const pattern = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;
    const reference = (text: string) => {
      const bodies = [...text.matchAll(pattern)].map((m) => m[1] ?? '');
      if (bodies.length === 0) return 'none';
      return bodies.some((b) => !/^[A-Za-z0-9+/=\s]*$/.test(b)) ? 'bad' : bodies.map((b) => Buffer.from(b, 'base64').toString('hex'));
    };
    const begin = '-----BEGIN CERTIFICATE-----';
    for (const text of [
      leaf.pem + ca.pem,
      `junk ${begin} not-a-body ${leaf.pem}`,
      `${begin}${begin}${leaf.pem}`,
      `${begin}QUJD-----END CERTIFICATE--`,
      `${begin}QUJD-----END CERTIFICATE----- trailing ${begin}`,
      `${begin}QU JD\n-----END CERTIFICATE-----`,
      `${begin}Q!JD-----END CERTIFICATE-----`,
      '-----BEGIN PRIVATE KEY-----QUJD-----END PRIVATE KEY-----',
      '',
    ]) {
      expect(ours(text)).toEqual(reference(text));
    }
  });

  it('gives PEM and DER of the same chain the same key', () => {
    const a = readChain([leaf.pem, ca.pem], DEFAULT_LIMITS);
    const b = readChain([leaf.der, ca.der], DEFAULT_LIMITS);
    expect(a.ok && b.ok && a.chain.key === b.chain.key).toBe(true);
  });

  it('names each refusal: nothing, no PEM block, bad base64, too many, too big', () => {
    expect(readChain([], DEFAULT_LIMITS)).toMatchObject({ ok: false, reason: 'NO_CERTIFICATE' });
    expect(readChain(['hello'], DEFAULT_LIMITS)).toMatchObject({ ok: false, reason: 'MALFORMED_CERTIFICATE' });
    expect(readChain(['-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----'], DEFAULT_LIMITS)).toMatchObject({
      ok: false,
      reason: 'MALFORMED_CERTIFICATE',
    });
    expect(readChain([leaf.pem.repeat(3)], { ...DEFAULT_LIMITS, maxChainLength: 2 })).toMatchObject({ ok: false, reason: 'CHAIN_TOO_LONG' });
    expect(readChain([leaf.der], { ...DEFAULT_LIMITS, maxCertificateBytes: leaf.der.length - 1 })).toMatchObject({
      ok: false,
      reason: 'CERTIFICATE_TOO_LARGE',
    });
  });
});
