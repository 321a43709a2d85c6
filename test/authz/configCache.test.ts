import { describe, expect, it } from 'vitest';
import { ConfigCache } from '../../ts/authz/configCache.js';

/** A load that answers when the test says. */
function later<T>() {
  let settle!: { resolve: (value: T) => void; reject: (err: Error) => void };
  const promise = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  return { promise, ...settle };
}

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

  it('with ttlMs 0 loads every time, also for concurrent gets, and serves nothing it keeps (only `last` sees it)', async () => {
    const cache = new ConfigCache<string>(0);
    let loads = 0;
    const load = () => Promise.resolve(`v${++loads}`);
    expect(await Promise.all([cache.get('k', 0, load), cache.get('k', 0, load)])).toEqual(['v1', 'v2']);
    expect(await cache.get('k', 0, load)).toBe('v3');
    expect(cache.peek('k', 0)).toBeUndefined();
    expect(cache.last('k')).toBe('v3');
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

describe('the configuration cache with loads that answer later (PostgreSQL)', () => {
  it('shares one load among concurrent gets of one key, and remembers its value', async () => {
    const cache = new ConfigCache<string>(1000);
    const pending = later<string>();
    let loads = 0;
    const load = () => (loads++, pending.promise);
    const first = cache.get('k', 0, load);
    const second = cache.get('k', 10, load);
    expect(cache.get('other', 10, () => 'o')).toBe('o');
    expect(loads).toBe(1);
    pending.resolve('v');
    expect(await Promise.all([first, second])).toEqual(['v', 'v']);
    expect(cache.peek('k', 999)).toBe('v');
    expect(cache.get('k', 1000, () => 'v2')).toBe('v2');
  });

  it('does not share a load whose answer would no longer be fresh at the caller’s time', async () => {
    const cache = new ConfigCache<string>(1000);
    const slow = later<string>();
    const first = cache.get('k', 0, () => slow.promise);
    // Started 1000 ms before this caller: as a cache entry it would be stale now.
    const second = cache.get('k', 1000, () => Promise.resolve('read again'));
    slow.resolve('old');
    expect(await second).toBe('read again');
    expect(await first).toBe('old');
  });

  it('does not remember a failed load: every sharer fails, and the next get loads again', async () => {
    const cache = new ConfigCache<string>(1000);
    const failing = later<string>();
    const first = cache.get('k', 0, () => failing.promise);
    const second = cache.get('k', 1, () => Promise.resolve('not called'));
    failing.reject(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await expect(second).rejects.toThrow('connection lost');
    expect(cache.peek('k', 2)).toBeUndefined();
    expect(cache.last('k')).toBeUndefined();
    expect(await cache.get('k', 2, () => Promise.resolve('v'))).toBe('v');
  });

  it('after a generation change neither shares nor stores a load started before it, which does not displace the newer entry', async () => {
    let generation = 0;
    const cache = new ConfigCache<string>(1000, undefined, { generation: () => generation });
    const before = later<string>();
    const raced = cache.get('k', 0, () => before.promise);
    // A fleet view applied a change while the load was in flight.
    generation = 1;
    const after = later<string>();
    const fresh = cache.get('k', 1, () => after.promise);
    // The newer load ends first; the older one after it.
    after.resolve('new');
    before.resolve('old');
    expect(await fresh).toBe('new');
    expect(await raced).toBe('old');
    expect(cache.peek('k', 2)).toBe('new');
    expect(cache.last('k')).toBe('new');
  });

  it('does not store a load that ends after a generation change as current', async () => {
    let generation = 0;
    const cache = new ConfigCache<string>(1000, undefined, { generation: () => generation });
    const before = later<string>();
    const raced = cache.get('k', 0, () => before.promise);
    generation = 1;
    before.resolve('old');
    expect(await raced).toBe('old');
    expect(cache.peek('k', 1)).toBeUndefined();
    expect(cache.get('k', 1, () => 'new')).toBe('new');
  });
});

describe('the last value of a key (ConfigCache.last)', () => {
  it('is the value last loaded, past its TTL and under another generation too, and is not a use for the bound', () => {
    let generation = 0;
    const cache = new ConfigCache<string>(1000, 2, { generation: () => generation });
    expect(cache.last('a')).toBeUndefined();
    cache.get('a', 0, () => 'a1');
    cache.get('b', 0, () => 'b1');
    generation = 1;
    expect(cache.last('a')).toBe('a1');
    expect(cache.last('b')).toBe('b1');
    cache.get('c', 5000, () => 'c1');
    // `a` stayed the least recently used (last() does not count as a use): dropped.
    expect(cache.last('a')).toBeUndefined();
    expect(cache.last('b')).toBe('b1');
  });
});
