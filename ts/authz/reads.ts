/**
 * The registry reads a decision makes, each answering a value or a promise
 * ({@link Step}): the synchronous form when the registry offers one (SQLite:
 * `accountForHostSync`, `getCertificateStandingSync`, `getCaCertificateSync`,
 * `getCaCrlMetaSync`), else the asynchronous one (PostgreSQL). Both forms give the same
 * answers with the same exactness (RegistryReader in ts/registry/types.ts), so which one
 * is used changes only whether the decision waits, never what it decides.
 *
 * The same interface is a fleet sidecar's local view of a PostgreSQL registry
 * (ts/view/fleetView.ts): answers from memory, kept current by the change log, valid
 * only while its lease holds (`stale`). Reads straight from a registry are always
 * current, so the decision code never knows which of the three it runs on.
 */
import type { Account, CaCertificateRecord, CaCrlMeta, CertificateStanding, RegistryReader } from '../registry/types.js';
import type { Step } from './step.js';

export interface DecisionReads {
  /** The account an SNI routes to. */
  account(host: string): Step<Account | null>;
  /** The registration's status, mode, CA and thing names, read fresh. */
  standing(accountId: string, certificateId: string): Step<CertificateStanding | null>;
  /** A registered CA certificate. */
  caCertificate(accountId: string, caCertificateId: string): Step<CaCertificateRecord | null>;
  /** A CA's current CRL without its bytes; null on registries without CRLs. */
  caCrlMeta(accountId: string, caCertificateId: string): Step<CaCrlMeta | null>;
  /**
   * Null when an allow may be given for a decision that started at `startedAt`
   * (`performance.now()`): every read it made reflected every lowering write whose call
   * had returned when it started. Else why not (the decision refuses REGISTRY_STALE).
   * Called once, right before an allow; cheap (a clock comparison).
   */
  stale(startedAt: number): string | null;
  /**
   * A number that changes whenever routing, a CA or a CRL may have changed in what these
   * reads answer; caches of those answers (configCache.ts, anchors.ts, crls.ts) drop
   * entries loaded under another number. Constant for reads straight from a registry
   * (each answer is as fresh as the read; the caches keep their TTL).
   */
  configGeneration(): number;
}

/** Reads straight from a registry are as current as the registry itself. */
const CURRENT = (): null => null;
const NO_GENERATION = (): number => 0;

export function decisionReads(registry: RegistryReader): DecisionReads {
  const r = registry;
  const { accountForHostSync, getCertificateStandingSync, getCaCertificateSync, getCaCrlMetaSync, getCaCrlMeta } = r;
  return {
    account: accountForHostSync ? (host) => accountForHostSync.call(r, host) : (host) => r.accountForHost(host),
    standing: getCertificateStandingSync
      ? (accountId, id) => getCertificateStandingSync.call(r, accountId, id)
      : (accountId, id) => r.getCertificateStanding(accountId, id),
    caCertificate: getCaCertificateSync
      ? (accountId, id) => getCaCertificateSync.call(r, accountId, id)
      : (accountId, id) => r.getCaCertificate(accountId, id),
    caCrlMeta: getCaCrlMetaSync
      ? (accountId, id) => getCaCrlMetaSync.call(r, accountId, id)
      : getCaCrlMeta
        ? (accountId, id) => getCaCrlMeta.call(r, accountId, id)
        : () => null,
    stale: CURRENT,
    configGeneration: NO_GENERATION,
  };
}
