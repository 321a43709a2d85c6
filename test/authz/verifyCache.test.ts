import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Doorkeeper } from '../../ts/authz/doorkeeper.js';
import { PerAnchor, VerifyCache } from '../../ts/authz/verifyCache.js';
import { loadEngine } from '../../ts/engine/load.js';
import type { CertificateInfo } from '../../ts/engine/types.js';
import { certificate, identity } from './pki.js';

const parsed = loadEngine('native').inspect(certificate({ subject: identity('cached') }).der);
if (!parsed.ok) throw new Error(parsed.message);
/** A real parsed leaf with its notAfter moved to `notAfter`. */
const info = (notAfter: number): CertificateInfo => ({ ...parsed, notAfter });

/** Remember `key` (as the decision does: kept if admitted) with a parsed leaf expiring at `notAfter`. */
function rememberLeaf(cache: VerifyCache, key: string, notAfter: number) {
  const entry = cache.remember(key, parsed.ok ? parsed.certificateId : '', cache.admits(key));
  cache.setLeaf(entry, info(notAfter));
  return entry;
}

/** A verification-cache key as the decision makes them: lowercase hex SHA-256. */
const hexKey = (s: string) => createHash('sha256').update(s).digest('hex');

describe('the verification cache', () => {
  it('keeps a chain from its second sight on (doorkeeper), the decision filling the entry either way', () => {
    const cache = new VerifyCache(10);
    const key = hexKey('chain');
    expect(cache.admits(key)).toBe(false);
    const first = cache.remember(key, 'id', false);
    expect(first.certificateId).toBe('id');
    expect(cache.get(key, 0)).toBeUndefined();
    expect(cache.admits(key)).toBe(true);
    const second = cache.remember(key, 'id', true);
    expect(cache.get(key, 0)).toBe(second);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('admits at once with admitOnFirstSight, and never when disabled', () => {
    expect(new VerifyCache(10, { admitOnFirstSight: true }).admits(hexKey('a'))).toBe(true);
    const off = new VerifyCache(0);
    expect([off.admits(hexKey('a')), off.admits(hexKey('a'))]).toEqual([false, false]);
  });

  it('returns a remembered chain until the leaf notAfter, then forgets it', () => {
    const cache = new VerifyCache(10, { admitOnFirstSight: true });
    rememberLeaf(cache, 'k', 100);
    expect(cache.get('k', 100)).toBeDefined();
    expect(cache.get('k', 101)).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 0 });
  });

  it('evicts the least recently used chain when full', () => {
    const cache = new VerifyCache(2, { admitOnFirstSight: true });
    rememberLeaf(cache, 'a', 100);
    rememberLeaf(cache, 'b', 100);
    cache.get('a', 0);
    rememberLeaf(cache, 'c', 100);
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('a', 0)).toBeDefined();
    expect(cache.get('c', 0)).toBeDefined();
  });

  it('bounds a CA verification by the earlier of the path notAfter and the leaf notAfter', () => {
    const cache = new VerifyCache(2);
    const entry = rememberLeaf(cache, 'a', 100);
    cache.markVerified(entry, 'ca', 50);
    expect(cache.isVerified(entry, 'ca', 50)).toBe(true);
    expect(cache.isVerified(entry, 'ca', 51)).toBe(false);
    expect(cache.isVerified(entry, 'other-ca', 10)).toBe(false);
    cache.markVerified(entry, 'ca2', 500);
    expect(cache.isVerified(entry, 'ca2', 101)).toBe(false);
  });

  it('keeps an entry whose leaf was never parsed until evicted, its verifications until their notAfter', () => {
    const cache = new VerifyCache(2);
    const entry = cache.remember('a', 'id', true);
    cache.markVerified(entry, 'ca', 50);
    expect(cache.get('a', 1_000_000)).toBe(entry);
    expect(cache.isVerified(entry, 'ca', 51)).toBe(false);
  });

  it('with size 0 stores nothing and always misses', () => {
    const cache = new VerifyCache(0);
    rememberLeaf(cache, 'a', 100);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.stats().size).toBe(0);
  });

  it('rejects a negative or fractional size', () => {
    expect(() => new VerifyCache(-1)).toThrow(RangeError);
    expect(() => new VerifyCache(1.5)).toThrow(RangeError);
  });

  it('keeps each CA verification apart, for a second and third CA as for the first (PerAnchor)', () => {
    const cache = new VerifyCache(10);
    const entry = rememberLeaf(cache, 'chain', 2_000);
    cache.markVerified(entry, 'ca-a', 1_500);
    cache.markVerified(entry, 'ca-b', 1_800);
    cache.markVerified(entry, 'ca-c', 1_200);
    expect(cache.isVerified(entry, 'ca-a', 1_500)).toBe(true);
    expect(cache.isVerified(entry, 'ca-a', 1_501)).toBe(false);
    expect(cache.isVerified(entry, 'ca-b', 1_800)).toBe(true);
    expect(cache.isVerified(entry, 'ca-c', 1_201)).toBe(false);
    expect(cache.isVerified(entry, 'ca-d', 0)).toBe(false);
    const links = new PerAnchor<number>();
    expect(links.has('x')).toBe(false);
    links.set('x', 1);
    links.set('y', 2);
    links.set('x', 3);
    expect([links.get('x'), links.get('y'), links.get('z'), links.has('y'), links.has('z')]).toEqual([3, 2, undefined, true, false]);
  });
});

describe('the doorkeeper', () => {
  it('admits a key on its second sight, per slot; a colliding key takes the slot over', () => {
    const door = new Doorkeeper(3);
    expect(door.slots).toBe(4);
    const a = hexKey('a');
    expect([door.admit(a), door.admit(a), door.admit(a)]).toEqual([false, true, true]);
    // Same slot (first 8 hex digits, masked), another tag: the newcomer evicts a.
    const b = `${a.slice(0, 8)}${'f'.repeat(56)}`;
    expect([door.admit(b), door.admit(a), door.admit(a)]).toEqual([false, false, true]);
  });

  it('with 0 slots admits everything; rejects a negative or fractional size', () => {
    expect(new Doorkeeper(0).admit('x')).toBe(true);
    expect(() => new Doorkeeper(-1)).toThrow(RangeError);
    expect(() => new Doorkeeper(0.5)).toThrow(RangeError);
  });
});
