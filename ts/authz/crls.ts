/**
 * The revoked serials of each registered CA's current CRL, per process (branch crl).
 *
 * Lookups are O(1): a `Set` of serials (lowercase hex, the engine's spelling) per CA.
 * The set is rebuilt only when the stored CRL changes: after the config-cache TTL
 * (`--config-cache-ms`, default 1 s) the CRL's id is read again (one small row, not the
 * CRL), and only a different id makes this process load the CRL's bytes and have the
 * engine re-verify it (at the instant it was verified when stored, so the verdict is the
 * one the write got) and list its serials. A CRL written in any process is therefore in
 * force everywhere within that TTL — not at once, unlike certificate status. A 1,000,000
 * entry CRL takes this process about a second to load (bench/README.md), once per change.
 */
import type { Engine } from '../engine/types.js';
import type { RegistryReader } from '../registry/types.js';

/** A CA's CRL as the decision uses it. */
export interface CrlView {
  readonly crlId: string;
  /** Epoch seconds, or null (no nextUpdate). */
  readonly nextUpdate: number | null;
  readonly serials: ReadonlySet<string>;
}

/** `view` null: the CA has no CRL. Not ok: the stored CRL could not be used (the decision fails closed). */
export type CrlState = { ok: true; view: CrlView | null } | { ok: false; message: string };

interface Entry {
  state: CrlState;
  until: number;
}

export class CaCrls {
  readonly #registry: RegistryReader;
  readonly #engine: Engine;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<CrlState>>();

  constructor(registry: RegistryReader, engine: Engine, ttlMs: number) {
    this.#registry = registry;
    this.#engine = engine;
    this.#ttlMs = ttlMs;
  }

  /** The state of CA `caCertificateId` in `accountId` if known and fresh at `nowMs`. */
  peek(accountId: string, caCertificateId: string, nowMs: number): CrlState | undefined {
    const hit = this.#entries.get(`${accountId}/${caCertificateId}`);
    return hit !== undefined && nowMs < hit.until ? hit.state : undefined;
  }

  /**
   * The state for the synchronous decision path: the cached one while fresh, else the
   * CRL's id read synchronously (SQLite) and the cached set reused when the id is
   * unchanged. Undefined when that is not enough (no synchronous read, a new CRL to
   * load): the asynchronous path then loads it.
   */
  getSync(accountId: string, caCertificateId: string, nowMs: number): CrlState | undefined {
    const fresh = this.peek(accountId, caCertificateId, nowMs);
    if (fresh !== undefined) return fresh;
    const read = this.#registry.getCaCrlMetaSync;
    if (read === undefined) return undefined;
    const key = `${accountId}/${caCertificateId}`;
    const meta = read.call(this.#registry, accountId, caCertificateId);
    const known = this.#entries.get(key)?.state;
    let state: CrlState;
    if (meta === null) state = { ok: true, view: null };
    else if (known?.ok === true && known.view?.crlId === meta.crlId) state = known;
    else return undefined;
    this.#entries.set(key, { state, until: nowMs + this.#ttlMs });
    return state;
  }

  /** The state, re-read from the registry when stale (concurrent callers share one read). */
  get(accountId: string, caCertificateId: string, nowMs: number): Promise<CrlState> {
    const fresh = this.peek(accountId, caCertificateId, nowMs);
    if (fresh !== undefined) return Promise.resolve(fresh);
    const key = `${accountId}/${caCertificateId}`;
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending;
    const load = this.#load(accountId, caCertificateId)
      .catch((err: unknown): CrlState => ({ ok: false, message: `CRL of ${caCertificateId} could not be read: ${err instanceof Error ? err.message : String(err)}` }))
      .then((state) => {
        this.#entries.set(key, { state, until: nowMs + this.#ttlMs });
        return state;
      })
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, load);
    return load;
  }

  async #load(accountId: string, caCertificateId: string): Promise<CrlState> {
    const registry = this.#registry;
    if (registry.getCaCrlMeta === undefined || registry.getCaCrl === undefined) return { ok: true, view: null };
    const meta = await registry.getCaCrlMeta(accountId, caCertificateId);
    if (meta === null) return { ok: true, view: null };
    const known = this.#entries.get(`${accountId}/${caCertificateId}`)?.state;
    if (known?.ok === true && known.view?.crlId === meta.crlId) return known;
    const [record, ca] = await Promise.all([registry.getCaCrl(accountId, caCertificateId), registry.getCaCertificate(accountId, caCertificateId)]);
    if (record === null || ca === null) return { ok: true, view: null };
    const verified = this.#engine.verifyCrl(record.crl, Buffer.from(ca.certificatePem), record.verifiedAt, null);
    if (!verified.ok) return { ok: false, message: `stored CRL of ${caCertificateId} does not verify: ${verified.code}: ${verified.message}` };
    return { ok: true, view: { crlId: verified.crlId, nextUpdate: verified.nextUpdate, serials: new Set(verified.revokedSerials) } };
  }
}
