/**
 * The registry over any `Store` (../store.ts): every rule lives once in this folder, and
 * a backend is only its driver, schema and dialect (`../sqlite/`, `../postgres/`).
 *
 * Opening is synchronous for the caller and finishes in the background (the driver's
 * connection and migrations, the installation settings, sealing clear secrets when a
 * master key is given); every method waits for it, so an unreachable database, a failed
 * migration or a refused master key rejects every call with the same error
 * (`settings()` is the natural first call to surface it).
 */
import {
  standingFromRow,
  certificateFromRow,
  caCertificateFromRow,
  type CertificateRow,
  type CaCertificateRow,
  type StandingRow,
} from '../rows.js';
import { sealingRewrite, type MasterKey, type ResealReport, type SecretRewrite } from '../secrets.js';
import type { Queries, Store } from '../store.js';
import type * as T from '../types.js';
import * as accounts from './accounts.js';
import * as attachments from './attachments.js';
import * as cas from './cas.js';
import * as certs from './certificates.js';
import { arnOf, type Ctx } from './context.js';
import * as secrets from './secrets.js';

/** The settings of a registry created without `--region` / `--endpoint-domain`. */
export const DEFAULT_SETTINGS: T.RegistrySettings = { region: 'us-east-1', endpointDomain: 'localhost' };

/** What every backend's opener takes; the region and endpoint domain apply only when the registry is created. */
export interface RegistryOptions {
  region?: string;
  endpointDomain?: string;
  /**
   * The operator's master key (`--master-key-file`). Given, the registry's secrets are
   * encrypted with it, a clear registry being sealed in place when it is opened; absent,
   * a sealed registry refuses every call that needs a secret (SECRETS_LOCKED).
   */
  masterKey?: MasterKey;
}

/** The installation settings are fixed when the registry is created: each is stored only if absent, then read back. */
async function fixSettings(tx: Queries, options: RegistryOptions): Promise<T.RegistrySettings> {
  const value = async (key: string, asked: string): Promise<string> => {
    await tx.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, asked]);
    return (await tx.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))?.value ?? '';
  };
  const region = await value('region', options.region ?? DEFAULT_SETTINGS.region);
  return Object.freeze({
    region,
    endpointDomain: await value('endpoint_domain', options.endpointDomain ?? DEFAULT_SETTINGS.endpointDomain),
  });
}

export class StoreRegistry implements T.Registry {
  #ctx: Ctx | undefined;
  readonly #opening: Promise<Ctx>;

  /** `prepared` resolves once the store's schema is migrated; `describe` turns an opening failure into the error callers see. */
  constructor(
    protected readonly store: Store,
    options: RegistryOptions,
    prepared: Promise<void> = Promise.resolve(),
    describe: (error: unknown) => unknown = (error) => error,
  ) {
    this.#opening = prepared
      .then(() => store.transaction((tx) => fixSettings(tx, options)))
      .then(async (settings) => {
        this.opened(settings);
        const ctx = { store, settings, masterKey: options.masterKey };
        // With a key, seal what is still clear (a registry from before sealing) in place.
        if (options.masterKey !== undefined) await secrets.rewriteSecrets(ctx, sealingRewrite(options.masterKey));
        this.#ctx = ctx;
        return ctx;
      })
      .catch((error: unknown) => {
        throw describe(error);
      });
    // The failure is reported by every later call; do not also raise an unhandled rejection.
    this.#opening.catch(() => undefined);
  }

  /** Called once the settings are known (a backend's synchronous reads need them). */
  protected opened(_settings: T.RegistrySettings): void {}

  /** The rules' context once the registry is open. */
  protected ctx(): Ctx | Promise<Ctx> {
    return this.#ctx ?? this.#opening;
  }

  /**
   * Called with the result of each committed write that can turn an allow into a deny:
   * a status other than ACTIVE, a deletion, a transfer started or accepted, a thing
   * detached, a CA updated or deleted, a CRL put or deleted, a custom domain removed, the
   * client-id binding changed. The call returns what this returns. Here the result
   * itself: every decision reads the store. A backend whose sidecars decide from views
   * waits here until they have applied the write (postgres/registry.ts).
   */
  protected lowered<R>(result: R): R | Promise<R> {
    return result;
  }

  async settings(): Promise<T.RegistrySettings> {
    return (await this.ctx()).settings;
  }

  async close(): Promise<void> {
    await this.#opening.catch(() => undefined);
  }

  // ---- Reads the authorizer makes (a backend may answer them faster) ----

  async accountForHost(host: string): Promise<T.Account | null> {
    return accounts.accountForHost(await this.ctx(), host);
  }
  async getCertificate(accountId: string, certificateId: string): Promise<T.CertificateRecord | null> {
    const row = await (
      await this.ctx()
    ).store.get<CertificateRow>('SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ?', [accountId, certificateId]);
    return row ? certificateFromRow(row) : null;
  }
  /** Status, mode, CA and thing names in one statement, so they come from one snapshot. */
  async getCertificateStanding(accountId: string, certificateId: string): Promise<T.CertificateStanding | null> {
    const ctx = await this.ctx();
    const things = ctx.store.dialect.listOf(
      'thing_name',
      'SELECT thing_name FROM thing_principals WHERE account_id = ? AND principal = ? ORDER BY thing_name',
    );
    const row = await ctx.store.get<StandingRow & { things: unknown }>(
      `SELECT status, certificate_mode, ca_certificate_id, ${things} AS things FROM certificates WHERE account_id = ? AND certificate_id = ?`,
      [accountId, arnOf(ctx, accountId, certificateId), accountId, certificateId],
    );
    return row === undefined ? null : standingFromRow(accountId, certificateId, row, ctx.store.dialect.list(row.things));
  }
  async findCertificateRegistrations(certificateId: string): Promise<T.CertificateRecord[]> {
    const rows = await (
      await this.ctx()
    ).store.all<CertificateRow>('SELECT * FROM certificates WHERE certificate_id = ? ORDER BY account_id', [certificateId]);
    return rows.map(certificateFromRow);
  }
  async getCaCertificate(accountId: string, caCertificateId: string): Promise<T.CaCertificateRecord | null> {
    const row = await (
      await this.ctx()
    ).store.get<CaCertificateRow>('SELECT * FROM ca_certificates WHERE account_id = ? AND certificate_id = ?', [
      accountId,
      caCertificateId,
    ]);
    return row ? caCertificateFromRow(row) : null;
  }
  async getCaCrlMeta(accountId: string, caCertificateId: string): Promise<T.CaCrlMeta | null> {
    return cas.getCaCrlMeta((await this.ctx()).store, accountId, caCertificateId);
  }

  // ---- JITR and events ----

  async registerPendingActivation(
    accountId: string,
    facts: T.CertificateFacts,
    caCertificateId: string,
    mode: T.CertificateMode,
  ): Promise<T.PendingActivationResult> {
    return certs.registerPendingActivation(await this.ctx(), accountId, facts, caCertificateId, mode);
  }
  async appendEvent(accountId: string, topic: string, payload: Record<string, unknown>): Promise<T.RegistryEvent> {
    return accounts.appendEvent(await this.ctx(), accountId, topic, payload);
  }
  async listEvents(accountId: string, afterSequence: number, limit: number): Promise<T.RegistryEvent[]> {
    return accounts.listEvents(await this.ctx(), accountId, afterSequence, limit);
  }

  // ---- Accounts, access keys, audit, domains, registration codes ----

  async createAccount(account: { accountId: string; endpointPrefix: string }): Promise<T.Account> {
    return accounts.createAccount(await this.ctx(), account);
  }
  async getAccount(accountId: string): Promise<T.Account | null> {
    return accounts.getAccount(await this.ctx(), accountId);
  }
  async listAccounts(): Promise<T.Account[]> {
    return accounts.listAccounts(await this.ctx());
  }
  async listChanges(accountId: string | null, after: number, limit: number): Promise<T.ChangeRecord[]> {
    return accounts.listChanges(await this.ctx(), accountId, after, limit);
  }
  async setAccountSettings(accountId: string, settings: T.AccountSettings): Promise<T.Account> {
    return this.lowered(await accounts.setAccountSettings(await this.ctx(), accountId, settings));
  }
  async addCredential(credential: T.NewCredential, audit?: T.NewAuditEntry): Promise<void> {
    return accounts.addCredential(await this.ctx(), credential, audit);
  }
  async getCredential(accessKeyId: string): Promise<T.Credential | null> {
    return accounts.getCredential(await this.ctx(), accessKeyId);
  }
  async listCredentials(accountId: string): Promise<T.Credential[]> {
    return accounts.listCredentials(await this.ctx(), accountId);
  }
  async updateCredentialStatus(
    accountId: string,
    accessKeyId: string,
    status: T.AccessKeyStatus,
    audit?: T.NewAuditEntry,
  ): Promise<T.Credential> {
    return accounts.updateCredentialStatus(await this.ctx(), accountId, accessKeyId, status, audit);
  }
  async deleteCredential(accountId: string, accessKeyId: string, audit?: T.NewAuditEntry): Promise<void> {
    return accounts.deleteCredential(await this.ctx(), accountId, accessKeyId, audit);
  }
  async appendAudit(entry: T.NewAuditEntry): Promise<T.AuditEntry> {
    return accounts.appendAudit(await this.ctx(), entry);
  }
  async listAudit(accountId: string, afterSequence: number, limit: number): Promise<T.AuditEntry[]> {
    return accounts.listAudit(await this.ctx(), accountId, afterSequence, limit);
  }
  async addDomain(accountId: string, domainName: string): Promise<void> {
    return accounts.addDomain(await this.ctx(), accountId, domainName);
  }
  async removeDomain(accountId: string, domainName: string): Promise<void> {
    return this.lowered(await accounts.removeDomain(await this.ctx(), accountId, domainName));
  }
  async listDomains(accountId: string): Promise<string[]> {
    return accounts.listDomains(await this.ctx(), accountId);
  }
  async getOrCreateRegistrationCode(accountId: string, candidate: string): Promise<string> {
    return accounts.getOrCreateRegistrationCode(await this.ctx(), accountId, candidate);
  }
  async getRegistrationCode(accountId: string): Promise<string | null> {
    return accounts.getRegistrationCode(await this.ctx(), accountId);
  }
  async deleteRegistrationCode(accountId: string): Promise<void> {
    return accounts.deleteRegistrationCode(await this.ctx(), accountId);
  }

  // ---- Issuing CAs and secrets at rest ----

  async getIssuingCa(): Promise<T.IssuingCaRecord | null> {
    return secrets.issuingCa(await this.ctx(), null);
  }
  async ensureIssuingCa(candidate: T.IssuingCaRecord): Promise<T.IssuingCaRecord> {
    const ctx = await this.ctx();
    await ctx.store.transaction((tx) => secrets.putIssuingCa(ctx, tx, candidate, false));
    const stored = await secrets.issuingCa(ctx, null);
    if (!stored) throw new Error('the issuing CA vanished after being stored');
    return stored;
  }
  async importIssuingCa(record: T.IssuingCaRecord, accountId: string | null): Promise<void> {
    const ctx = await this.ctx();
    await ctx.store.transaction(async (tx) => {
      if (accountId === null) return secrets.putIssuingCa(ctx, tx, record, true);
      await accounts.requireAccount(tx, accountId);
      return secrets.putAccountIssuingCa(ctx, tx, record, accountId);
    });
  }
  async getAccountIssuingCa(accountId: string): Promise<T.IssuingCaRecord | null> {
    return secrets.issuingCa(await this.ctx(), accountId);
  }
  async secretsKeyId(): Promise<string | null> {
    return secrets.sealedWith((await this.ctx()).store);
  }
  async rewriteSecrets(plan: SecretRewrite): Promise<ResealReport> {
    return secrets.rewriteSecrets(await this.ctx(), plan);
  }

  // ---- CA certificates and CRLs ----

  async findCaCertificatesBySubject(accountId: string, subject: string): Promise<T.CaCertificateRecord[]> {
    return cas.findCaCertificatesBySubject(await this.ctx(), accountId, subject);
  }
  async insertCaCertificate(ca: T.NewCaCertificate): Promise<T.CaCertificateRecord> {
    return cas.insertCaCertificate(await this.ctx(), ca);
  }
  async updateCaCertificate(accountId: string, id: string, update: T.CaCertificateUpdate): Promise<T.CaCertificateRecord> {
    return this.lowered(await cas.updateCaCertificate(await this.ctx(), accountId, id, update));
  }
  async deleteCaCertificate(accountId: string, id: string): Promise<void> {
    return this.lowered(await cas.deleteCaCertificate(await this.ctx(), accountId, id));
  }
  async listCaCertificates(accountId: string, page: T.PageRequest, templateName?: string): Promise<T.Page<T.CaCertificateRecord>> {
    return cas.listCaCertificates(await this.ctx(), accountId, page, templateName);
  }
  async getCaCrl(accountId: string, caCertificateId: string): Promise<T.CaCrlRecord | null> {
    return cas.getCaCrl(await this.ctx(), accountId, caCertificateId);
  }
  async putCaCrl(crl: T.NewCaCrl, expectedCrlId: string | null): Promise<T.CaCrlMeta> {
    return this.lowered(await cas.putCaCrl(await this.ctx(), crl, expectedCrlId));
  }
  async deleteCaCrl(accountId: string, caCertificateId: string): Promise<void> {
    return this.lowered(await cas.deleteCaCrl(await this.ctx(), accountId, caCertificateId));
  }

  // ---- Device certificates and transfers ----

  async insertCertificate(cert: T.NewCertificate): Promise<T.CertificateRecord> {
    return certs.insertCertificate(await this.ctx(), cert);
  }
  async insertCertificates(batch: readonly T.NewCertificate[]): Promise<T.BulkInsertResult[]> {
    return certs.insertCertificates(await this.ctx(), batch);
  }
  async setCertificateStatus(
    accountId: string,
    id: string,
    to: T.CertificateStatus,
    allowedFrom: readonly T.CertificateStatus[],
  ): Promise<T.CertificateRecord> {
    const record = await certs.setCertificateStatus(await this.ctx(), accountId, id, to, allowedFrom);
    return to === 'ACTIVE' ? record : this.lowered(record);
  }
  async deleteCertificate(accountId: string, id: string, allowedFrom: readonly T.CertificateStatus[], force: boolean): Promise<void> {
    return this.lowered(await certs.deleteCertificate(await this.ctx(), accountId, id, allowedFrom, force));
  }
  async listCertificates(accountId: string, page: T.PageRequest, caCertificateId?: string): Promise<T.Page<T.CertificateRecord>> {
    return certs.listCertificates(await this.ctx(), accountId, page, caCertificateId);
  }
  async getCertificateVisibleTo(accountId: string, id: string): Promise<T.CertificateRecord | null> {
    return certs.getCertificateVisibleTo(await this.ctx(), accountId, id);
  }
  async startTransfer(accountId: string, id: string, target: string, message: string | null): Promise<T.CertificateRecord> {
    return this.lowered(await certs.startTransfer(await this.ctx(), accountId, id, target, message));
  }
  async acceptTransfer(accountId: string, id: string, setAsActive: boolean): Promise<T.CertificateRecord> {
    return this.lowered(await certs.acceptTransfer(await this.ctx(), accountId, id, setAsActive));
  }
  async rejectTransfer(accountId: string, id: string, reason: string | null): Promise<T.CertificateRecord> {
    return certs.rejectTransfer(await this.ctx(), accountId, id, reason);
  }
  async cancelTransfer(accountId: string, id: string): Promise<T.CertificateRecord> {
    return certs.cancelTransfer(await this.ctx(), accountId, id);
  }
  async listOutgoingTransfers(accountId: string, page: T.PageRequest): Promise<T.Page<T.OutgoingTransfer>> {
    return certs.listOutgoingTransfers(await this.ctx(), accountId, page);
  }

  // ---- Things and policies ----

  async attachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void> {
    return attachments.attachThingPrincipal(await this.ctx(), accountId, thingName, principal);
  }
  async detachThingPrincipal(accountId: string, thingName: string, principal: string): Promise<void> {
    return this.lowered(await attachments.detachThingPrincipal(await this.ctx(), accountId, thingName, principal));
  }
  async listPrincipalThings(accountId: string, principal: string): Promise<string[]> {
    return attachments.listPrincipalThings(await this.ctx(), accountId, principal);
  }
  async createPolicy(accountId: string, policyName: string, policyDocument: string): Promise<T.PolicyRecord> {
    return attachments.createPolicy(await this.ctx(), accountId, policyName, policyDocument);
  }
  async getPolicy(accountId: string, policyName: string): Promise<T.PolicyRecord | null> {
    return attachments.getPolicy(await this.ctx(), accountId, policyName);
  }
  async deletePolicy(accountId: string, policyName: string): Promise<void> {
    return attachments.deletePolicy(await this.ctx(), accountId, policyName);
  }
  async listPolicies(accountId: string): Promise<T.PolicyRecord[]> {
    return attachments.listPolicies(await this.ctx(), accountId);
  }
  async attachPolicy(accountId: string, policyName: string, target: string): Promise<void> {
    return attachments.attachPolicy(await this.ctx(), accountId, policyName, target);
  }
  async detachPolicy(accountId: string, policyName: string, target: string): Promise<void> {
    return attachments.detachPolicy(await this.ctx(), accountId, policyName, target);
  }
  async listAttachedPolicies(accountId: string, target: string): Promise<T.PolicyRecord[]> {
    return attachments.listAttachedPolicies(await this.ctx(), accountId, target);
  }
  async listPolicyTargets(accountId: string, policyName: string): Promise<string[]> {
    return attachments.listPolicyTargets(await this.ctx(), accountId, policyName);
  }
}
