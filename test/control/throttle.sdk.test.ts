/**
 * ThrottlingException per access key (branch keys): the token bucket itself on an exact
 * clock, then a real server whose burst beyond the limit gets 429s, and the real
 * @aws-sdk/client-iot retrying a throttled call until it succeeds.
 */
import { ListCertificatesCommand, IoTClient } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_RATE_LIMIT, KeyRateLimiter } from '../../ts/control/throttle.js';
import { ConfigError, parseServeConfig } from '../../ts/server/config.js';
import { ACCOUNT_A, ACCOUNT_B, REGION, sdkError, signedFetch, startAdmin, type AdminHarness } from './harness.js';

describe('the per-key token bucket', () => {
  it('allows `rate` requests at once, then one per 1/rate seconds, per key', () => {
    let now = 0;
    const limiter = new KeyRateLimiter(2, () => now);
    expect([limiter.take('k'), limiter.take('k')].every((r) => r.ok)).toBe(true);
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterMs: 500 });
    expect(limiter.take('other').ok).toBe(true);
    now = 499;
    expect(limiter.take('k').ok).toBe(false);
    now = 500;
    expect(limiter.take('k').ok).toBe(true);
    now = 60_000;
    // An idle bucket fills up to one second's worth, not more.
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')].map((r) => r.ok)).toEqual([true, true, false]);
  });

  it('is off at 0 and refuses a negative rate', () => {
    const off = new KeyRateLimiter(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(off.take('k').ok).toBe(true);
    expect(() => new KeyRateLimiter(-1)).toThrow(/rate limit must be a number >= 0/);
  });
});

describe('ThrottlingException over the admin API', () => {
  let harness: AdminHarness;

  beforeAll(async () => {
    harness = await startAdmin({ adminRateLimit: 4 });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('answers a burst beyond the limit with 429 ThrottlingException and Retry-After, for that key only', async () => {
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/certificates' })),
    );
    const throttled = burst.filter((r) => r.status === 429);
    const served = burst.filter((r) => r.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(4);
    expect(served.length).toBeLessThanOrEqual(6);
    expect(throttled.length).toBe(12 - served.length);
    for (const r of throttled) {
      expect(r.errorType).toBe('ThrottlingException');
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.json?.['message']).toContain(`Rate exceeded for access key ${ACCOUNT_A.accessKeyId}`);
    }
    // Another key is not affected by A's burst.
    expect((await signedFetch(harness, ACCOUNT_B, { method: 'GET', path: '/certificates' })).status).toBe(200);
  });
});

describe('@aws-sdk/client-iot against a throttling server', () => {
  it('retries the throttled call with backoff and succeeds', async () => {
    // One request per second: a drained bucket stays empty for a second, longer than
    // the gap between the drain and the SDK's first attempt.
    const harness = await startAdmin({ adminRateLimit: 1 });
    try {
      const once = new IoTClient({ region: REGION, endpoint: harness.url, credentials: ACCOUNT_A, maxAttempts: 1 });
      const retrying = new IoTClient({ region: REGION, endpoint: harness.url, credentials: ACCOUNT_A, maxAttempts: 8 });
      // The SDK's first call in a process loads its middleware; do that on B's bucket.
      const warm = harness.client(ACCOUNT_B);
      await warm.send(new ListCertificatesCommand({}));
      const drain = await Promise.all(
        Array.from({ length: 3 }, () => signedFetch(harness, ACCOUNT_A, { method: 'GET', path: '/certificates' })),
      );
      expect(drain.filter((r) => r.status === 200)).toHaveLength(1);
      expect(drain.filter((r) => r.status === 429)).toHaveLength(2);
      const refused = await sdkError(once.send(new ListCertificatesCommand({})));
      expect(refused).toMatchObject({ name: 'ThrottlingException', status: 429 });
      expect(refused.message).toContain(`Rate exceeded for access key ${ACCOUNT_A.accessKeyId}`);
      once.destroy();
      const answer = await retrying.send(new ListCertificatesCommand({}));
      expect(answer.certificates).toEqual([]);
      expect(answer.$metadata.attempts).toBeGreaterThan(1);
      retrying.destroy();
    } finally {
      await harness.close();
    }
  });
});

describe('--admin-rate-limit', () => {
  it('defaults to DEFAULT_ADMIN_RATE_LIMIT, takes 0 for off, and refuses anything else by name', () => {
    expect(parseServeConfig({}).adminRateLimit).toBe(DEFAULT_ADMIN_RATE_LIMIT);
    expect(parseServeConfig({ adminRateLimit: '0' }).adminRateLimit).toBe(0);
    expect(parseServeConfig({ adminRateLimit: '7' }).adminRateLimit).toBe(7);
    expect(() => parseServeConfig({ adminRateLimit: '1.5' })).toThrow('--admin-rate-limit must be an integer in [0, 1000000], got "1.5"');
    expect(() => parseServeConfig({ adminRateLimit: '-1' })).toThrow(ConfigError);
  });
});
