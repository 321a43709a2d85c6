/**
 * The PostgreSQL registry: one database shared by every `certgate serve` process of
 * several sidecars on different hosts, and by the operator CLI. Reads are single
 * autocommit queries (READ COMMITTED: each sees every write committed before it
 * started); writes are serializable transactions committed with `synchronous_commit =
 * on` before the promise resolves (`database.ts`), so the next read in any process on
 * any host sees them. Records, errors, ordering and pagination markers are the SQLite
 * backend's, so the API answers the same whichever backend is behind it.
 *
 * Opening is synchronous (like SQLite's, so `openRegistry` keeps its signature): the
 * pool is created at once and the connection, migration and settings load run in the
 * background; every method waits for them, and an unreachable server or a failed
 * migration rejects every call with the same error (`settings()` is the natural first
 * call to surface it).
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
import { DEFAULT_SETTINGS } from '../sqlite/registry.js';
import { accountFromRow, caCertificateFromRow, certificateFromRow, standingFromRow, type AccountRow, type CaCertificateRow, type CertificateRow, type StandingRow } from '../sqlite/rows.js';
import { certificateArn } from '../arn.js';
import { Attachments } from './attachments.js';
import * as cas from './cas.js';
import * as crls from './crls.js';
import * as certs from './certificates.js';
import { DEFAULT_POOL_SIZE, Pg, redactConnectionString, type Queryable } from './database.js';
import { ADVISORY_LOCKS, migrate } from './schema.js';

/** Options for `openPostgresRegistry`. Settings apply only when the database is first set up. */
export interface PostgresRegistryOptions {
  /** `postgres://` or `postgresql://` URL (libpq-style parameters as understood by `pg`). */
  connectionString: string;
  region?: string;
  endpointDomain?: string;
  /** Connections in this process's pool; default `DEFAULT_POOL_SIZE`. */
  poolSize?: number;
}

/** Open (migrating in the background if needed) the PostgreSQL registry. */
export function openPostgresRegistry(options: PostgresRegistryOptions): PostgresRegistry {
  return new PostgresRegistry(options);
}

interface CredentialRow {
  access_key_id: string;
  secret_access_key: string;
  account_id: string;
}

interface EventRow {
  sequence: string;
  account_id: string;
  topic: string;
  payload: string;
  created_at: number;
}

const credentialFromRow = (row: CredentialRow): Credential => ({
  accessKeyId: row.access_key_id,
  secretAccessKey: row.secret_access_key,
  accountId: row.account_id,
});

export class PostgresRegistry extends Attachments implements Registry {
  private fixed: RegistrySettings | undefined;
  private readonly opening: Promise<RegistrySettings>;

  constructor(options: PostgresRegistryOptions) {
    const db = new Pg(options.connectionString, options.poolSize ?? DEFAULT_POOL_SIZE);
    super(db);
    this.opening = this.open(options).then(
      (settings) => (this.fixed = settings),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`cannot open the PostgreSQL registry at ${redactConnectionString(options.connectionString)}: ${reason}`, { cause: error });
      },
    );
    // The failure is reported by every later call; do not also raise an unhandled rejection.
    this.opening.catch(() => undefined);
  }

  private async open(options: PostgresRegistryOptions): Promise<RegistrySettings> {
    await this.db.withClient(migrate);
    return this.db.write(async (tx) => {
      const insert = 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING';
      await tx.run(insert, ['region', options.region ?? DEFAULT_SETTINGS.region]);
      await tx.run(insert, ['endpoint_domain', options.endpointDomain ?? DEFAULT_SETTINGS.endpointDomain]);
      const value = async (key: string) => (await tx.get<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))?.value ?? '';
      return Object.freeze({ region: await value('region'), endpointDomain: await value('endpoint_domain') });
    });
  }

  protected override async ready(): Promise<void> {
    if (this.fixed === undefined) await this.opening;
  }

  private async region(): Promise<RegistrySettings> {
    return this.fixed ?? (await this.opening);
  }

  private ctx(settings: RegistrySettings): certs.StoreContext {
    return {
      db: this.db,
      now: () => Date.now() / 1000,
      certificateArn: (accountId, certificateId) => certificateArn(settings.region, accountId, certificateId),
    };
  }

  private async store(): Promise<certs.StoreContext> {
    return this.ctx(await this.region());
  }

  async settings(): Promise<RegistrySettings> {
    return this.region();
  }

  async close(): Promise<void> {
    await this.opening.catch(() => undefined);
    await this.db.close();
  }

  // ---- RegistryReader (the authorizer's hot path) ----

  async accountForHost(host: string): Promise<Account | null> {
    const settings = await this.region();
    const custom = await this.db.get<AccountRow>(
      'SELECT a.* FROM domains d JOIN accounts a ON a.account_id = d.account_id WHERE d.domain_name = $1',
      [host],
    );
    if (custom) return accountFromRow(custom);
    const suffix = `.iot.${settings.region}.${settings.endpointDomain}`;
    if (!host.endsWith(suffix)) return null;
    const label = host.slice(0, host.length - suffix.length);
    if (label.includes('.')) return null;
    const prefix = label.endsWith('-ats') ? label.slice(0, -4) : label;
    const row = await this.db.get<AccountRow>('SELECT * FROM accounts WHERE endpoint_prefix = $1', [prefix]);
    return row ? accountFromRow(row) : null;
  }

  async getCertificate(accountId: string, certificateId: string): Promise<CertificateRecord | null> {
    await this.ready();
    const row = await this.db.get<CertificateRow>('SELECT * FROM certificates WHERE account_id = $1 AND certificate_id = $2', [accountId, certificateId]);
    return row ? certificateFromRow(row) : null;
  }

  async getCertificateStanding(accountId: string, certificateId: string): Promise<CertificateStanding | null> {
    const { region } = await this.region();
    const row = await this.db.get<StandingRow & { things: string[] }>(
      `SELECT status, certificate_mode, ca_certificate_id,
         ARRAY(SELECT thing_name FROM thing_principals WHERE account_id = $1 AND principal = $3 ORDER BY thing_name COLLATE "C") AS things
       FROM certificates WHERE account_id = $1 AND certificate_id = $2`,
      [accountId, certificateId, certificateArn(region, accountId, certificateId)],
    );
    return row === undefined ? null : standingFromRow(accountId, certificateId, row, row.things);
  }

  async findCertificateRegistrations(certificateId: string): Promise<CertificateRecord[]> {
    await this.ready();
    const rows = await this.db.all<CertificateRow>('SELECT * FROM certificates WHERE certificate_id = $1 ORDER BY account_id', [certificateId]);
    return rows.map(certificateFromRow);
  }

  async getCaCertificate(accountId: string, caCertificateId: string): Promise<CaCertificateRecord | null> {
    await this.ready();
    const row = await this.db.get<CaCertificateRow>('SELECT * FROM ca_certificates WHERE account_id = $1 AND certificate_id = $2', [
      accountId,
      caCertificateId,
    ]);
    return row ? caCertificateFromRow(row) : null;
  }

  async findCaCertificatesBySubject(accountId: string, subject: string): Promise<CaCertificateRecord[]> {
    await this.ready();
    const rows = await this.db.all<CaCertificateRow>(
      'SELECT * FROM ca_certificates WHERE account_id = $1 AND subject = $2 ORDER BY creation_date, certificate_id',
      [accountId, subject],
    );
    return rows.map(caCertificateFromRow);
  }

  // ---- JITR and events ----

  async registerPendingActivation(
    accountId: string,
    facts: CertificateFacts,
    caCertificateId: string,
    mode: CertificateMode,
  ): Promise<PendingActivationResult> {
    const ctx = await this.store();
    // Two sidecars seeing the same first connection race here: the loser's insert hits
    // the primary key (or a serialization failure), is rerun, and finds the winner's row.
    return this.db.write(async (tx) => {
      const existing = await tx.get<CertificateRow>('SELECT * FROM certificates WHERE account_id = $1 AND certificate_id = $2', [
        accountId,
        facts.certificateId,
      ]);
      if (existing) return { record: certificateFromRow(existing), created: false };
      const record = await certs.insertRow(ctx, tx, { ...facts, accountId, status: 'PENDING_ACTIVATION', certificateMode: mode, caCertificateId });
      return { record, created: true };
    });
  }

  async appendEvent(accountId: string, topic: string, payload: Record<string, unknown>): Promise<RegistryEvent> {
    await this.ready();
    const createdAt = Date.now() / 1000;
    // Readers use the sequence as a cursor ("everything after N"), so sequence order
    // must be commit order: with a bare identity column, a transaction that drew 5 could
    // commit after one that drew 6 and a reader at cursor 6 would never see 5. The
    // advisory lock, held until commit, is taken before the number is drawn.
    const row = await this.db.write(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock($1::bigint)', [ADVISORY_LOCKS.events.toString()]);
      return tx.get<{ sequence: string }>('INSERT INTO events (account_id, topic, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING sequence', [
        accountId,
        topic,
        JSON.stringify(payload),
        createdAt,
      ]);
    });
    if (!row) throw new Error('INSERT ... RETURNING returned no row');
    return { sequence: Number(row.sequence), accountId, topic, payload, createdAt };
  }

  async listEvents(accountId: string, afterSequence: number, limit: number): Promise<RegistryEvent[]> {
    await this.ready();
    const rows = await this.db.all<EventRow>('SELECT * FROM events WHERE account_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3', [
      accountId,
      afterSequence,
      limit,
    ]);
    return rows.map((r) => ({
      sequence: Number(r.sequence),
      accountId: r.account_id,
      topic: r.topic,
      payload: JSON.parse(r.payload) as Record<string, unknown>,
      createdAt: r.created_at,
    }));
  }

  // ---- Accounts, credentials, domains ----

  async createAccount(account: { accountId: string; endpointPrefix: string }): Promise<Account> {
    await this.ready();
    return this.db.write(async (tx) => {
      if (await tx.get('SELECT 1 FROM accounts WHERE account_id = $1', [account.accountId])) {
        throw new RegistryError('ALREADY_EXISTS', `Account ${account.accountId} already exists.`, account.accountId);
      }
      if (await tx.get('SELECT 1 FROM accounts WHERE endpoint_prefix = $1', [account.endpointPrefix])) {
        throw new RegistryError('ALREADY_EXISTS', `Endpoint prefix ${account.endpointPrefix} is taken.`, account.endpointPrefix);
      }
      const row = await tx.get<AccountRow>('INSERT INTO accounts (account_id, endpoint_prefix, created_at) VALUES ($1, $2, $3) RETURNING *', [
        account.accountId,
        account.endpointPrefix,
        Date.now() / 1000,
      ]);
      if (!row) throw new Error('INSERT ... RETURNING returned no row');
      return accountFromRow(row);
    });
  }

  async getAccount(accountId: string): Promise<Account | null> {
    await this.ready();
    const row = await this.db.get<AccountRow>('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
    return row ? accountFromRow(row) : null;
  }

  async listAccounts(): Promise<Account[]> {
    await this.ready();
    return (await this.db.all<AccountRow>('SELECT * FROM accounts ORDER BY account_id')).map(accountFromRow);
  }

  async addCredential(credential: Credential): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await requireAccount(tx, credential.accountId);
      if (await tx.get('SELECT 1 FROM credentials WHERE access_key_id = $1', [credential.accessKeyId])) {
        throw new RegistryError('ALREADY_EXISTS', `Access key ${credential.accessKeyId} already exists.`, credential.accessKeyId);
      }
      await tx.run('INSERT INTO credentials (access_key_id, secret_access_key, account_id) VALUES ($1, $2, $3)', [
        credential.accessKeyId,
        credential.secretAccessKey,
        credential.accountId,
      ]);
    });
  }

  async getCredential(accessKeyId: string): Promise<Credential | null> {
    await this.ready();
    const row = await this.db.get<CredentialRow>('SELECT * FROM credentials WHERE access_key_id = $1', [accessKeyId]);
    return row ? credentialFromRow(row) : null;
  }

  async listCredentials(accountId: string): Promise<Credential[]> {
    await this.ready();
    return (await this.db.all<CredentialRow>('SELECT * FROM credentials WHERE account_id = $1 ORDER BY access_key_id', [accountId])).map(credentialFromRow);
  }

  async addDomain(accountId: string, domainName: string): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await requireAccount(tx, accountId);
      if (await tx.get('SELECT 1 FROM domains WHERE domain_name = $1', [domainName])) {
        throw new RegistryError('ALREADY_EXISTS', `The domain ${domainName} is already attached to an account.`, domainName);
      }
      await tx.run('INSERT INTO domains (domain_name, account_id) VALUES ($1, $2)', [domainName, accountId]);
    });
  }

  async removeDomain(accountId: string, domainName: string): Promise<void> {
    await this.ready();
    const changes = await this.db.run('DELETE FROM domains WHERE account_id = $1 AND domain_name = $2', [accountId, domainName]);
    if (changes === 0) throw new RegistryError('NOT_FOUND', `The domain ${domainName} is not attached to account ${accountId}.`);
  }

  async listDomains(accountId: string): Promise<string[]> {
    await this.ready();
    const rows = await this.db.all<{ domain_name: string }>('SELECT domain_name FROM domains WHERE account_id = $1 ORDER BY domain_name', [accountId]);
    return rows.map((r) => r.domain_name);
  }

  // ---- Registration code ----

  async getOrCreateRegistrationCode(accountId: string, candidate: string): Promise<string> {
    await this.ready();
    return this.db.write(async (tx) => {
      const row = await tx.get<{ code: string }>('SELECT code FROM registration_codes WHERE account_id = $1', [accountId]);
      if (row) return row.code;
      await tx.run('INSERT INTO registration_codes (account_id, code) VALUES ($1, $2)', [accountId, candidate]);
      return candidate;
    });
  }

  async getRegistrationCode(accountId: string): Promise<string | null> {
    await this.ready();
    return (await this.db.get<{ code: string }>('SELECT code FROM registration_codes WHERE account_id = $1', [accountId]))?.code ?? null;
  }

  async deleteRegistrationCode(accountId: string): Promise<void> {
    await this.ready();
    const changes = await this.db.run('DELETE FROM registration_codes WHERE account_id = $1', [accountId]);
    if (changes === 0) throw new RegistryError('NOT_FOUND', 'The account has no registration code.');
  }

  // ---- Issuing CA ----

  async getIssuingCa(): Promise<IssuingCaRecord | null> {
    await this.ready();
    const row = await this.db.get<{ certificate_pem: string; private_key_pem: string; created_at: number }>('SELECT * FROM issuing_ca WHERE id = 1');
    return row ? { certificatePem: row.certificate_pem, privateKeyPem: row.private_key_pem, createdAt: row.created_at } : null;
  }

  async ensureIssuingCa(candidate: IssuingCaRecord): Promise<IssuingCaRecord> {
    await this.ready();
    await this.db.run(
      'INSERT INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [candidate.certificatePem, candidate.privateKeyPem, candidate.createdAt],
    );
    const stored = await this.getIssuingCa();
    if (!stored) throw new Error('the issuing CA vanished after being stored');
    return stored;
  }

  // ---- CA and device certificates, transfers ----

  async insertCaCertificate(ca: NewCaCertificate): Promise<CaCertificateRecord> {
    return cas.insertCaCertificate(await this.store(), ca);
  }
  async updateCaCertificate(accountId: string, id: string, update: CaCertificateUpdate): Promise<CaCertificateRecord> {
    return cas.updateCaCertificate(await this.store(), accountId, id, update);
  }
  async deleteCaCertificate(accountId: string, id: string): Promise<void> {
    return cas.deleteCaCertificate(await this.store(), accountId, id);
  }
  // Certificate revocation lists (branch crl).
  async getCaCrlMeta(accountId: string, caCertificateId: string): Promise<CaCrlMeta | null> {
    return crls.getCaCrlMeta(await this.store(), accountId, caCertificateId);
  }
  async getCaCrl(accountId: string, caCertificateId: string): Promise<CaCrlRecord | null> {
    return crls.getCaCrl(await this.store(), accountId, caCertificateId);
  }
  async putCaCrl(crl: NewCaCrl, expectedCrlId: string | null): Promise<CaCrlMeta> {
    return crls.putCaCrl(await this.store(), crl, expectedCrlId);
  }
  async deleteCaCrl(accountId: string, caCertificateId: string): Promise<void> {
    return crls.deleteCaCrl(await this.store(), accountId, caCertificateId);
  }
  async listCaCertificates(accountId: string, page: PageRequest, templateName?: string): Promise<Page<CaCertificateRecord>> {
    return cas.listCaCertificates(await this.store(), accountId, page, templateName);
  }
  async insertCertificate(cert: NewCertificate): Promise<CertificateRecord> {
    return certs.insertCertificate(await this.store(), cert);
  }
  async setCertificateStatus(accountId: string, id: string, to: CertificateStatus, allowedFrom: readonly CertificateStatus[]): Promise<CertificateRecord> {
    return certs.setCertificateStatus(await this.store(), accountId, id, to, allowedFrom);
  }
  async deleteCertificate(accountId: string, id: string, allowedFrom: readonly CertificateStatus[], force: boolean): Promise<void> {
    return certs.deleteCertificate(await this.store(), accountId, id, allowedFrom, force);
  }
  async listCertificates(accountId: string, page: PageRequest, caCertificateId?: string): Promise<Page<CertificateRecord>> {
    return certs.listCertificates(await this.store(), accountId, page, caCertificateId);
  }
  async getCertificateVisibleTo(accountId: string, id: string): Promise<CertificateRecord | null> {
    return certs.getCertificateVisibleTo(await this.store(), accountId, id);
  }
  async startTransfer(accountId: string, id: string, target: string, message: string | null): Promise<CertificateRecord> {
    return certs.startTransfer(await this.store(), accountId, id, target, message);
  }
  async acceptTransfer(accountId: string, id: string, setAsActive: boolean): Promise<CertificateRecord> {
    return certs.acceptTransfer(await this.store(), accountId, id, setAsActive);
  }
  async rejectTransfer(accountId: string, id: string, reason: string | null): Promise<CertificateRecord> {
    return certs.rejectTransfer(await this.store(), accountId, id, reason);
  }
  async cancelTransfer(accountId: string, id: string): Promise<CertificateRecord> {
    return certs.cancelTransfer(await this.store(), accountId, id);
  }
  async listOutgoingTransfers(accountId: string, page: PageRequest): Promise<Page<OutgoingTransfer>> {
    return certs.listOutgoingTransfers(await this.store(), accountId, page);
  }
}

async function requireAccount(tx: Queryable, accountId: string): Promise<void> {
  if (!(await tx.get('SELECT 1 FROM accounts WHERE account_id = $1', [accountId]))) {
    throw new RegistryError('NOT_FOUND', `Account ${accountId} does not exist.`);
  }
}
