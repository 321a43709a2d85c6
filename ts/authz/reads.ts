/**
 * The registry reads a decision makes, each answering a value or a promise
 * ({@link Step}): the synchronous form when the registry offers one (SQLite:
 * `accountForHostSync`, `getCertificateStandingSync`, `getCaCertificateSync`,
 * `getCaCrlMetaSync`), else the asynchronous one (PostgreSQL). Both forms give the same
 * answers with the same exactness (RegistryReader in ts/registry/types.ts), so which one
 * is used changes only whether the decision waits, never what it decides.
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
}

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
  };
}
