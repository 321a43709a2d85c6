import { describe, expect, it } from 'vitest';
import { ChainMemo, pemToDers, readChain } from '../../ts/authz/chain.js';
import { PROBE_CHARS } from '../../ts/fastpath/textMemo.js';
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
    expect(readChain([leaf.pem.repeat(3)], { ...DEFAULT_LIMITS, maxChainLength: 2 })).toMatchObject({
      ok: false,
      reason: 'CHAIN_TOO_LONG',
    });
    expect(readChain([leaf.der], { ...DEFAULT_LIMITS, maxCertificateBytes: leaf.der.length - 1 })).toMatchObject({
      ok: false,
      reason: 'CERTIFICATE_TOO_LARGE',
    });
  });
});

const leafId = (r: ReturnType<ChainMemo['read']>) => (r.ok ? r.chain.leafId : r.reason);

/** Read `parts` and remember the chain, as the decision does with a chain it met before (rules.ts decodeChain). */
function remembered(memo: ChainMemo, parts: string[]) {
  const read = memo.read(parts);
  if (read.ok) memo.remember(parts, read.chain);
  return read;
}

describe('the decoded-chain memo', () => {
  const ca = certificate({ subject: identity('ca'), ca: true });
  const leafA = certificate({ subject: identity('leaf-a'), issuer: identity('ca') });
  const leafB = certificate({ subject: identity('leaf-b'), issuer: identity('ca') });

  it('remembers a text only when told, then answers it with one result; refusals afresh', () => {
    const memo = new ChainMemo(DEFAULT_LIMITS, 8, 8192);
    const first = memo.read([leafA.pem]);
    // Reading alone remembers nothing: a device met once costs the memo nothing.
    expect(memo.read([leafA.pem])).not.toBe(memo.read([leafA.pem]));
    if (!first.ok) throw new Error('expected the leaf to decode');
    memo.remember([leafA.pem], first.chain);
    const second = memo.read([leafA.pem]);
    expect(memo.read([leafA.pem])).toBe(second);
    expect(second).not.toBe(first);
    expect(leafId(first)).toBe(leafA.id);
    expect(leafId(second)).toBe(leafA.id);
    expect(memo.read(['not a certificate'])).toMatchObject({ ok: false, reason: 'MALFORMED_CERTIFICATE' });
    expect(memo.read(['not a certificate'])).toMatchObject({ ok: false, reason: 'MALFORMED_CERTIFICATE' });
  });

  it('decodes a remembered chain to the same DER as its first read, intermediates included', () => {
    const memo = new ChainMemo(DEFAULT_LIMITS, 8, 8192);
    const text = leafA.pem + ca.pem;
    const first = remembered(memo, [text]);
    const again = memo.read([text]);
    if (!first.ok || !again.ok) throw new Error('expected both reads to decode');
    expect(again).not.toBe(first);
    expect(again.chain.key).toBe(first.chain.key);
    expect(again.chain.leafId).toBe(first.chain.leafId);
    expect(Buffer.compare(again.chain.leaf, first.chain.leaf)).toBe(0);
    expect(again.chain.intermediates.map((d) => d.toString('hex'))).toEqual(first.chain.intermediates.map((d) => d.toString('hex')));
    expect(again.chain.intermediates).toHaveLength(1);
  });

  it('never mistakes one text for another that ends the same way and has the same length', () => {
    // Same length (text before the first block is ignored, so it pads), same last
    // PROBE_CHARS characters (the shared CA block), different leaf.
    const width = Math.max(leafA.pem.length, leafB.pem.length) + 1;
    const one = `${'#'.repeat(width - leafA.pem.length)}${leafA.pem}${ca.pem}`;
    const other = `${'#'.repeat(width - leafB.pem.length)}${leafB.pem}${ca.pem}`;
    expect(one.length).toBe(other.length);
    expect(one.slice(-PROBE_CHARS)).toBe(other.slice(-PROBE_CHARS));
    const memo = new ChainMemo(DEFAULT_LIMITS, 8, 8192);
    for (let round = 0; round < 3; round++) {
      expect(leafId(remembered(memo, [one]))).toBe(leafA.id);
      expect(leafId(remembered(memo, [other]))).toBe(leafB.id);
    }
  });

  it('keeps at most its bound and decodes texts over the size limit every time', () => {
    // ECDSA signatures vary in length: the limit must admit both leaves.
    const memo = new ChainMemo(DEFAULT_LIMITS, 1, Math.max(leafA.pem.length, leafB.pem.length));
    remembered(memo, [leafA.pem]);
    const a = memo.read([leafA.pem]);
    expect(memo.read([leafA.pem])).toBe(a);
    remembered(memo, [leafB.pem]);
    expect(memo.read([leafA.pem])).not.toBe(a);
    const long = remembered(memo, [leafA.pem + ca.pem]);
    const longAgain = remembered(memo, [leafA.pem + ca.pem]);
    expect(longAgain).not.toBe(long);
    expect(memo.read([leafA.pem + ca.pem])).not.toBe(longAgain);
  });
});
