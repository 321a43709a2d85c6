/**
 * Registered CA certificates as verification anchors: DER plus the public key the
 * placement policy prices. A CA's certificate never changes under its certificateId, so
 * each is parsed once per process, whichever accounts register it and however often its
 * registration is read again; whether the CA is still registered is registry
 * configuration, cached in configCache.ts (a deleted CA then denies with CA_NOT_FOUND).
 */
import type { Engine, PublicKeyInfo } from '../engine/types.js';
import type { CaCertificateRecord } from '../registry/types.js';
import type { DecisionReads } from './reads.js';
import { andThen, type Step } from './step.js';
import { LRUCache } from 'lru-cache';
import { pemToDers } from './chain.js';
import { CONFIG_CACHE_MAX, ConfigCache } from './configCache.js';
import { configChanges } from './reads.js';

export interface Anchor {
  readonly certificateId: string;
  readonly der: Buffer;
  readonly publicKey: PublicKeyInfo;
}

/** Why an anchor is unusable (the decision denies with CA_NOT_FOUND). */
export type AnchorResult = { ok: true; anchor: Anchor } | { ok: false; message: string };

export class Anchors {
  readonly #reads: DecisionReads;
  readonly #engine: Engine;
  readonly #records: ConfigCache<AnchorResult>;
  /** Parsed CA certificates by certificateId (with the PEM they were parsed from). */
  readonly #parsed = new LRUCache<string, { pem: string; result: AnchorResult }>({ max: CONFIG_CACHE_MAX });

  constructor(reads: DecisionReads, engine: Engine, ttlMs: number) {
    this.#reads = reads;
    this.#engine = engine;
    this.#records = new ConfigCache(ttlMs, undefined, configChanges(reads));
  }

  /** The CA registered in `accountId` as `caCertificateId` (a value when cached or read synchronously). */
  get(accountId: string, caCertificateId: string, nowMs: number): Step<AnchorResult> {
    return this.#records.get(`${accountId}/${caCertificateId}`, nowMs, () =>
      andThen(this.#reads.caCertificate(accountId, caCertificateId), (ca) => (ca === null ? gone(caCertificateId) : this.fromRecord(ca))),
    );
  }

  /** The cached answer of `get`, if still fresh (the decision then skips timing a read). */
  peek(accountId: string, caCertificateId: string, nowMs: number): AnchorResult | undefined {
    return this.#records.peek(`${accountId}/${caCertificateId}`, nowMs);
  }

  /** Parse a CA record already read (JITR candidates). */
  fromRecord(ca: CaCertificateRecord): AnchorResult {
    const parsed = this.#parsed.get(ca.certificateId);
    if (parsed !== undefined && parsed.pem === ca.certificatePem) return parsed.result;
    const result = this.#parse(ca);
    this.#parsed.set(ca.certificateId, { pem: ca.certificatePem, result });
    return result;
  }

  #parse(ca: CaCertificateRecord): AnchorResult {
    const ders = pemToDers(ca.certificatePem);
    const der = typeof ders === 'string' ? undefined : ders[0];
    if (der === undefined) return { ok: false, message: `registered CA ${ca.certificateId} does not decode` };
    const parsed = this.#engine.inspect(der);
    if (!parsed.ok) return { ok: false, message: `registered CA ${ca.certificateId} does not parse: ${parsed.code}` };
    return { ok: true, anchor: { certificateId: ca.certificateId, der, publicKey: parsed.publicKey } };
  }
}

function gone(caCertificateId: string): AnchorResult {
  return { ok: false, message: `registered CA ${caCertificateId} is gone` };
}
