import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../ts/fastpath/boundedMap.js';

describe('BoundedMap (ts/fastpath/boundedMap.ts)', () => {
  it('drops the oldest-inserted entry when a new key passes max, never for a known key', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    m.set('a', 10);
    expect([...m]).toEqual([['a', 10], ['b', 2]]);
    m.set('c', 3);
    expect([...m]).toEqual([['b', 2], ['c', 3]]);
  });

  it('keeps nothing at max 0 and refuses a negative or fractional max', () => {
    const off = new BoundedMap<string, number>(0);
    off.set('a', 1);
    expect(off.size).toBe(0);
    expect(() => new BoundedMap(-1)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(RangeError);
  });
});
