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
import { DEFAULT_SETTINGS } from '../sqlite/registry.js';
import { changeFromRow, type ChangeRow } from '../sqlite/rows.js';
import { accountFromRow, caCertificateFromRow, certificateFromRow, standingFromRow, type AccountRow, type CaCertificateRow, type CertificateRow, type StandingRow } from '../sqlite/rows.js';
import { certificateArn } from '../arn.js';
import { Attachments } from './attachments.js';
import * as cas from './cas.js';
// branch keys: access keys and the audit log.
import type { AccessKeyStatus, AuditEntry, BulkInsertResult, NewAuditEntry, NewCredential } from '../types.js';
import { endpointRoute } from '../endpoints.js';
import { reservedDomain } from '../rules.js';
import { auditFromRow, credentialFromRow, type AuditRow, type CredentialRow } from '../sqlite/rows.js';
import { lastFullKey } from '../keys.js';
import * as crls from './crls.js';
import * as certs from './certificates.js';
import { DEFAULT_POOL_SIZE, Pg, redactConnectionString, type Queryable } from './database.js';
import { ADVISORY_LOCKS, migrate } from './schema.js';
import { binding, sealingRewrite, secretBox, type MasterKey, type ResealReport, type SecretBox, type SecretRewrite } from '../secrets.js';

/** Options for `openPostgresRegistry`. Settings apply only when the database is first set up. */
export interface PostgresRegistryOptions {
  /** `postgres://` or `postgresql://` URL (libpq-style parameters as understood by `pg`). */
  connectionString: string;
  region?: string;
  endpointDomain?: string;
  /** Connections in this process's pool; default `DEFAULT_POOL_SIZE`. */
  poolSize?: number;
  /** The operator's master key; see `SqliteRegistryOptions.masterKey`. */
  masterKey?: MasterKey;
}

/** Open (migrating in the background if needed) the PostgreSQL registry. */
export function openPostgresRegistry(options: PostgresRegistryOptions): PostgresRegistry {
  return new PostgresRegistry(options);
}

interface EventRow {
  sequence: string;
  account_id: string;
  topic: string;
  payload: string;
  created_at: number;
}

/** A stored key with its secret opened (secrets at rest: ../secrets.ts). */
const openCredential = (row: CredentialRow, box: SecretBox): Credential => ({
  ...credentialFromRow(row),
  secretAccessKey: box.read(row.secret_access_key, binding.credential(row.access_key_id)),
});

/** The sealing key id as a column of a query, so a secret and the state it was stored under are read in one snapshot. */
const SEALED_WITH = '(SELECT key_id FROM secrets_sealing WHERE id = 1) AS sealed_with';

export class PostgresRegistry extends Attachments implements Registry {
  private fixed: RegistrySettings | undefined;
  private readonly opening: Promise<RegistrySettings>;
  private readonly masterKey: MasterKey | undefined;

  constructor(options: PostgresRegistryOptions) {
    const db = new Pg(options.connectionString, options.poolSize ?? DEFAULT_POOL_SIZE);
    super(db);
    this.masterKey = options.masterKey;
    this.opening = this.open(options).then(
      (settings) => (this.fixed = settings),
      (error: unknown) => {
        // A refusal of the master key is already specific; keep its code for callers.
        if (error instanceof RegistryError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`cannot open the PostgreSQL registry at ${redactConnectionString(options.connectionString)}: ${reason}`, { cause: error });
      },
    );
    // The failure is reported by every later call; do not also raise an unhandled rejection.
    this.opening.catch(() => undefined);
  }

  private async open(options: PostgresRegistryOptions): Promise<RegistrySettings> {
    await this.db.withClient(migrate);
    const settings = await this.db.write(async (tx) => {
      const insert = 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING';
      await tx.run(insert, ['region', options.region ?? DEFAULT_SETTINGS.region]);
      await tx.run(insert, ['endpoint_domain', options.endpointDomain ?? DEFAULT_SETTINGS.endpointDomain]);
      const value = async (key: string) => (await tx.get<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))?.value ?? '';
      return Object.freeze({ region: await value('region'), endpointDomain: await value('endpoint_domain') });
    });
    // With a key, seal what is still clear (a registry from before sealing) in place.
    if (options.masterKey !== undefined) await this.rewriteSecretsNow(sealingRewrite(options.masterKey));
    return settings;
  }

  private box(sealedWith: string | null | undefined): SecretBox {
    return secretBox(this.masterKey, sealedWith ?? null);
  }

  private async sealedWith(tx: Queryable): Promise<string | null> {
    return (await tx.get<{ key_id: string }>('SELECT key_id FROM secrets_sealing WHERE id = 1'))?.key_id ?? null;
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
    // Built-in endpoints first: a host in the installation's endpoint namespace is never
    // looked up among custom domains (endpoints.ts).
    const route = endpointRoute(host, settings);
    if (route.builtIn) {
      if (route.prefix === null) return null;
      const row = await this.db.get<AccountRow>('SELECT * FROM accounts WHERE endpoint_prefix = $1', [route.prefix]);
      return row ? accountFromRow(row) : null;
    }
    const custom = await this.db.get<AccountRow>(
      'SELECT a.* FROM domains d JOIN accounts a ON a.account_id = d.account_id WHERE d.domain_name = $1',
      [host],
    );
    return custom ? accountFromRow(custom) : null;
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
      // JITR obeys the same multi-account rule as every other registration path.
      await certs.checkRegistration(tx, accountId, mode, facts.certificateId);
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

  async listChanges(accountId: string | null, after: number, limit: number): Promise<ChangeRecord[]> {
    await this.ready();
    const rows =
      accountId === null
        ? await this.db.all<ChangeRow>('SELECT * FROM change_log WHERE sequence > $1 ORDER BY sequence LIMIT $2', [after, limit])
        : await this.db.all<ChangeRow>('SELECT * FROM change_log WHERE account_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3', [accountId, after, limit]);
    return rows.map(changeFromRow);
  }

  async setAccountSettings(accountId: string, settings: AccountSettings): Promise<Account> {
    await this.ready();
    return this.db.write(async (tx) => {
      const row = await tx.get<AccountRow>('UPDATE accounts SET bind_client_id_to_thing = $1 WHERE account_id = $2 RETURNING *', [
        settings.bindClientIdToThing ? 1 : 0,
        accountId,
      ]);
      if (!row) throw new RegistryError('NOT_FOUND', `Account ${accountId} does not exist.`);
      return accountFromRow(row);
    });
  }

  async addCredential(credential: NewCredential, audit?: NewAuditEntry): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await requireAccount(tx, credential.accountId);
      if (await tx.get('SELECT 1 FROM credentials WHERE access_key_id = $1', [credential.accessKeyId])) {
        throw new RegistryError('ALREADY_EXISTS', `Access key ${credential.accessKeyId} already exists.`, credential.accessKeyId);
      }
      await tx.run('INSERT INTO credentials (access_key_id, secret_access_key, account_id, scope, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        credential.accessKeyId,
        this.box(await this.sealedWith(tx)).store(credential.secretAccessKey, binding.credential(credential.accessKeyId)),
        credential.accountId,
        credential.scope ?? 'FULL',
        'ACTIVE',
        Date.now() / 1000,
      ]);
      if (audit) await insertAudit(tx, audit, Date.now() / 1000);
    });
  }

  async getCredential(accessKeyId: string): Promise<Credential | null> {
    await this.ready();
    const row = await this.db.get<CredentialRow & { sealed_with: string | null }>(`SELECT *, ${SEALED_WITH} FROM credentials WHERE access_key_id = $1`, [accessKeyId]);
    return row ? openCredential(row, this.box(row.sealed_with)) : null;
  }

  async listCredentials(accountId: string): Promise<Credential[]> {
    await this.ready();
    const rows = await this.db.all<CredentialRow & { sealed_with: string | null }>(
      `SELECT *, ${SEALED_WITH} FROM credentials WHERE account_id = $1 ORDER BY access_key_id`,
      [accountId],
    );
    return rows.map((row) => openCredential(row, this.box(row.sealed_with)));
  }

  async addDomain(accountId: string, domainName: string): Promise<void> {
    const settings = await this.region();
    await this.db.write(async (tx) => {
      await requireAccount(tx, accountId);
      const reserved = reservedDomain(domainName, settings);
      if (reserved) throw reserved;
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

  // ---- Access keys (branch keys) ----

  async updateCredentialStatus(accountId: string, accessKeyId: string, status: AccessKeyStatus, audit?: NewAuditEntry): Promise<Credential> {
    await this.ready();
    return this.db.write(async (tx) => {
      await keepOneFullKey(tx, accountId, accessKeyId, status === 'INACTIVE');
      const row = await tx.get<CredentialRow>('UPDATE credentials SET status = $1 WHERE account_id = $2 AND access_key_id = $3 RETURNING *', [
        status,
        accountId,
        accessKeyId,
      ]);
      if (!row) throw new Error('UPDATE ... RETURNING returned no row');
      if (audit) await insertAudit(tx, audit, Date.now() / 1000);
      return openCredential(row, this.box(await this.sealedWith(tx)));
    });
  }

  async deleteCredential(accountId: string, accessKeyId: string, audit?: NewAuditEntry): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      await keepOneFullKey(tx, accountId, accessKeyId, true);
      await tx.run('DELETE FROM credentials WHERE account_id = $1 AND access_key_id = $2', [accountId, accessKeyId]);
      if (audit) await insertAudit(tx, audit, Date.now() / 1000);
    });
  }

  // ---- Audit log (branch keys) ----

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    await this.ready();
    const time = Date.now() / 1000;
    const sequence = await this.db.write((tx) => insertAudit(tx, entry, time));
    return { sequence, time, ...entry };
  }

  async listAudit(accountId: string, afterSequence: number, limit: number): Promise<AuditEntry[]> {
    await this.ready();
    const rows = await this.db.all<AuditRow>('SELECT * FROM audit_log WHERE account_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3', [
      accountId,
      afterSequence,
      limit,
    ]);
    return rows.map(auditFromRow);
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
    const row = await this.db.get<{ certificate_pem: string; private_key_pem: string; created_at: number; sealed_with: string | null }>(
      `SELECT *, ${SEALED_WITH} FROM issuing_ca WHERE id = 1`,
    );
    if (!row) return null;
    const privateKeyPem = this.box(row.sealed_with).read(row.private_key_pem, binding.installationIssuingCa());
    return { certificatePem: row.certificate_pem, privateKeyPem, createdAt: row.created_at };
  }

  async ensureIssuingCa(candidate: IssuingCaRecord): Promise<IssuingCaRecord> {
    await this.ready();
    await this.db.write(async (tx) => {
      await tx.run('INSERT INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING', [
        candidate.certificatePem,
        this.box(await this.sealedWith(tx)).store(candidate.privateKeyPem, binding.installationIssuingCa()),
        candidate.createdAt,
      ]);
    });
    const stored = await this.getIssuingCa();
    if (!stored) throw new Error('the issuing CA vanished after being stored');
    return stored;
  }

  // ---- Imported issuing CAs ----

  async importIssuingCa(record: IssuingCaRecord, accountId: string | null): Promise<void> {
    await this.ready();
    await this.db.write(async (tx) => {
      const box = this.box(await this.sealedWith(tx));
      if (accountId === null) {
        await tx.run(
          'INSERT INTO issuing_ca (id, certificate_pem, private_key_pem, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET certificate_pem = excluded.certificate_pem, private_key_pem = excluded.private_key_pem, created_at = excluded.created_at',
          [record.certificatePem, box.store(record.privateKeyPem, binding.installationIssuingCa()), record.createdAt],
        );
        return;
      }
      await requireAccount(tx, accountId);
      await tx.run(
        'INSERT INTO account_issuing_cas (account_id, certificate_pem, private_key_pem, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET certificate_pem = excluded.certificate_pem, private_key_pem = excluded.private_key_pem, created_at = excluded.created_at',
        [accountId, record.certificatePem, box.store(record.privateKeyPem, binding.accountIssuingCa(accountId)), record.createdAt],
      );
    });
  }

  async getAccountIssuingCa(accountId: string): Promise<IssuingCaRecord | null> {
    await this.ready();
    const row = await this.db.get<{ certificate_pem: string; private_key_pem: string; created_at: number; sealed_with: string | null }>(
      `SELECT *, ${SEALED_WITH} FROM account_issuing_cas WHERE account_id = $1`,
      [accountId],
    );
    if (!row) return null;
    const privateKeyPem = this.box(row.sealed_with).read(row.private_key_pem, binding.accountIssuingCa(accountId));
    return { certificatePem: row.certificate_pem, privateKeyPem, createdAt: row.created_at };
  }

  // ---- Secrets at rest ----

  async secretsKeyId(): Promise<string | null> {
    await this.ready();
    return this.sealedWith(this.db);
  }

  async rewriteSecrets(plan: SecretRewrite): Promise<ResealReport> {
    await this.ready();
    return this.rewriteSecretsNow(plan);
  }

  /** One serializable transaction over every stored secret (also run while opening). */
  private async rewriteSecretsNow(plan: SecretRewrite): Promise<ResealReport> {
    const report = await this.rewriteInTransaction(plan);
    // The replaced values live on in dead row versions until the table is rewritten:
    // VACUUM FULL writes new table files without them (the tables are small).
    if (report.secrets > 0) for (const table of ['credentials', 'issuing_ca', 'account_issuing_cas']) await this.db.run(`VACUUM FULL ${table}`);
    return report;
  }

  private async rewriteInTransaction(plan: SecretRewrite): Promise<ResealReport> {
    return this.db.write(async (tx) => {
      const current = await this.sealedWith(tx);
      plan.check(current);
      let secrets = 0;
      const rewrite = (stored: string, bind: string): string => {
        const next = plan.rewrite(stored, bind);
        if (next !== stored) secrets += 1;
        return next;
      };
      for (const row of await tx.all<{ access_key_id: string; secret_access_key: string }>('SELECT access_key_id, secret_access_key FROM credentials')) {
        const next = rewrite(row.secret_access_key, binding.credential(row.access_key_id));
        if (next !== row.secret_access_key) await tx.run('UPDATE credentials SET secret_access_key = $1 WHERE access_key_id = $2', [next, row.access_key_id]);
      }
      const ca = await tx.get<{ private_key_pem: string }>('SELECT private_key_pem FROM issuing_ca WHERE id = 1');
      if (ca) {
        const next = rewrite(ca.private_key_pem, binding.installationIssuingCa());
        if (next !== ca.private_key_pem) await tx.run('UPDATE issuing_ca SET private_key_pem = $1 WHERE id = 1', [next]);
      }
      for (const row of await tx.all<{ account_id: string; private_key_pem: string }>('SELECT account_id, private_key_pem FROM account_issuing_cas')) {
        const next = rewrite(row.private_key_pem, binding.accountIssuingCa(row.account_id));
        if (next !== row.private_key_pem) await tx.run('UPDATE account_issuing_cas SET private_key_pem = $1 WHERE account_id = $2', [next, row.account_id]);
      }
      if (current !== plan.keyId || secrets > 0) {
        await tx.run(
          'INSERT INTO secrets_sealing (id, key_id, sealed_at) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, sealed_at = excluded.sealed_at',
          [plan.keyId, Date.now() / 1000],
        );
      }
      return { secrets, keyId: plan.keyId };
    });
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

  async insertCertificates(batch: readonly NewCertificate[]): Promise<BulkInsertResult[]> {
    return certs.insertCertificates(await this.store(), batch);
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

/** Inside a write: NOT_FOUND unless the account holds the key; LAST_FULL_ACCESS_KEY if `removing` it would leave no ACTIVE FULL key. */
async function keepOneFullKey(tx: Queryable, accountId: string, accessKeyId: string, removing: boolean): Promise<void> {
  const key = await tx.get<CredentialRow>('SELECT * FROM credentials WHERE account_id = $1 AND access_key_id = $2', [accountId, accessKeyId]);
  if (!key) throw new RegistryError('NOT_FOUND', `Access key ${accessKeyId} does not exist in account ${accountId}.`);
  if (!removing || key.scope !== 'FULL' || key.status !== 'ACTIVE') return;
  // SERIALIZABLE (database.ts): two transactions each removing one of the last two keys
  // read each other's row, and PostgreSQL aborts one; its rerun sees one key left.
  const others = await tx.get<{ n: string }>(
    "SELECT count(*) AS n FROM credentials WHERE account_id = $1 AND access_key_id <> $2 AND scope = 'FULL' AND status = 'ACTIVE'",
    [accountId, accessKeyId],
  );
  if (Number(others?.n ?? 0) === 0) throw lastFullKey(accountId, accessKeyId);
}

/** Insert an audit row in `tx`; returns its sequence. */
async function insertAudit(tx: Queryable, entry: NewAuditEntry, time: number): Promise<number> {
  // Sequence order must be commit order (readers page with "after N"): the advisory
  // lock, held until commit, is taken before the number is drawn, as for events.
  await tx.run('SELECT pg_advisory_xact_lock($1::bigint)', [ADVISORY_LOCKS.audit.toString()]);
  const row = await tx.get<{ sequence: string }>(
    'INSERT INTO audit_log (account_id, time, access_key_id, operation, resource, result, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING sequence',
    [entry.accountId, time, entry.accessKeyId, entry.operation, entry.resource, entry.result, entry.requestId],
  );
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return Number(row.sequence);
}
