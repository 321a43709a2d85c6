import { describe, expect, it } from 'vitest';
import { readChain } from '../../ts/authz/chain.js';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { certificate, identity } from './pki.js';

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
