/**
 * Registered CA certificates as verification anchors: DER plus the public key the
 * placement policy prices. A CA's certificate never changes under its certificateId, so
 * parsing it once is safe; whether the CA still exists is registry configuration and is
 * re-read after the config-cache TTL (a deleted CA then denies with CA_NOT_FOUND).
 */
import type { Engine, PublicKeyInfo } from '../engine/types.js';
import type { CaCertificateRecord, RegistryReader } from '../registry/types.js';
import { pemToDers } from './chain.js';
import { ConfigCache } from './configCache.js';

export interface Anchor {
  readonly certificateId: string;
  readonly der: Buffer;
  readonly publicKey: PublicKeyInfo;
}

/** Why an anchor is unusable (the decision denies with CA_NOT_FOUND). */
export type AnchorResult = { ok: true; anchor: Anchor } | { ok: false; message: string };

export class Anchors {
  readonly #registry: RegistryReader;
  readonly #engine: Engine;
  readonly #records: ConfigCache<AnchorResult>;

  constructor(registry: RegistryReader, engine: Engine, ttlMs: number) {
    this.#registry = registry;
    this.#engine = engine;
    this.#records = new ConfigCache(ttlMs);
  }

  /** The CA registered in `accountId` as `caCertificateId`. */
  get(accountId: string, caCertificateId: string, nowMs: number): Promise<AnchorResult> {
    return this.#records.get(`${accountId}/${caCertificateId}`, nowMs, async () => {
      const ca = await this.#registry.getCaCertificate(accountId, caCertificateId);
      return ca === null ? gone(caCertificateId) : this.fromRecord(ca);
    });
  }

  /** {@link get} over a synchronous read of the CA record. */
  getSync(accountId: string, caCertificateId: string, nowMs: number, read: (accountId: string, caCertificateId: string) => CaCertificateRecord | null): AnchorResult {
    return this.#records.getSync(`${accountId}/${caCertificateId}`, nowMs, () => {
      const ca = read(accountId, caCertificateId);
      return ca === null ? gone(caCertificateId) : this.fromRecord(ca);
    });
  }

  /** The cached answer of `get`, if still fresh: lets the warm path skip an await. */
  peek(accountId: string, caCertificateId: string, nowMs: number): AnchorResult | undefined {
    return this.#records.peek(`${accountId}/${caCertificateId}`, nowMs);
  }

  /** Parse a CA record already read (JITR candidates). */
  fromRecord(ca: CaCertificateRecord): AnchorResult {
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
