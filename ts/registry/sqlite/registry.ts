/**
 * The SQLite registry: one file shared by every `certgate serve` process and the CLI.
 * Each method runs synchronously inside its promise; writes commit (fsync'd WAL) before
 * the promise resolves, so the next read in any process sees them.
 */
import {
  RegistryError,
  type Account,
  type AccountSettings,
  type ChangeRecord,
  type CaCertificateRecord,
  type CaCertificateUpdate,
  type CaCrlMeta,
  type CaCrlRecord,
  type NewCaCrl,
  type CertificateFacts,
  type CertificateMode,
  type CertificateRecord,
  type CertificateStanding,
  type CertificateStatus,
  type Credential,
  type IssuingCaRecord,
  type NewCaCertificate,
  type NewCertificate,
  type OutgoingTransfer,
  type Page,
  type PageRequest,
  type PendingActivationResult,
  type Registry,
  type RegistryEvent,
  type RegistrySettings,
} from '../types.js';
import * as cas from './cas.js';
// branch keys: access keys and the audit log.
import type { AccessKeyStatus, AuditEntry, BulkInsertResult, NewAuditEntry, NewCredential } from '../types.js';
import { reservedDomain } from '../rules.js';
import { binding, sealingRewrite, secretBox, type MasterKey, type ResealReport, type SecretBox, type SecretRewrite } from '../secrets.js';
import { auditFromRow, credentialFromRow, type AuditRow, type CredentialRow } from './rows.js';
import { lastFullKey } from '../keys.js';
import * as crls from './crls.js';
import * as certs from './certificates.js';
import { Sqlite } from './database.js';
import { changeFromRow, type ChangeRow } from './rows.js';
import { accountFromRow, caCertificateFromRow, certificateFromRow, type AccountRow, type CaCertificateRow, type CertificateRow } from './rows.js';
import { Attachments } from './attachments.js';
import { SqliteReads } from './reads.js';
import { certificateArn } from '../arn.js';

/** Options for `openSqliteRegistry`. Settings apply only when the file is created. */
export interface SqliteRegistryOptions {
  path: string;
  region?: string;
  endpointDomain?: string;
  /**
   * With the fast path on, also check "nothing committed since" through the wal-index
   * header mapped by the native addon (ts/fastpath/walIndex.ts). Default false: the
   * registry never loads the addon by itself; `certgate serve` asks for it only with
   * `--engine native`, which loads the addon anyway. Both ways are exact.
   */
  watchWalIndex?: boolean;
  /**
   * The warm-path machinery (ts/fastpath/; `--no-fast-path` turns it off): certificate
   * reads reused while nothing was committed. Default true; false reads every time.
   */
  fastPath?: boolean;
  /**
   * The operator's master key (`--master-key-file`). Given, the registry's secrets are
   * encrypted with it, a clear registry being sealed in place when it is opened; absent,
   * a sealed registry refuses every call that needs a secret (SECRETS_LOCKED).
   */
  masterKey?: MasterKey;
}

export const DEFAULT_SETTINGS: RegistrySettings = { region: 'us-east-1', endpointDomain: 'localhost' };

/** Open (creating and migrating if needed) the SQLite registry at `options.path`. */
export function openSqliteRegistry(options: SqliteRegistryOptions): SqliteRegistry {
  return new SqliteRegistry(options);
}

export class SqliteRegistry extends Attachments implements Registry {
  private readonly fixed: RegistrySettings;
  /** The authorizer's reads (reads.ts). */
  private readonly reads: SqliteReads;
  private readonly masterKey: MasterKey | undefined;

  constructor(options: SqliteRegistryOptions) {
    const sqlite = new Sqlite(options.path);
    super(sqlite);
    sqlite.write(() => {
      const insert = 'INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)';
      sqlite.run(insert, 'region', options.region ?? DEFAULT_SETTINGS.region);
      sqlite.run(insert, 'endpoint_domain', options.endpointDomain ?? DEFAULT_SETTINGS.endpointDomain);
    });
    const value = (key: string): string => sqlite.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value ?? '';
    this.fixed = Object.freeze({ region: value('region'), endpointDomain: value('endpoint_domain') });
    this.reads = new SqliteReads(sqlite, this.fixed, { fastPath: options.fastPath, watchWalIndex: options.watchWalIndex });
    this.masterKey = options.masterKey;
    // With a key, seal what is still clear (a registry from before sealing) in place.
    if (options.masterKey !== undefined) {
      try {
        this.rewriteSecretsSync(sealingRewrite(options.masterKey));
      } catch (err) {
        this.reads.close();
        sqlite.close();
        throw err;
      }
    }
  }

  /** The secret box for the registry's sealing state as of now (call inside the transaction that uses it). */
  private box(): SecretBox {
    const row = this.sqlite.get<{ key_id: string }>('SELECT key_id FROM secrets_sealing WHERE id = 1');
    return secretBox(this.masterKey, row?.key_id ?? null);
  }

  /** Whether certificate reads are checked through the mapped wal-index header. */
  get watchesWalIndex(): boolean {
    return this.reads.watchesWalIndex;
  }

  private get ctx(): certs.StoreContext {
    return {
      sqlite: this.sqlite,
      now: () => Date.now() / 1000,
      certificateArn: (accountId, certificateId) => this.certificateArn(accountId, certificateId),
    };
  }

  protected certificateArn(accountId: string, certificateId: string): string {
    return certificateArn(this.fixed.region, accountId, certificateId);
  }

  async settings(): Promise<RegistrySettings> {
    return this.fixed;
  }

  async close(): Promise<void> {
    this.reads.close();
    this.sqlite.close();
  }

  // ---- RegistryReader (the authorizer's hot path): answered by reads.ts ----

  async accountForHost(host: string): Promise<Account | null> {
    return this.reads.accountForHost(host);
  }
  accountForHostSync(host: string): Account | null {
    return this.reads.accountForHost(host);
  }
  async getCertificate(accountId: string, certificateId: string): Promise<CertificateRecord | null> {
    return this.reads.certificate(accountId, certificateId);
  }
  async getCertificateStanding(accountId: string, certificateId: string): Promise<CertificateStanding | null> {
    return this.reads.certificateStanding(accountId, certificateId);
  }
  getCertificateStandingSync(accountId: string, certificateId: string): CertificateStanding | null {
    return this.reads.certificateStanding(accountId, certificateId);
  }
  async findCertificateRegistrations(certificateId: string): Promise<CertificateRecord[]> {
    return this.reads.certificateRegistrations(certificateId);
  }
  async getCaCertificate(accountId: string, caCertificateId: string): Promise<CaCertificateRecord | null> {
    return this.reads.caCertificate(accountId, caCertificateId);
  }
  getCaCertificateSync(accountId: string, caCertificateId: string): CaCertificateRecord | null {
    return this.reads.caCertificate(accountId, caCertificateId);
  }

  async findCaCertificatesBySubject(accountId: string, subject: string): Promise<CaCertificateRecord[]> {
    return this.sqlite
      .all<CaCertificateRow>(
        'SELECT * FROM ca_certificates WHERE account_id = ? AND subject = ? ORDER BY creation_date, certificate_id',
        accountId,
        subject,
      )
      .map(caCertificateFromRow);
  }

  // ---- JITR and events ----

  async registerPendingActivation(
    accountId: string,
    facts: CertificateFacts,
    caCertificateId: string,
    mode: CertificateMode,
  ): Promise<PendingActivationResult> {
    return this.sqlite.write(() => {
      const existing = this.sqlite.get<CertificateRow>(
        'SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ?',
        accountId,
        facts.certificateId,
      );
      if (existing) return { record: certificateFromRow(existing), created: false };
      // JITR obeys the same multi-account rule as every other registration path.
      certs.checkRegistration(this.ctx, accountId, mode, facts.certificateId);
      const record = certs.insertRow(this.ctx, {
        ...facts,
        accountId,
        status: 'PENDING_ACTIVATION',
        certificateMode: mode,
        caCertificateId,
      });
      return { record, created: true };
    });
  }

  async appendEvent(accountId: string, topic: string, payload: Record<string, unknown>): Promise<RegistryEvent> {
    const createdAt = Date.now() / 1000;
    const result = this.sqlite.run(
      'INSERT INTO events (account_id, topic, payload, created_at) VALUES (?, ?, ?, ?)',
      accountId,
      topic,
      JSON.stringify(payload),
      createdAt,
    );
    return { sequence: Number(result.lastInsertRowid), accountId, topic, payload, createdAt };
  }

  async listEvents(accountId: string, afterSequence: number, limit: number): Promise<RegistryEvent[]> {
    const rows = this.sqlite.all<{ sequence: number; account_id: string; topic: string; payload: string; created_at: number }>(
      'SELECT * FROM events WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?',
      accountId,
      afterSequence,
      limit,
    );
    return rows.map((r) => ({
      sequence: r.sequence,
      accountId: r.account_id,
      topic: r.topic,
      payload: JSON.parse(r.payload) as Record<string, unknown>,
      createdAt: r.created_at,
    }));
  }

  // ---- Accounts, credentials, domains ----

  async createAccount(account: { accountId: string; endpointPrefix: string }): Promise<Account> {
    return this.sqlite.write(() => {
      if (this.sqlite.get('SELECT 1 FROM accounts WHERE account_id = ?', account.accountId)) {
        throw new RegistryError('ALREADY_EXISTS', `Account ${account.accountId} already exists.`, account.accountId);
      }
      if (this.sqlite.get('SELECT 1 FROM accounts WHERE endpoint_prefix = ?', account.endpointPrefix)) {
        throw new RegistryError('ALREADY_EXISTS', `Endpoint prefix ${account.endpointPrefix} is taken.`, account.endpointPrefix);
      }
      this.sqlite.run(
        'INSERT INTO accounts (account_id, endpoint_prefix, created_at) VALUES (?, ?, ?)',
        account.accountId,
        account.endpointPrefix,
        Date.now() / 1000,
      );
      const row = this.sqlite.get<AccountRow>('SELECT * FROM accounts WHERE account_id = ?', account.accountId);
      if (!row) throw new Error('account vanished inside its transaction');
      return accountFromRow(row);
    });
  }

  async getAccount(accountId: string): Promise<Account | null> {
    const row = this.sqlite.get<AccountRow>('SELECT * FROM accounts WHERE account_id = ?', accountId);
    return row ? accountFromRow(row) : null;
  }

  async listAccounts(): Promise<Account[]> {
    return this.sqlite.all<AccountRow>('SELECT * FROM accounts ORDER BY account_id').map(accountFromRow);
  }

  async listChanges(accountId: string | null, after: number, limit: number): Promise<ChangeRecord[]> {
    const rows =
      accountId === null
        ? this.sqlite.all<ChangeRow>('SELECT * FROM change_log WHERE sequence > ? ORDER BY sequence LIMIT ?', after, limit)
        : this.sqlite.all<ChangeRow>('SELECT * FROM change_log WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?', accountId, after, limit);
    return rows.map(changeFromRow);
  }

  async setAccountSettings(accountId: string, settings: AccountSettings): Promise<Account> {
    return this.sqlite.write(() => {
      this.requireAccount(accountId);
      this.sqlite.run('UPDATE accounts SET bind_client_id_to_thing = ? WHERE account_id = ?', settings.bindClientIdToThing ? 1 : 0, accountId);
      const row = this.sqlite.get<AccountRow>('SELECT * FROM accounts WHERE account_id = ?', accountId);
      if (!row) throw new Error('account vanished inside its transaction');
      return accountFromRow(row);
    });
  }

  async addCredential(credential: NewCredential, audit?: NewAuditEntry): Promise<void> {
    this.sqlite.write(() => {
      this.requireAccount(credential.accountId);
      if (this.sqlite.get('SELECT 1 FROM credentials WHERE access_key_id = ?', credential.accessKeyId)) {
        throw new RegistryError('ALREADY_EXISTS', `Access key ${credential.accessKeyId} already exists.`, credential.accessKeyId);
      }
      this.sqlite.run(
        'INSERT INTO credentials (access_key_id, secret_access_key, account_id, scope, status, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        credential.accessKeyId,
        this.box().store(credential.secretAccessKey, binding.credential(credential.accessKeyId)),
        credential.accountId,
        credential.scope ?? 'FULL',
        'ACTIVE',
        Date.now() / 1000,
      );
      if (audit) this.insertAudit(audit);
    });
  }

  async getCredential(accessKeyId: string): Promise<Credential | null> {
    const row = this.sqlite.get<CredentialRow>('SELECT * FROM credentials WHERE access_key_id = ?', accessKeyId);
    return row ? this.credentialFromRow(row, this.box()) : null;
  }

  async listCredentials(accountId: string): Promise<Credential[]> {
    const box = this.box();
    return this.sqlite
      .all<CredentialRow>('SELECT * FROM credentials WHERE account_id = ? ORDER BY access_key_id', accountId)
      .map((row) => this.credentialFromRow(row, box));
  }

  /** A stored key with its secret opened (secrets at rest: ../secrets.ts). */
  private credentialFromRow(row: CredentialRow, box: SecretBox): Credential {
    return { ...credentialFromRow(row), secretAccessKey: box.read(row.secret_access_key, binding.credential(row.access_key_id)) };
  }

  async addDomain(accountId: string, domainName: string): Promise<void> {
    this.sqlite.write(() => {
      this.requireAccount(accountId);
      const reserved = reservedDomain(domainName, this.fixed);
      if (reserved) throw reserved;
      if (this.sqlite.get('SELECT 1 FROM domains WHERE domain_name = ?', domainName)) {
        throw new RegistryError('ALREADY_EXISTS', `The domain ${domainName} is already attached to an account.`, domainName);
      }
      this.sqlite.run('INSERT INTO domains (domain_name, account_id) VALUES (?, ?)', domainName, accountId);
    });
  }

  async removeDomain(accountId: string, domainName: string): Promise<void> {
    const result = this.sqlite.run('DELETE FROM domains WHERE account_id = ? AND domain_name = ?', accountId, domainName);
    if (result.changes === 0) {
      throw new RegistryError('NOT_FOUND', `The domain ${domainName} is not attached to account ${accountId}.`);
    }
  }

  async listDomains(accountId: string): Promise<string[]> {
    return this.sqlite
      .all<{ domain_name: string }>('SELECT domain_name FROM domains WHERE account_id = ? ORDER BY domain_name', accountId)
      .map((r) => r.domain_name);
  }

  private requireAccount(accountId: string): void {
    if (!this.sqlite.get('SELECT 1 FROM accounts WHERE account_id = ?', accountId)) {
      throw new RegistryError('NOT_FOUND', `Account ${accountId} does not exist.`);
    }
  }

  // ---- Access keys (branch keys) ----

  async updateCredentialStatus(accountId: string, accessKeyId: string, status: AccessKeyStatus, audit?: NewAuditEntry): Promise<Credential> {
    return this.sqlite.write(() => {
      this.keepOneFullKey(accountId, accessKeyId, status === 'INACTIVE');
      this.sqlite.run('UPDATE credentials SET status = ? WHERE account_id = ? AND access_key_id = ?', status, accountId, accessKeyId);
      if (audit) this.insertAudit(audit);
      const row = this.sqlite.get<CredentialRow>('SELECT * FROM credentials WHERE access_key_id = ?', accessKeyId);
      if (!row) throw new Error('access key vanished inside its transaction');
      return this.credentialFromRow(row, this.box());
    });
  }

  async deleteCredential(accountId: string, accessKeyId: string, audit?: NewAuditEntry): Promise<void> {
    this.sqlite.write(() => {
      this.keepOneFullKey(accountId, accessKeyId, true);
      this.sqlite.run('DELETE FROM credentials WHERE account_id = ? AND access_key_id = ?', accountId, accessKeyId);
      if (audit) this.insertAudit(audit);
    });
  }

  /** Inside a write: NOT_FOUND unless the account holds the key; LAST_FULL_ACCESS_KEY if `removing` it would leave no ACTIVE FULL key. */
  private keepOneFullKey(accountId: string, accessKeyId: string, removing: boolean): void {
    const key = this.sqlite.get<CredentialRow>('SELECT * FROM credentials WHERE account_id = ? AND access_key_id = ?', accountId, accessKeyId);
    if (!key) throw new RegistryError('NOT_FOUND', `Access key ${accessKeyId} does not exist in account ${accountId}.`);
    if (!removing || key.scope !== 'FULL' || key.status !== 'ACTIVE') return;
    const others = this.sqlite.get<{ n: number }>(
      "SELECT count(*) AS n FROM credentials WHERE account_id = ? AND access_key_id <> ? AND scope = 'FULL' AND status = 'ACTIVE'",
      accountId,
      accessKeyId,
    );
    if ((others?.n ?? 0) === 0) throw lastFullKey(accountId, accessKeyId);
  }

  // ---- Audit log (branch keys) ----

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.insertAudit(entry);
  }

  /** Insert an audit row (inside the caller's transaction when there is one). */
  private insertAudit(entry: NewAuditEntry): AuditEntry {
    const time = Date.now() / 1000;
    const result = this.sqlite.run(
      'INSERT INTO audit_log (account_id, time, access_key_id, operation, resource, result, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
      entry.accountId,
      time,
      entry.accessKeyId,
      entry.operation,
      entry.resource,
      entry.result,
      entry.requestId,
    );
    return { sequence: Number(result.lastInsertRowid), time, ...entry };
  }

  async listAudit(accountId: string, afterSequence: number, limit: number): Promise<AuditEntry[]> {
    return this.sqlite
      .all<AuditRow>('SELECT * FROM audit_log WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?', accountId, afterSequence, limit)
      .map(auditFromRow);
  }

  // ---- Registration code ----

  async getOrCreateRegistrationCode(accountId: string, candidate: string): Promise<string> {
    return this.sqlite.write(() => {
      const row = this.sqlite.get<{ code: string }>('SELECT code FROM registration_codes WHERE account_id = ?', accountId);
      if (row) return row.code;
      this.sqlite.run('INSERT INTO registration_codes (account_id, code) VALUES (?, ?)', accountId, candidate);
      return candidate;
    });
  }

  async getRegistrationCode(accountId: string): Promise<string | null> {
    return this.sqlite.get<{ code: string }>('SELECT code FROM registration_codes WHERE account_id = ?', accountId)?.code ?? null;
  }

  async deleteRegistrationCode(accountId: string): Promise<void> {
    const result = this.sqlite.run('DELETE FROM registration_codes WHERE account_id = ?', accountId);
    if (result.changes === 0) throw new RegistryError('NOT_FOUND', 'The account has no registration code.');
  }

  // ---- Issuing CA ----

  async getIssuingCa(): Promise<IssuingCaRecord | null> {
    const row = this.sqlite.get<{ certificate_pem: string; private_key_pem: string; created_at: number }>(
      'SELECT * FROM issuing_ca WHERE id = 1',
    );
    if (!row) return null;
    const privateKeyPem = this.box().read(row.private_key_pem, binding.installationIssuingCa());
    return { certificatePem: row.certificate_pem, privateKeyPem, createdAt: row.created_at };
  }

  async ensureIssuingCa(candidate: IssuingCaRecord): Promise<IssuingCaRecord> {
    this.sqlite.write(() => {
      this.sqlite.run(
        'INSERT OR IGNORE INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, ?, ?, ?)',
        candidate.certificatePem,
        this.box().store(candidate.privateKeyPem, binding.installationIssuingCa()),
        candidate.createdAt,
      );
    });
    const stored = await this.getIssuingCa();
    if (!stored) throw new Error('the issuing CA vanished after being stored');
    return stored;
  }

  // ---- Imported issuing CAs ----

  async importIssuingCa(record: IssuingCaRecord, accountId: string | null): Promise<void> {
    this.sqlite.write(() => {
      if (accountId === null) {
        this.sqlite.run(
          'INSERT INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET certificate_pem = excluded.certificate_pem, private_key_pem = excluded.private_key_pem, created_at = excluded.created_at',
          record.certificatePem,
          this.box().store(record.privateKeyPem, binding.installationIssuingCa()),
          record.createdAt,
        );
        return;
      }
      this.requireAccount(accountId);
      this.sqlite.run(
        'INSERT INTO account_issuing_cas (account_id, certificate_pem, private_key_pem, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET certificate_pem = excluded.certificate_pem, private_key_pem = excluded.private_key_pem, created_at = excluded.created_at',
        accountId,
        record.certificatePem,
        this.box().store(record.privateKeyPem, binding.accountIssuingCa(accountId)),
        record.createdAt,
      );
    });
  }

  async getAccountIssuingCa(accountId: string): Promise<IssuingCaRecord | null> {
    const row = this.sqlite.get<{ certificate_pem: string; private_key_pem: string; created_at: number }>(
      'SELECT * FROM account_issuing_cas WHERE account_id = ?',
      accountId,
    );
    if (!row) return null;
    const privateKeyPem = this.box().read(row.private_key_pem, binding.accountIssuingCa(accountId));
    return { certificatePem: row.certificate_pem, privateKeyPem, createdAt: row.created_at };
  }

  // ---- Secrets at rest ----

  async secretsKeyId(): Promise<string | null> {
    return this.sqlite.get<{ key_id: string }>('SELECT key_id FROM secrets_sealing WHERE id = 1')?.key_id ?? null;
  }

  async rewriteSecrets(plan: SecretRewrite): Promise<ResealReport> {
    return this.rewriteSecretsSync(plan);
  }

  private rewriteSecretsSync(plan: SecretRewrite): ResealReport {
    // secure_delete zeroes the bytes of the replaced values in the file; the checkpoint
    // below then drops the WAL frames that still held them (complete when no other
    // process is reading at that moment; `certgate registry encrypt` on an idle registry).
    this.sqlite.db.pragma('secure_delete = ON');
    try {
      const report = this.rewriteInTransaction(plan);
      if (report.secrets > 0) this.sqlite.db.pragma('wal_checkpoint(TRUNCATE)');
      return report;
    } finally {
      this.sqlite.db.pragma('secure_delete = OFF');
    }
  }

  private rewriteInTransaction(plan: SecretRewrite): ResealReport {
    return this.sqlite.write(() => {
      const current = this.sqlite.get<{ key_id: string }>('SELECT key_id FROM secrets_sealing WHERE id = 1')?.key_id ?? null;
      plan.check(current);
      let secrets = 0;
      const rewrite = (stored: string, bind: string): string => {
        const next = plan.rewrite(stored, bind);
        if (next !== stored) secrets += 1;
        return next;
      };
      for (const row of this.sqlite.all<{ access_key_id: string; secret_access_key: string }>('SELECT access_key_id, secret_access_key FROM credentials')) {
        const next = rewrite(row.secret_access_key, binding.credential(row.access_key_id));
        if (next !== row.secret_access_key) this.sqlite.run('UPDATE credentials SET secret_access_key = ? WHERE access_key_id = ?', next, row.access_key_id);
      }
      const ca = this.sqlite.get<{ private_key_pem: string }>('SELECT private_key_pem FROM issuing_ca WHERE id = 1');
      if (ca) {
        const next = rewrite(ca.private_key_pem, binding.installationIssuingCa());
        if (next !== ca.private_key_pem) this.sqlite.run('UPDATE issuing_ca SET private_key_pem = ? WHERE id = 1', next);
      }
      for (const row of this.sqlite.all<{ account_id: string; private_key_pem: string }>('SELECT account_id, private_key_pem FROM account_issuing_cas')) {
        const next = rewrite(row.private_key_pem, binding.accountIssuingCa(row.account_id));
        if (next !== row.private_key_pem) this.sqlite.run('UPDATE account_issuing_cas SET private_key_pem = ? WHERE account_id = ?', next, row.account_id);
      }
      if (current !== plan.keyId || secrets > 0) {
        this.sqlite.run(
          'INSERT INTO secrets_sealing (id, key_id, sealed_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, sealed_at = excluded.sealed_at',
          plan.keyId,
          Date.now() / 1000,
        );
      }
      return { secrets, keyId: plan.keyId };
    });
  }

  // ---- CA and device certificates, transfers ----

  async insertCaCertificate(ca: NewCaCertificate): Promise<CaCertificateRecord> {
    return cas.insertCaCertificate(this.ctx, ca);
  }
  async updateCaCertificate(accountId: string, id: string, update: CaCertificateUpdate): Promise<CaCertificateRecord> {
    return cas.updateCaCertificate(this.ctx, accountId, id, update);
  }
  async deleteCaCertificate(accountId: string, id: string): Promise<void> {
    cas.deleteCaCertificate(this.ctx, accountId, id);
  }
  // Certificate revocation lists (branch crl).
  async getCaCrlMeta(accountId: string, caCertificateId: string): Promise<CaCrlMeta | null> {
    return crls.getCaCrlMeta(this.ctx, accountId, caCertificateId);
  }
  getCaCrlMetaSync(accountId: string, caCertificateId: string): CaCrlMeta | null {
    return this.reads.caCrlMeta(accountId, caCertificateId);
  }
  async getCaCrl(accountId: string, caCertificateId: string): Promise<CaCrlRecord | null> {
    return crls.getCaCrl(this.ctx, accountId, caCertificateId);
  }
  async putCaCrl(crl: NewCaCrl, expectedCrlId: string | null): Promise<CaCrlMeta> {
    return crls.putCaCrl(this.ctx, crl, expectedCrlId);
  }
  async deleteCaCrl(accountId: string, caCertificateId: string): Promise<void> {
    crls.deleteCaCrl(this.ctx, accountId, caCertificateId);
  }
  async listCaCertificates(accountId: string, page: PageRequest, templateName?: string): Promise<Page<CaCertificateRecord>> {
    return cas.listCaCertificates(this.ctx, accountId, page, templateName);
  }
  async insertCertificate(cert: NewCertificate): Promise<CertificateRecord> {
    return certs.insertCertificate(this.ctx, cert);
  }

  async insertCertificates(batch: readonly NewCertificate[]): Promise<BulkInsertResult[]> {
    return certs.insertCertificates(this.ctx, batch);
  }
  async setCertificateStatus(
    accountId: string,
    id: string,
    to: CertificateStatus,
    allowedFrom: readonly CertificateStatus[],
  ): Promise<CertificateRecord> {
    return certs.setCertificateStatus(this.ctx, accountId, id, to, allowedFrom);
  }
  async deleteCertificate(accountId: string, id: string, allowedFrom: readonly CertificateStatus[], force: boolean): Promise<void> {
    certs.deleteCertificate(this.ctx, accountId, id, allowedFrom, force);
  }
  async listCertificates(accountId: string, page: PageRequest, caCertificateId?: string): Promise<Page<CertificateRecord>> {
    return certs.listCertificates(this.ctx, accountId, page, caCertificateId);
  }
  async getCertificateVisibleTo(accountId: string, id: string): Promise<CertificateRecord | null> {
    return certs.getCertificateVisibleTo(this.ctx, accountId, id);
  }
  async startTransfer(accountId: string, id: string, target: string, message: string | null): Promise<CertificateRecord> {
    return certs.startTransfer(this.ctx, accountId, id, target, message);
  }
  async acceptTransfer(accountId: string, id: string, setAsActive: boolean): Promise<CertificateRecord> {
    return certs.acceptTransfer(this.ctx, accountId, id, setAsActive);
  }
  async rejectTransfer(accountId: string, id: string, reason: string | null): Promise<CertificateRecord> {
    return certs.rejectTransfer(this.ctx, accountId, id, reason);
  }
  async cancelTransfer(accountId: string, id: string): Promise<CertificateRecord> {
    return certs.cancelTransfer(this.ctx, accountId, id);
  }
  async listOutgoingTransfers(accountId: string, page: PageRequest): Promise<Page<OutgoingTransfer>> {
    return certs.listOutgoingTransfers(this.ctx, accountId, page);
  }
}
