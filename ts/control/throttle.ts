import { AwsError } from './errors.js';

/**
 * Per-access-key rate limit of the admin API (`--admin-rate-limit`, branch keys): a token
 * bucket per key that holds at most one second's worth of requests and refills at `rate`
 * per second. A request finding the bucket empty is answered `429 ThrottlingException`
 * with `Retry-After`, which AWS SDKs and the AWS CLI retry with backoff
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 *
 * Hand-written rather than a library: the bucket is a few lines of arithmetic over an
 * injectable clock (so tests are exact), and the npm limiters at hand either count in
 * fixed windows (twice the rate across a window edge) or bring a store abstraction for
 * shared backends this in-process limit does not use.
 *
 * Buckets are per process: `certgate serve --processes N` lets a key reach up to N times
 * the rate when its connections spread over the processes. Only keys that passed SigV4
 * get a bucket, so the map is bounded by the registry's keys and nobody can drain
 * another key's bucket by sending its id unsigned.
 */

/** Default requests per second per access key (and process): generous for people and scripts, a ceiling for a runaway loop. */
export const DEFAULT_ADMIN_RATE_LIMIT = 50;

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class KeyRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;

  /** `rate` requests per second per key; 0 turns the limit off. `now` is in milliseconds. */
  constructor(
    private readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`the admin rate limit must be a number >= 0, got ${rate}`);
    this.capacity = Math.max(1, rate);
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Spend one token of `key`'s bucket, or say how long until one is there. */
  take(key: string): TakeResult {
    if (this.rate === 0) return { ok: true };
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.rate) * 1000) };
  }
}

/** The refusal of a request over the limit (HTTP 429, which `http.ts` sends with Retry-After). */
export function throttled(accessKeyId: string, retryAfterMs: number): AwsError {
  return new AwsError('ThrottlingException', `Rate exceeded for access key ${accessKeyId}; retry in ${retryAfterMs} ms.`);
}
