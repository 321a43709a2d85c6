/**
 * The revoked serials of each registered CA's current CRL, per process (branch crl).
 *
 * Lookups are O(1): a `Set` of serials (lowercase hex, the engine's spelling) per CA.
 * The set is rebuilt only when the stored CRL changes: after the config-cache TTL
 * (`--config-cache-ms`, default 1 s) the CRL's id is read again (one small row, not the
 * CRL) unless the reads' stamp says nothing changed (configCache.ts `renewed`), and only
 * a different id makes this process load the CRL's bytes and have the
 * engine re-verify it (at the instant it was verified when stored, so the verdict is the
 * one the write got) and list its serials. A CRL written in any process is therefore in
 * force everywhere within that TTL — not at once, unlike certificate status (a fleet
 * view drops the entry when it applies the change: at once). A 1,000,000
 * entry CRL takes this process about a second to load (bench/README.md), once per change.
 */
import type { Engine } from '../engine/types.js';
import type { CaCrlMeta, RegistryReader } from '../registry/types.js';
import { configChanges, type DecisionReads } from './reads.js';
import type { Step } from './step.js';
import { renewed, type ConfigChanges } from './configCache.js';

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
  /** `reads.configGeneration()` when the read behind `state` started (reads.ts). */
  generation: number;
  /** `reads.configStamp()` then (NaN without one). */
  stamp: number;
}

export class CaCrls {
  readonly #registry: RegistryReader;
  readonly #reads: DecisionReads;
  readonly #engine: Engine;
  readonly #ttlMs: number;
  readonly #changes: ConfigChanges;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<CrlState>>();

  constructor(registry: RegistryReader, reads: DecisionReads, engine: Engine, ttlMs: number) {
    this.#registry = registry;
    this.#reads = reads;
    this.#engine = engine;
    this.#ttlMs = ttlMs;
    this.#changes = configChanges(reads);
  }

  /** The state of CA `caCertificateId` in `accountId` if known and fresh at `nowMs`. */
  peek(accountId: string, caCertificateId: string, nowMs: number): CrlState | undefined {
    const hit = this.#entries.get(`${accountId}/${caCertificateId}`);
    if (hit === undefined || hit.generation !== this.#changes.generation()) return undefined;
    return nowMs < hit.until || renewed(hit, nowMs, this.#ttlMs, this.#changes.stamp) ? hit.state : undefined;
  }

  /**
   * The state at `nowMs`: the cached one while fresh; else the CRL's id is read again
   * (synchronously where the registry can) and the cached set reused while the id is
   * unchanged; only a new CRL is loaded (asynchronously; concurrent callers share one
   * load). A read that fails is a state that is not ok (the decision fails closed).
   */
  state(accountId: string, caCertificateId: string, nowMs: number): Step<CrlState> {
    const fresh = this.peek(accountId, caCertificateId, nowMs);
    if (fresh !== undefined) return fresh;
    const key = `${accountId}/${caCertificateId}`;
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending;
    const generation = this.#changes.generation();
    const stamp = this.#changes.stamp?.() ?? Number.NaN;
    let meta: Step<CaCrlMeta | null>;
    try {
      meta = this.#reads.caCrlMeta(accountId, caCertificateId);
    } catch (err) {
      return unreadable(caCertificateId, err);
    }
    const known = (found: CaCrlMeta | null): CrlState | undefined => {
      if (found === null) return { ok: true, view: null };
      const cached = this.#entries.get(key)?.state;
      return cached?.ok === true && cached.view?.crlId === found.crlId ? cached : undefined;
    };
    if (!(meta instanceof Promise)) {
      const state = known(meta);
      if (state !== undefined) {
        this.#entries.set(key, { state, until: nowMs + this.#ttlMs, generation, stamp });
        return state;
      }
    }
    const load = Promise.resolve(meta)
      .then((found) => known(found) ?? this.#load(accountId, caCertificateId))
      .catch((err: unknown): CrlState => unreadable(caCertificateId, err))
      .then((state) => {
        this.#entries.set(key, { state, until: nowMs + this.#ttlMs, generation, stamp });
        return state;
      })
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, load);
    return load;
  }

  /** The CRL's bytes, verified again against its CA, as a set of serials. */
  async #load(accountId: string, caCertificateId: string): Promise<CrlState> {
    const registry = this.#registry;
    if (registry.getCaCrl === undefined) return { ok: true, view: null };
    const [record, ca] = await Promise.all([
      registry.getCaCrl(accountId, caCertificateId),
      registry.getCaCertificate(accountId, caCertificateId),
    ]);
    if (record === null || ca === null) return { ok: true, view: null };
    const verified = this.#engine.verifyCrl(record.crl, Buffer.from(ca.certificatePem), record.verifiedAt, null);
    if (!verified.ok)
      return { ok: false, message: `stored CRL of ${caCertificateId} does not verify: ${verified.code}: ${verified.message}` };
    return { ok: true, view: { crlId: verified.crlId, nextUpdate: verified.nextUpdate, serials: new Set(verified.revokedSerials) } };
  }
}

function unreadable(caCertificateId: string, err: unknown): CrlState {
  return { ok: false, message: `CRL of ${caCertificateId} could not be read: ${err instanceof Error ? err.message : String(err)}` };
}
