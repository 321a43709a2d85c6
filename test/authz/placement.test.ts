import { describe, expect, it } from 'vitest';
import { placeVerification } from '../../ts/authz/placement.js';

const RSA2048 = { type: 'RSA', bits: 2048 } as const;
const P256 = { type: 'EC', bits: 256, curve: 'P-256' } as const;
const P384 = { type: 'EC', bits: 384, curve: 'P-384' } as const;
const P521 = { type: 'EC', bits: 521, curve: 'P-521' } as const;
const DSA = { type: 'DSA', bits: 2048 } as const;

describe('inline versus pool placement (default budget 250 µs)', () => {
  it('keeps native RSA and P-256 chains inline: a pool hop costs more than the work', () => {
    expect(placeVerification('native', RSA2048, 1, 250, true)).toBe('inline');
    expect(placeVerification('native', P256, 2, 250, true)).toBe('inline');
  });

  it('sends native P-384, P-521 and DSA verifications to the pool', () => {
    expect(placeVerification('native', P384, 1, 250, true)).toBe('pool');
    expect(placeVerification('native', P521, 1, 250, true)).toBe('pool');
    expect(placeVerification('native', DSA, 1, 250, true)).toBe('pool');
  });

  it('keeps wasm RSA and P-256 inline (signatures go through node:crypto) and sends P-384 to the pool', () => {
    expect(placeVerification('wasm', RSA2048, 1, 250, true)).toBe('inline');
    expect(placeVerification('wasm', P256, 1, 250, true)).toBe('inline');
    expect(placeVerification('wasm', P384, 1, 250, true)).toBe('pool');
  });

  it('counts every signature on the path against the budget', () => {
    expect(placeVerification('native', RSA2048, 12, 250, true)).toBe('pool');
  });

  it('runs everything inline without a pool, and everything on the pool with budget 0', () => {
    expect(placeVerification('native', DSA, 1, 250, false)).toBe('inline');
    expect(placeVerification('native', RSA2048, 1, 0, true)).toBe('pool');
  });
});
