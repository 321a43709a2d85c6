/**
 * The revoked serials of each registered CA's current CRL, per process (branch crl).
 *
 * Lookups are O(1): a `Set` of serials (lowercase hex, the engine's spelling) per CA.
 * The set is rebuilt only when the stored CRL changes. Each CA's state is an entry of a
 * ConfigCache (configCache.ts: its TTL `--config-cache-ms`, default 1 s, its stamp, its
 * generation, its bound, one load shared by concurrent callers); what is this module's
 * own is the load: the CRL's id is read (one small row, not the CRL), the last state's
 * set is reused while the id is the same (`ConfigCache.last`; the id is the SHA-256 of
 * the CRL's DER), and only a different id makes this process load the CRL's bytes and
 * have the engine re-verify it (at the instant it was verified when stored, so the
 * verdict is the one the write got) and list its serials. A CRL written in any process
 * is therefore in force everywhere within that TTL — not at once, unlike certificate
 * status (a fleet view drops the entry when it applies the change: at once, also the
 * answer of a load still in flight). A read that fails is a state that is not ok (the
 * decision fails closed) and is not remembered: the next decision reads again. With
 * `--config-cache-ms` 0 the id is read for every decision. A 1,000,000 entry CRL takes
 * this process about a second to load (bench/README.md), once per change.
 */
import type { Engine } from '../engine/types.js';
import type { CaCrlMeta, RegistryReader } from '../registry/types.js';
import { configChanges, type DecisionReads } from './reads.js';
import { andThen, type Step } from './step.js';
import { ConfigCache } from './configCache.js';

/** A CA's CRL as the decision uses it. */
export interface CrlView {
  readonly crlId: string;
  /** Epoch seconds, or null (no nextUpdate). */
  readonly nextUpdate: number | null;
  readonly serials: ReadonlySet<string>;
}

/** `view` null: the CA has no CRL. Not ok: the stored CRL could not be used (the decision fails closed). */
export type CrlState = { ok: true; view: CrlView | null } | { ok: false; message: string };

const NO_CRL: CrlState = { ok: true, view: null };

export class CaCrls {
  readonly #registry: RegistryReader;
  readonly #reads: DecisionReads;
  readonly #engine: Engine;
  readonly #states: ConfigCache<CrlState>;
  /**
   * Loads in flight by CA and CRL id. The id is the SHA-256 of the CRL, so every caller
   * that read the same id wants the same set: they share one load and one verification
   * whatever the TTL — with `--config-cache-ms` 0, where the cache shares nothing, a
   * 1,000,000-entry CRL would otherwise be verified again (~1 s) by each decision that
   * arrives while the first is loading it.
   */
  readonly #loading = new Map<string, Promise<CrlState>>();

  constructor(registry: RegistryReader, reads: DecisionReads, engine: Engine, ttlMs: number) {
    this.#registry = registry;
    this.#reads = reads;
    this.#engine = engine;
    this.#states = new ConfigCache(ttlMs, undefined, configChanges(reads));
  }

  /** The state of CA `caCertificateId` in `accountId` if known and fresh at `nowMs`. */
  peek(accountId: string, caCertificateId: string, nowMs: number): CrlState | undefined {
    return this.#states.peek(`${accountId}/${caCertificateId}`, nowMs);
  }

  /**
   * The state at `nowMs`: the cached one while fresh; else the CRL's id is read again
   * (synchronously where the registry can) and the last set reused while the id is
   * unchanged; only a new CRL is loaded (asynchronously; concurrent callers share one
   * load). A read that fails is a state that is not ok (the decision fails closed).
   */
  state(accountId: string, caCertificateId: string, nowMs: number): Step<CrlState> {
    const key = `${accountId}/${caCertificateId}`;
    let state: Step<CrlState>;
    try {
      state = this.#states.get(key, nowMs, () => this.#read(key, accountId, caCertificateId));
    } catch (err) {
      return unreadable(caCertificateId, err);
    }
    return state instanceof Promise ? state.catch((err: unknown) => unreadable(caCertificateId, err)) : state;
  }

  /** The CRL's id, then the last state if it holds that CRL, else the CRL loaded. Throws or rejects when a read fails. */
  #read(key: string, accountId: string, caCertificateId: string): Step<CrlState> {
    return andThen(this.#reads.caCrlMeta(accountId, caCertificateId), (meta) => {
      if (meta === null) return NO_CRL;
      return this.#same(key, meta) ?? this.#shared(`${key}/${meta.crlId}`, () => this.#load(accountId, caCertificateId));
    });
  }

  /** The last state of `key` if it is the usable set of the CRL `meta` names. */
  #same(key: string, meta: CaCrlMeta): CrlState | undefined {
    const last = this.#states.last(key);
    return last?.ok === true && last.view?.crlId === meta.crlId ? last : undefined;
  }

  /** The load in flight for `loadKey`, or `load()` started and shared until it settles. */
  #shared(loadKey: string, load: () => Promise<CrlState>): Promise<CrlState> {
    let pending = this.#loading.get(loadKey);
    if (pending === undefined) {
      pending = load().finally(() => this.#loading.delete(loadKey));
      this.#loading.set(loadKey, pending);
    }
    return pending;
  }

  /** The CRL's bytes, verified again against its CA, as a set of serials. */
  async #load(accountId: string, caCertificateId: string): Promise<CrlState> {
    const registry = this.#registry;
    if (registry.getCaCrl === undefined) return NO_CRL;
    const [record, ca] = await Promise.all([
      registry.getCaCrl(accountId, caCertificateId),
      registry.getCaCertificate(accountId, caCertificateId),
    ]);
    if (record === null || ca === null) return NO_CRL;
    const verified = this.#engine.verifyCrl(record.crl, Buffer.from(ca.certificatePem), record.verifiedAt, null);
    if (!verified.ok)
      return { ok: false, message: `stored CRL of ${caCertificateId} does not verify: ${verified.code}: ${verified.message}` };
    return { ok: true, view: { crlId: verified.crlId, nextUpdate: verified.nextUpdate, serials: new Set(verified.revokedSerials) } };
  }
}

function unreadable(caCertificateId: string, err: unknown): CrlState {
  return { ok: false, message: `CRL of ${caCertificateId} could not be read: ${err instanceof Error ? err.message : String(err)}` };
}
