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
import type { ConfigChanges } from './configCache.js';

export interface DecisionReads {
  /** The account an SNI routes to. */
  account(host: string): Step<Account | null>;
  /**
   * The registration's status, mode, CA and thing names, read fresh. `seenBefore`: the
   * decision has met this chain before (its verification was cached), so the read is
   * worth remembering where reads are remembered (ts/fastpath/index.ts, "Remembered on
   * second sight"); it never changes the answer.
   */
  standing(accountId: string, certificateId: string, seenBefore: boolean): Step<CertificateStanding | null>;
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
  /**
   * Optional, cheap: a number equal to one returned earlier only if no answer of
   * `account`, `caCertificate` or `caCrlMeta` can have changed in between. A cache entry
   * loaded under a stamp still current is what a new read would answer, so the caches
   * keep it past their TTL instead of reading again (checked once per entry per TTL).
   * It only saves reads: an entry it keeps is what a read would answer, and an entry of
   * another `configGeneration` is dropped whatever the stamp. A fleet view: its generation (exact); SQLite with the fast
   * path: any commit moves it (ts/fastpath/committedReads.ts `stamp`); absent for
   * PostgreSQL read directly.
   */
  configStamp?(): number;
}

/** Reads straight from a registry are as current as the registry itself. */
const CURRENT = (): null => null;
const NO_GENERATION = (): number => 0;

export function decisionReads(registry: RegistryReader): DecisionReads {
  const r = registry;
  const { accountForHostSync, getCertificateStandingSync, getCaCertificateSync, getCaCrlMetaSync, getCaCrlMeta, commitStampSync } = r;
  return {
    ...(commitStampSync === undefined ? {} : { configStamp: () => commitStampSync.call(r) }),
    account: accountForHostSync ? (host) => accountForHostSync.call(r, host) : (host) => r.accountForHost(host),
    standing: getCertificateStandingSync
      ? (accountId, id, seenBefore) => getCertificateStandingSync.call(r, accountId, id, seenBefore)
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

/** How caches of `reads`' configuration answers learn of changes (configCache.ts). */
export function configChanges(reads: DecisionReads): ConfigChanges {
  return {
    generation: () => reads.configGeneration(),
    stamp: reads.configStamp === undefined ? undefined : () => (reads.configStamp as () => number).call(reads),
  };
}
