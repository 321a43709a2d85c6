/**
 * Accounts, custom domains, access keys, the audit log, events, the change log and
 * registration codes: uniqueness of account ids, endpoint prefixes, access keys and
 * domains; no custom domain inside the endpoint namespace (`registration.ts`); an
 * account keeps one ACTIVE full-access key (`../keys.ts`); sequence numbers that follow
 * commit order (`Dialect.sequenceLock`).
 */
import { endpointRoute } from '../endpoints.js';
import { lastFullKey } from '../keys.js';
import {
  accountFromRow,
  auditFromRow,
  changeFromRow,
  type AccountRow,
  type AuditRow,
  type ChangeRow,
  type CredentialRow,
} from '../rows.js';
import { binding } from '../secrets.js';
import type { Queries, Store } from '../store.js';
import {
  RegistryError,
  type AccessKeyStatus,
  type Account,
  type AccountSettings,
  type AuditEntry,
  type ChangeRecord,
  type Credential,
  type NewAuditEntry,
  type NewCredential,
  type RegistryEvent,
} from '../types.js';
import { count, now, type Ctx } from './context.js';
import { reservedDomain } from './registration.js';
import { boxOf, openCredential, sealedWith, SEALED_WITH, type Sealed } from './secrets.js';

async function requireAccount(tx: Queries, accountId: string): Promise<Account> {
  const row = await tx.get<AccountRow>('SELECT * FROM accounts WHERE account_id = ?', [accountId]);
  if (!row) throw new RegistryError('NOT_FOUND', 'ACCOUNT_NOT_FOUND', { accountId });
  return accountFromRow(row);
}

export function createAccount(ctx: Ctx, account: { accountId: string; endpointPrefix: string }): Promise<Account> {
  return ctx.store.transaction(async (tx) => {
    const { accountId, endpointPrefix } = account;
    if (await tx.get('SELECT 1 FROM accounts WHERE account_id = ?', [accountId]))
      throw new RegistryError('ALREADY_EXISTS', 'ACCOUNT_EXISTS', { resourceId: accountId, accountId });
    if (await tx.get('SELECT 1 FROM accounts WHERE endpoint_prefix = ?', [endpointPrefix])) {
      throw new RegistryError('ALREADY_EXISTS', 'ENDPOINT_PREFIX_TAKEN', { resourceId: endpointPrefix, endpointPrefix });
    }
    await tx.run('INSERT INTO accounts (account_id, endpoint_prefix, created_at) VALUES (?, ?, ?)', [
      account.accountId,
      account.endpointPrefix,
      now(),
    ]);
    return requireAccount(tx, account.accountId);
  });
}

export async function getAccount(ctx: Ctx, accountId: string): Promise<Account | null> {
  const row = await ctx.store.get<AccountRow>('SELECT * FROM accounts WHERE account_id = ?', [accountId]);
  return row ? accountFromRow(row) : null;
}

export async function listAccounts(ctx: Ctx): Promise<Account[]> {
  return (await ctx.store.all<AccountRow>('SELECT * FROM accounts ORDER BY account_id')).map(accountFromRow);
}

export function setAccountSettings(ctx: Ctx, accountId: string, settings: AccountSettings): Promise<Account> {
  return ctx.store.transaction(async (tx) => {
    await requireAccount(tx, accountId);
    await tx.run('UPDATE accounts SET bind_client_id_to_thing = ? WHERE account_id = ?', [settings.bindClientIdToThing ? 1 : 0, accountId]);
    return requireAccount(tx, accountId);
  });
}

/**
 * SNI routing: built-in endpoints first, so a host in the installation's endpoint
 * namespace is never looked up among custom domains (../endpoints.ts).
 */
export async function accountForHost(ctx: Ctx, host: string): Promise<Account | null> {
  const route = endpointRoute(host, ctx.settings);
  if (route.builtIn && route.prefix === null) return null;
  const row = route.builtIn
    ? await ctx.store.get<AccountRow>('SELECT * FROM accounts WHERE endpoint_prefix = ?', [route.prefix])
    : await ctx.store.get<AccountRow>('SELECT a.* FROM domains d JOIN accounts a ON a.account_id = d.account_id WHERE d.domain_name = ?', [
        host,
      ]);
  return row ? accountFromRow(row) : null;
}

/**
 * The change feed (GET /v1/changes) reports certificate status changes only; on
 * PostgreSQL the log also holds the other kinds fleet mode reads (ts/view/).
 */
const CERTIFICATE_KIND = "kind = 'certificate'";

export async function listChanges(ctx: Ctx, accountId: string | null, after: number, limit: number): Promise<ChangeRecord[]> {
  const rows =
    accountId === null
      ? await ctx.store.all<ChangeRow>(`SELECT * FROM change_log WHERE sequence > ? AND ${CERTIFICATE_KIND} ORDER BY sequence LIMIT ?`, [
          after,
          limit,
        ])
      : await ctx.store.all<ChangeRow>(
          `SELECT * FROM change_log WHERE account_id = ? AND sequence > ? AND ${CERTIFICATE_KIND} ORDER BY sequence LIMIT ?`,
          [accountId, after, limit],
        );
  return rows.map(changeFromRow);
}

// ---- Custom domains ----

export function addDomain(ctx: Ctx, accountId: string, domainName: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    await requireAccount(tx, accountId);
    const reserved = reservedDomain(domainName, ctx.settings);
    if (reserved) throw reserved;
    if (await tx.get('SELECT 1 FROM domains WHERE domain_name = ?', [domainName]))
      throw new RegistryError('ALREADY_EXISTS', 'DOMAIN_TAKEN', { resourceId: domainName, domainName });
    await tx.run('INSERT INTO domains (domain_name, account_id) VALUES (?, ?)', [domainName, accountId]);
  });
}

/** A transaction (not one autocommit statement): the change log's sequence is drawn in it, retried on a conflict. */
export function removeDomain(ctx: Ctx, accountId: string, domainName: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    const changes = await tx.run('DELETE FROM domains WHERE account_id = ? AND domain_name = ?', [accountId, domainName]);
    if (changes === 0) throw new RegistryError('NOT_FOUND', 'DOMAIN_NOT_ATTACHED', { domainName, accountId });
  });
}

export async function listDomains(ctx: Ctx, accountId: string): Promise<string[]> {
  return (
    await ctx.store.all<{ domain_name: string }>('SELECT domain_name FROM domains WHERE account_id = ? ORDER BY domain_name', [accountId])
  ).map((r) => r.domain_name);
}

// ---- Access keys ----

export function addCredential(ctx: Ctx, credential: NewCredential, audit?: NewAuditEntry): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    await requireAccount(tx, credential.accountId);
    const { accessKeyId } = credential;
    if (await tx.get('SELECT 1 FROM credentials WHERE access_key_id = ?', [accessKeyId]))
      throw new RegistryError('ALREADY_EXISTS', 'ACCESS_KEY_EXISTS', { resourceId: accessKeyId, accessKeyId });
    const secret = boxOf(ctx, await sealedWith(tx)).store(credential.secretAccessKey, binding.credential(credential.accessKeyId));
    await tx.run(
      'INSERT INTO credentials (access_key_id, secret_access_key, account_id, scope, status, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [credential.accessKeyId, secret, credential.accountId, credential.scope ?? 'FULL', 'ACTIVE', now()],
    );
    if (audit) await insertAudit(tx, audit);
  });
}

export async function getCredential(ctx: Ctx, accessKeyId: string): Promise<Credential | null> {
  const row = await ctx.store.get<Sealed<CredentialRow>>(`SELECT *, ${SEALED_WITH} FROM credentials WHERE access_key_id = ?`, [
    accessKeyId,
  ]);
  return row ? openCredential(ctx, row) : null;
}

export async function listCredentials(ctx: Ctx, accountId: string): Promise<Credential[]> {
  const rows = await ctx.store.all<Sealed<CredentialRow>>(
    `SELECT *, ${SEALED_WITH} FROM credentials WHERE account_id = ? ORDER BY access_key_id`,
    [accountId],
  );
  return rows.map((row) => openCredential(ctx, row));
}

/** NOT_FOUND unless the account holds the key; LAST_FULL_ACCESS_KEY if `removing` it would leave no ACTIVE FULL key. */
async function keepOneFullKey(tx: Queries, accountId: string, accessKeyId: string, removing: boolean): Promise<void> {
  const key = await tx.get<CredentialRow>('SELECT * FROM credentials WHERE account_id = ? AND access_key_id = ?', [accountId, accessKeyId]);
  if (!key) throw new RegistryError('NOT_FOUND', 'ACCESS_KEY_NOT_FOUND', { accessKeyId, accountId });
  if (!removing || key.scope !== 'FULL' || key.status !== 'ACTIVE') return;
  const others = await tx.get<{ n: number }>(
    "SELECT count(*) AS n FROM credentials WHERE account_id = ? AND access_key_id <> ? AND scope = 'FULL' AND status = 'ACTIVE'",
    [accountId, accessKeyId],
  );
  if (count(others) === 0) throw lastFullKey(accountId, accessKeyId);
}

export function updateCredentialStatus(
  ctx: Ctx,
  accountId: string,
  accessKeyId: string,
  status: AccessKeyStatus,
  audit?: NewAuditEntry,
): Promise<Credential> {
  return ctx.store.transaction(async (tx) => {
    await keepOneFullKey(tx, accountId, accessKeyId, status === 'INACTIVE');
    await tx.run('UPDATE credentials SET status = ? WHERE account_id = ? AND access_key_id = ?', [status, accountId, accessKeyId]);
    if (audit) await insertAudit(tx, audit);
    const row = await tx.get<Sealed<CredentialRow>>(`SELECT *, ${SEALED_WITH} FROM credentials WHERE access_key_id = ?`, [accessKeyId]);
    if (!row) throw new Error('access key vanished inside its transaction');
    return openCredential(ctx, row);
  });
}

export function deleteCredential(ctx: Ctx, accountId: string, accessKeyId: string, audit?: NewAuditEntry): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    await keepOneFullKey(tx, accountId, accessKeyId, true);
    await tx.run('DELETE FROM credentials WHERE account_id = ? AND access_key_id = ?', [accountId, accessKeyId]);
    if (audit) await insertAudit(tx, audit);
  });
}

// ---- Sequences readers page by: the audit log and events ----

/** Insert a row and return its sequence, drawn in commit order (`Dialect.sequenceLock`). */
async function appendInOrder(tx: Store, sequence: 'events' | 'audit', insert: string, params: unknown[]): Promise<number> {
  const lock = tx.dialect.sequenceLock(sequence);
  if (lock !== null) await tx.run(lock);
  const row = await tx.get<{ sequence: number | string }>(`${insert} RETURNING sequence`, params);
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return Number(row.sequence);
}

async function insertAudit(tx: Store, entry: NewAuditEntry): Promise<AuditEntry> {
  const time = now();
  const insert =
    'INSERT INTO audit_log (account_id, time, access_key_id, operation, resource, result, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)';
  const sequence = await appendInOrder(tx, 'audit', insert, [
    entry.accountId,
    time,
    entry.accessKeyId,
    entry.operation,
    entry.resource,
    entry.result,
    entry.requestId,
  ]);
  return { sequence, time, ...entry };
}

export function appendAudit(ctx: Ctx, entry: NewAuditEntry): Promise<AuditEntry> {
  return ctx.store.transaction((tx) => insertAudit(tx, entry));
}

export async function listAudit(ctx: Ctx, accountId: string, afterSequence: number, limit: number): Promise<AuditEntry[]> {
  const rows = await ctx.store.all<AuditRow>('SELECT * FROM audit_log WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?', [
    accountId,
    afterSequence,
    limit,
  ]);
  return rows.map(auditFromRow);
}

export async function appendEvent(ctx: Ctx, accountId: string, topic: string, payload: Record<string, unknown>): Promise<RegistryEvent> {
  const createdAt = now();
  const insert = 'INSERT INTO events (account_id, topic, payload, created_at) VALUES (?, ?, ?, ?)';
  const sequence = await ctx.store.transaction((tx) =>
    appendInOrder(tx, 'events', insert, [accountId, topic, JSON.stringify(payload), createdAt]),
  );
  return { sequence, accountId, topic, payload, createdAt };
}

export async function listEvents(ctx: Ctx, accountId: string, afterSequence: number, limit: number): Promise<RegistryEvent[]> {
  const rows = await ctx.store.all<{ sequence: number | string; account_id: string; topic: string; payload: string; created_at: number }>(
    'SELECT * FROM events WHERE account_id = ? AND sequence > ? ORDER BY sequence LIMIT ?',
    [accountId, afterSequence, limit],
  );
  return rows.map((r) => ({
    sequence: Number(r.sequence),
    accountId: r.account_id,
    topic: r.topic,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: r.created_at,
  }));
}

// ---- Registration code (one per account) ----

export function getOrCreateRegistrationCode(ctx: Ctx, accountId: string, candidate: string): Promise<string> {
  return ctx.store.transaction(async (tx) => {
    const row = await tx.get<{ code: string }>('SELECT code FROM registration_codes WHERE account_id = ?', [accountId]);
    if (row) return row.code;
    await tx.run('INSERT INTO registration_codes (account_id, code) VALUES (?, ?)', [accountId, candidate]);
    return candidate;
  });
}

export async function getRegistrationCode(ctx: Ctx, accountId: string): Promise<string | null> {
  return (await ctx.store.get<{ code: string }>('SELECT code FROM registration_codes WHERE account_id = ?', [accountId]))?.code ?? null;
}

export async function deleteRegistrationCode(ctx: Ctx, accountId: string): Promise<void> {
  if ((await ctx.store.run('DELETE FROM registration_codes WHERE account_id = ?', [accountId])) === 0)
    throw new RegistryError('NOT_FOUND', 'REGISTRATION_CODE_NOT_FOUND', { accountId });
}

export { requireAccount };
