import { describe, expect, it } from 'vitest';
import { DEFAULT_INLINE_BUDGET_US, placeVerification } from '../../ts/authz/placement.js';

const RSA2048 = { type: 'RSA', bits: 2048 } as const;
const P256 = { type: 'EC', bits: 256, curve: 'P-256' } as const;
const P384 = { type: 'EC', bits: 384, curve: 'P-384' } as const;
const P521 = { type: 'EC', bits: 521, curve: 'P-521' } as const;
const DSA = { type: 'DSA', bits: 2048 } as const;

const B = DEFAULT_INLINE_BUDGET_US;

describe('inline versus pool placement with the default budget', () => {
  it('keeps RSA, P-256, P-384 and P-521 chain steps inline: measured, a pool hop costs more than the stall', () => {
    for (const key of [RSA2048, P256, P384, P521]) expect(placeVerification('native', key, 1, B, true)).toBe('inline');
    for (const key of [RSA2048, P256, P384, P521, DSA]) expect(placeVerification('wasm', key, 1, B, true)).toBe('inline');
  });

  it('sends native DSA (~6 ms per signature) to the pool', () => {
    expect(placeVerification('native', DSA, 1, B, true)).toBe('pool');
  });

  it('counts every signature on the path against the budget', () => {
    expect(placeVerification('native', P384, 3, B, true)).toBe('pool');
    expect(placeVerification('native', P384, 1, 250, true)).toBe('pool');
  });

  it('runs everything inline without a pool, and everything on the pool with budget 0', () => {
    expect(placeVerification('native', DSA, 1, B, false)).toBe('inline');
    expect(placeVerification('native', RSA2048, 1, 0, true)).toBe('pool');
  });
});
