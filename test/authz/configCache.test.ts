import { describe, expect, it } from 'vitest';
import { ConfigCache } from '../../ts/authz/configCache.js';

describe('the configuration cache', () => {
  it('answers from memory for ttlMs, then loads again', () => {
    const cache = new ConfigCache<string>(1000);
    let loads = 0;
    const load = () => `v${++loads}`;
    expect(cache.get('k', 0, load)).toBe('v1');
    expect(cache.peek('k', 999)).toBe('v1');
    expect(cache.get('k', 999, load)).toBe('v1');
    expect(cache.peek('k', 1000)).toBeUndefined();
    expect(cache.get('k', 1000, load)).toBe('v2');
  });

  it('keeps at most `max` entries, dropping the least recently used', () => {
    const cache = new ConfigCache<string>(1000, 2);
    cache.get('a', 0, () => 'a');
    cache.get('b', 0, () => 'b');
    expect(cache.peek('a', 1)).toBe('a');
    cache.get('c', 0, () => 'c');
    expect(cache.size).toBe(2);
    expect(cache.peek('b', 1)).toBeUndefined();
    expect(cache.peek('a', 1)).toBe('a');
    expect(cache.peek('c', 1)).toBe('c');
  });

  it('with ttlMs 0 loads every time and keeps nothing', async () => {
    const cache = new ConfigCache<string>(0);
    let loads = 0;
    expect(await cache.get('k', 0, () => Promise.resolve(`v${++loads}`))).toBe('v1');
    expect(await cache.get('k', 0, () => Promise.resolve(`v${++loads}`))).toBe('v2');
    expect(cache.size).toBe(0);
  });

  it('rejects a negative or fractional TTL', () => {
    expect(() => new ConfigCache(-1)).toThrow(RangeError);
    expect(() => new ConfigCache(0.5)).toThrow(RangeError);
  });
});

describe('the configuration cache with a stamp (reads.ts configStamp)', () => {
  it('keeps an entry past its TTL while the stamp is the one taken before its load, for one more TTL each time', () => {
    let stamp = 7;
    const cache = new ConfigCache<string>(1000, undefined, { generation: () => 0, stamp: () => stamp });
    let loads = 0;
    const load = () => `v${++loads}`;
    expect(cache.get('k', 0, load)).toBe('v1');
    expect(cache.peek('k', 5000)).toBe('v1');
    expect(cache.get('k', 9000, load)).toBe('v1');
    expect(loads).toBe(1);
    // Something changed: past the TTL the entry is read again; within it, kept as without a stamp.
    stamp = 8;
    expect(cache.peek('k', 9999)).toBe('v1');
    expect(cache.peek('k', 10_000)).toBeUndefined();
    expect(cache.get('k', 10_000, load)).toBe('v2');
    expect(cache.peek('k', 60_000)).toBe('v2');
  });

  it('takes the stamp before the load, so a change during the load is not vouched for', () => {
    let stamp = 1;
    const cache = new ConfigCache<string>(1000, undefined, { generation: () => 0, stamp: () => stamp });
    cache.get('k', 0, () => {
      stamp = 2;
      return 'raced';
    });
    expect(cache.peek('k', 999)).toBe('raced');
    expect(cache.peek('k', 1000)).toBeUndefined();
  });

  it('drops an entry of another generation whatever its stamp, and keeps nothing with ttlMs 0', () => {
    let generation = 0;
    const cache = new ConfigCache<string>(1000, undefined, { generation: () => generation, stamp: () => 1 });
    cache.get('k', 0, () => 'v');
    generation = 1;
    expect(cache.peek('k', 1)).toBeUndefined();
    expect(cache.peek('k', 5000)).toBeUndefined();
    const off = new ConfigCache<string>(0, undefined, { generation: () => 0, stamp: () => 1 });
    let loads = 0;
    off.get('k', 0, () => `v${++loads}`);
    expect(off.get('k', 0, () => `v${++loads}`)).toBe('v2');
  });
});
