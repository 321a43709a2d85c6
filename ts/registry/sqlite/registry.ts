/**
 * The SQLite registry: one file shared by every `certgate serve` process and the CLI.
 * Each method runs synchronously inside its promise; writes commit (fsync'd WAL) before
 * the promise resolves, so the next read in any process sees them.
 */
import {
  RegistryError,
  type Account,
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
import * as crls from './crls.js';
import * as certs from './certificates.js';
import { Sqlite } from './database.js';
import { accountFromRow, caCertificateFromRow, certificateFromRow, standingFromRow, type AccountRow, type CaCertificateRow, type CertificateRow, type StandingRow } from './rows.js';
import { Attachments } from './attachments.js';
import { CommittedReads } from './committedReads.js';
import { certificateArn } from '../arn.js';

/** Options for `openSqliteRegistry`. Settings apply only when the file is created. */
export interface SqliteRegistryOptions {
  path: string;
  region?: string;
  endpointDomain?: string;
  /**
   * Check "nothing committed since" through the mapped wal-index header (default true
   * when the native addon is built); false asks SQLite on every read. Both are exact.
   */
  watchWalIndex?: boolean;
}

export const DEFAULT_SETTINGS: RegistrySettings = { region: 'us-east-1', endpointDomain: 'localhost' };

/** Open (creating and migrating if needed) the SQLite registry at `options.path`. */
export function openSqliteRegistry(options: SqliteRegistryOptions): SqliteRegistry {
  return new SqliteRegistry(options);
}

export class SqliteRegistry extends Attachments implements Registry {
  private readonly fixed: RegistrySettings;
  /** The authorizer's certificate reads, reused while nothing was committed (committedReads.ts). */
  private readonly reads: CommittedReads;

  constructor(options: SqliteRegistryOptions) {
    const sqlite = new Sqlite(options.path);
    super(sqlite);
    this.reads = new CommittedReads(sqlite.db, undefined, { useWalIndex: options.watchWalIndex !== false });
    sqlite.write(() => {
      const insert = 'INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)';
      sqlite.run(insert, 'region', options.region ?? DEFAULT_SETTINGS.region);
      sqlite.run(insert, 'endpoint_domain', options.endpointDomain ?? DEFAULT_SETTINGS.endpointDomain);
    });
    const value = (key: string): string => sqlite.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value ?? '';
    this.fixed = Object.freeze({ region: value('region'), endpointDomain: value('endpoint_domain') });
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

  // ---- RegistryReader (the authorizer's hot path) ----

  async accountForHost(host: string): Promise<Account | null> {
    return this.accountForHostSync(host);
  }

  accountForHostSync(host: string): Account | null {
    const custom = this.sqlite.get<AccountRow>(
      'SELECT a.* FROM domains d JOIN accounts a ON a.account_id = d.account_id WHERE d.domain_name = ?',
      host,
    );
    if (custom) return accountFromRow(custom);
    const suffix = `.iot.${this.fixed.region}.${this.fixed.endpointDomain}`;
    if (!host.endsWith(suffix)) return null;
    const label = host.slice(0, host.length - suffix.length);
    if (label.includes('.')) return null;
    const prefix = label.endsWith('-ats') ? label.slice(0, -4) : label;
    const row = this.sqlite.get<AccountRow>('SELECT * FROM accounts WHERE endpoint_prefix = ?', prefix);
    return row ? accountFromRow(row) : null;
  }

  async getCertificate(accountId: string, certificateId: string): Promise<CertificateRecord | null> {
    return this.reads.get(`get\0${accountId}\0${certificateId}`, () => {
      const row = this.sqlite.get<CertificateRow>(
        'SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ?',
        accountId,
        certificateId,
      );
      return row ? certificateFromRow(row) : null;
    });
  }

  async getCertificateStanding(accountId: string, certificateId: string): Promise<CertificateStanding | null> {
    return this.getCertificateStandingSync(accountId, certificateId);
  }

  getCertificateStandingSync(accountId: string, certificateId: string): CertificateStanding | null {
    return this.reads.get(`standing\0${accountId}\0${certificateId}`, () => {
      // One statement for both (each statement is a WAL read transaction of its own);
      // only the columns a decision reads, not the PEM.
      const row = this.sqlite.get<StandingRow & { things: string | null }>(
        `SELECT status, certificate_mode, ca_certificate_id,
           (SELECT group_concat(thing_name, ',' ORDER BY thing_name) FROM thing_principals WHERE account_id = @account AND principal = @principal) AS things
         FROM certificates WHERE account_id = @account AND certificate_id = @id`,
        { account: accountId, id: certificateId, principal: this.certificateArn(accountId, certificateId) },
      );
      if (row === undefined) return null;
      // AWS thing names are [a-zA-Z0-9:_-]+: a comma cannot be part of one.
      return standingFromRow(accountId, certificateId, row, row.things === null ? [] : row.things.split(','));
    });
  }

  async findCertificateRegistrations(certificateId: string): Promise<CertificateRecord[]> {
    return this.reads.get(`find\0${certificateId}`, () =>
      this.sqlite
        .all<CertificateRow>('SELECT * FROM certificates WHERE certificate_id = ? ORDER BY account_id', certificateId)
        .map(certificateFromRow),
    );
  }

  async getCaCertificate(accountId: string, caCertificateId: string): Promise<CaCertificateRecord | null> {
    return this.getCaCertificateSync(accountId, caCertificateId);
  }

  getCaCertificateSync(accountId: string, caCertificateId: string): CaCertificateRecord | null {
    const row = this.sqlite.get<CaCertificateRow>(
      'SELECT * FROM ca_certificates WHERE account_id = ? AND certificate_id = ?',
      accountId,
      caCertificateId,
    );
    return row ? caCertificateFromRow(row) : null;
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

  async addCredential(credential: Credential): Promise<void> {
    this.sqlite.write(() => {
      this.requireAccount(credential.accountId);
      if (this.sqlite.get('SELECT 1 FROM credentials WHERE access_key_id = ?', credential.accessKeyId)) {
        throw new RegistryError('ALREADY_EXISTS', `Access key ${credential.accessKeyId} already exists.`, credential.accessKeyId);
      }
      this.sqlite.run(
        'INSERT INTO credentials (access_key_id, secret_access_key, account_id) VALUES (?, ?, ?)',
        credential.accessKeyId,
        credential.secretAccessKey,
        credential.accountId,
      );
    });
  }

  async getCredential(accessKeyId: string): Promise<Credential | null> {
    const row = this.sqlite.get<{ access_key_id: string; secret_access_key: string; account_id: string }>(
      'SELECT * FROM credentials WHERE access_key_id = ?',
      accessKeyId,
    );
    return row ? { accessKeyId: row.access_key_id, secretAccessKey: row.secret_access_key, accountId: row.account_id } : null;
  }

  async listCredentials(accountId: string): Promise<Credential[]> {
    return this.sqlite
      .all<{ access_key_id: string; secret_access_key: string; account_id: string }>(
        'SELECT * FROM credentials WHERE account_id = ? ORDER BY access_key_id',
        accountId,
      )
      .map((row) => ({ accessKeyId: row.access_key_id, secretAccessKey: row.secret_access_key, accountId: row.account_id }));
  }

  async addDomain(accountId: string, domainName: string): Promise<void> {
    this.sqlite.write(() => {
      this.requireAccount(accountId);
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
    return row ? { certificatePem: row.certificate_pem, privateKeyPem: row.private_key_pem, createdAt: row.created_at } : null;
  }

  async ensureIssuingCa(candidate: IssuingCaRecord): Promise<IssuingCaRecord> {
    this.sqlite.run(
      'INSERT OR IGNORE INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, ?, ?, ?)',
      candidate.certificatePem,
      candidate.privateKeyPem,
      candidate.createdAt,
    );
    const stored = await this.getIssuingCa();
    if (!stored) throw new Error('the issuing CA vanished after being stored');
    return stored;
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
    return crls.getCaCrlMeta(this.ctx, accountId, caCertificateId);
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
