/**
 * Scheduled refresh of CA CRLs from their distribution points (branch crlrefresh,
 * `serve --crl-refresh <seconds>`).
 *
 * Every interval, for each registered ACTIVE CA whose certificate names an http(s)
 * cRLDistributionPoints URI (RFC 5280 section 4.2.1.13,
 * https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.13; the engine's `inspect` lists
 * them), the CRL is fetched and stored through {@link replaceCrl}: the same engine
 * verification as an upload (signed by the CA, not past nextUpdate, CRL number never
 * going backwards). A fetch or verification failure stores nothing, so the last good
 * CRL stays in force (and ages into CRL_EXPIRED, fail closed); the failure is kept per
 * CA for `/metrics` and the `/readyz` body.
 *
 * Runs once per installation (the cluster primary, or the one process), like the
 * webhook deliverer: workers read the stored CRL from the registry as uploads.
 */
import { request } from 'undici';
import type { Engine } from '../engine/types.js';
import type { Registry } from '../registry/types.js';
import { replaceCrl } from './replace.js';

/**
 * Largest CRL body fetched: the engine's `max_crl_bytes` (64 MiB, docs/errors.md
 * CRL_TOO_LARGE). A larger body is cut off at this size and counted a failure
 * (`CRL_TOO_LARGE`) before the engine sees it. Other fetch failures: `HTTP_STATUS` (not
 * 200), `FETCH_FAILED` (network); the engine's codes when it refuses the CRL.
 */
export const MAX_FETCHED_CRL_BYTES = 64 * 1024 * 1024;
/**
 * Time one fetch may take (connect, headers, and each body read). A distribution point
 * that hangs must not hold the next CAs' refresh; 30 s covers a 64 MiB CRL over a slow
 * link far better than a CRL ages (CAs publish hours to days ahead of nextUpdate).
 * Tripped: `FETCH_TIMEOUT`.
 */
export const CRL_FETCH_TIMEOUT_MS = 30_000;

/** One CA's refresh state. */
export interface CrlRefreshState {
  accountId: string;
  caCertificateId: string;
  url: string;
  /** Epoch seconds of the last fetch that stored (or confirmed unchanged) a CRL; null = none yet. */
  lastSuccess: number | null;
  /** Epoch seconds of the last attempt. */
  lastAttempt: number;
  /** Why the last attempt failed; null when it succeeded. */
  lastError: { code: string; message: string } | null;
}

/** What `/readyz` and `/metrics` read. */
export interface CrlRefreshStats {
  ok: number;
  failed: number;
  /** CAs whose last fetch failed (their last good CRL, if any, stays in force). */
  failing: CrlRefreshState[];
}

export interface CrlRefresherOptions {
  registry: Registry;
  engine: Engine;
  intervalMs: number;
  timeoutMs?: number;
  maxBytes?: number;
  /** Epoch milliseconds (tests move it). */
  now?: () => number;
  onError?: (state: CrlRefreshState) => void;
  /** Told when a round fails as a whole (the registry could not be read). */
  onRoundError?: (error: unknown) => void;
  /** Told after every round (the cluster primary forwards the state to workers for `/readyz`). */
  onRound?: (stats: CrlRefreshStats) => void;
}

class FetchFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class CrlRefresher {
  private readonly states = new Map<string, CrlRefreshState>();
  private ok = 0;
  private failed = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: CrlRefresherOptions) {}

  /** Refresh now, then every interval until {@link stop}. */
  start(): void {
    const tick = () => {
      // A round that cannot list the CAs (registry unreadable) is reported and retried at
      // the next interval; it never rejects into the process.
      this.running = this.refreshAll()
        .catch((err: unknown) => this.o.onRoundError?.(err))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }

  stats(): CrlRefreshStats {
    return { ok: this.ok, failed: this.failed, failing: [...this.states.values()].filter((s) => s.lastError !== null) };
  }

  /** One round over every ACTIVE CA with an http(s) distribution point. */
  async refreshAll(): Promise<void> {
    const seen = new Set<string>();
    for (const account of await this.o.registry.listAccounts()) {
      let marker: string | undefined;
      do {
        const page = await this.o.registry.listCaCertificates(account.accountId, {
          pageSize: 250,
          ascending: true,
          ...(marker === undefined ? {} : { marker }),
        });
        for (const ca of page.items) {
          if (this.stopped) return;
          if (ca.status !== 'ACTIVE') continue;
          const info = this.o.engine.inspect(Buffer.from(ca.certificatePem));
          const url = info.ok ? info.crlDistributionPoints[0] : undefined;
          if (url === undefined) continue;
          const key = `${ca.accountId}/${ca.certificateId}`;
          seen.add(key);
          await this.refreshOne(ca.accountId, ca.certificateId, url, key);
        }
        marker = page.nextMarker;
      } while (marker !== undefined);
    }
    // A CA deleted, deactivated or without a URL any more is no longer failing.
    for (const key of this.states.keys()) if (!seen.has(key)) this.states.delete(key);
    this.o.onRound?.(this.stats());
  }

  private async refreshOne(accountId: string, caCertificateId: string, url: string, key: string): Promise<void> {
    const now = (this.o.now ?? Date.now)() / 1000;
    const previous = this.states.get(key);
    const state: CrlRefreshState = {
      accountId,
      caCertificateId,
      url,
      lastSuccess: previous?.lastSuccess ?? null,
      lastAttempt: Math.floor(now),
      lastError: null,
    };
    try {
      const bytes = await this.fetchCrl(url);
      const out = await replaceCrl(
        this.o.registry,
        this.o.engine,
        { accountId, caCertificateId, bytes, source: 'DISTRIBUTION_POINT', sourceUrl: url },
        now,
      );
      if (!out.ok) throw new FetchFailure(out.code, out.message);
      state.lastSuccess = Math.floor(now);
      this.ok++;
    } catch (err) {
      state.lastError =
        err instanceof FetchFailure
          ? { code: err.code, message: err.message }
          : { code: 'FETCH_FAILED', message: err instanceof Error ? err.message : String(err) };
      this.failed++;
      this.o.onError?.(state);
    }
    this.states.set(key, state);
  }

  /** GET `url` with a timeout and a size limit (undici: the HTTP client Node's fetch is built on). */
  private async fetchCrl(url: string): Promise<Buffer> {
    const timeout = this.o.timeoutMs ?? CRL_FETCH_TIMEOUT_MS;
    const max = this.o.maxBytes ?? MAX_FETCHED_CRL_BYTES;
    // undici's request() follows no redirect: the URL named in the certificate is the one fetched.
    try {
      return await this.get(url, timeout, max);
    } catch (err) {
      if (err instanceof FetchFailure) throw err;
      // undici's own timeouts carry a code; AbortSignal.timeout() rejects with a DOMException named TimeoutError.
      const { code, name } = err as { code?: unknown; name?: unknown };
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || name === 'TimeoutError') {
        throw new FetchFailure('FETCH_TIMEOUT', `GET ${url} did not complete within ${timeout} ms`);
      }
      throw new FetchFailure('FETCH_FAILED', `GET ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async get(url: string, timeout: number, max: number): Promise<Buffer> {
    const res = await request(url, { method: 'GET', headersTimeout: timeout, bodyTimeout: timeout, signal: AbortSignal.timeout(timeout) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FetchFailure('HTTP_STATUS', `GET ${url} answered HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        res.body.destroy();
        throw new FetchFailure('CRL_TOO_LARGE', `GET ${url}: the body exceeds ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
}

/** The `/readyz` body field (same in every process of a cluster). */
export interface CrlRefreshReadyDetail {
  crlRefreshFailing: {
    accountId: string;
    caCertificateId: string;
    url: string;
    code: string;
    message: string;
    lastSuccess: string | null;
  }[];
}

export function readyDetailOf(stats: CrlRefreshStats): CrlRefreshReadyDetail {
  return {
    crlRefreshFailing: stats.failing.map((s) => ({
      accountId: s.accountId,
      caCertificateId: s.caCertificateId,
      url: s.url,
      code: s.lastError?.code ?? '',
      message: s.lastError?.message ?? '',
      lastSuccess: s.lastSuccess === null ? null : new Date(s.lastSuccess * 1000).toISOString(),
    })),
  };
}
