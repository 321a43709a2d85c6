/**
 * Device certificates and transfers in the PostgreSQL backend (spec 3.1, 4.8-4.17).
 * The same checks, in the same order, as `../sqlite/certificates.ts`; each write runs in
 * one serializable transaction (`database.ts` explains why that makes them atomic
 * across processes and hosts).
 */
import { randomUUID } from 'node:crypto';
import {
  RegistryError,
  type CertificateMode,
  type CertificateRecord,
  type CertificateStatus,
  type NewCertificate,
  type OutgoingTransfer,
  type Page,
  type PageRequest,
  type BulkInsertResult,
} from '../types.js';
import { certificateFromRow, type CertificateRow } from '../sqlite/rows.js';
import { registrationRefusal, type OtherRegistration } from '../rules.js';
import type { Pg, Queryable } from './database.js';
import { pageOf } from './paging.js';

/** What the certificate store needs from its owner: the database, the clock and ARNs. */
export interface StoreContext {
  db: Pg;
  /** Epoch seconds, fractional. */
  now(): number;
  /** The principal ARN attachments use for a device certificate of `accountId`. */
  certificateArn(accountId: string, certificateId: string): string;
}

const OWNED = 'SELECT * FROM certificates WHERE account_id = $1 AND certificate_id = $2';
const OFFERED = "SELECT * FROM certificates WHERE certificate_id = $1 AND transfer_to = $2 AND status = 'PENDING_TRANSFER'";

function owned(tx: Queryable, accountId: string, certificateId: string): Promise<CertificateRow | undefined> {
  return tx.get<CertificateRow>(OWNED, [accountId, certificateId]);
}

async function reload(tx: Queryable, accountId: string, certificateId: string): Promise<CertificateRecord> {
  const row = await owned(tx, accountId, certificateId);
  if (!row) throw new Error(`certificate ${certificateId} vanished inside a transaction`);
  return certificateFromRow(row);
}

function notFound(certificateId: string): RegistryError {
  return new RegistryError('NOT_FOUND', `The certificate ${certificateId} does not exist in this account.`);
}

/** Count things and policies attached to the certificate's principal ARN. */
async function attachments(ctx: StoreContext, tx: Queryable, accountId: string, certificateId: string): Promise<{ things: number; policies: number }> {
  const arn = ctx.certificateArn(accountId, certificateId);
  const things = await tx.get<{ n: number }>('SELECT count(*)::int AS n FROM thing_principals WHERE account_id = $1 AND principal = $2', [accountId, arn]);
  const policies = await tx.get<{ n: number }>('SELECT count(*)::int AS n FROM policy_targets WHERE account_id = $1 AND target = $2', [accountId, arn]);
  return { things: things?.n ?? 0, policies: policies?.n ?? 0 };
}

/** Insert without any check but the primary key; used by `insertCertificate` (after its checks) and by JITR. */
export async function insertRow(ctx: StoreContext, tx: Queryable, cert: NewCertificate): Promise<CertificateRecord> {
  const now = ctx.now();
  await tx.run(
    `INSERT INTO certificates (account_id, certificate_id, certificate_pem, status, certificate_mode,
       ca_certificate_id, previous_owned_by, creation_date, last_modified_date, customer_version,
       generation_id, not_before, not_after)
     VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $7, 1, $8, $9, $10)`,
    [cert.accountId, cert.certificateId, cert.certificatePem, cert.status, cert.certificateMode, cert.caCertificateId, now, randomUUID(), cert.notBefore, cert.notAfter],
  );
  return reload(tx, cert.accountId, cert.certificateId);
}

/** The certificate's registrations in accounts other than `accountId`. */
async function otherRegistrations(tx: Queryable, accountId: string, certificateId: string): Promise<OtherRegistration[]> {
  const rows = await tx.all<{ account_id: string; certificate_mode: string }>(
    'SELECT account_id, certificate_mode FROM certificates WHERE certificate_id = $1 AND account_id <> $2',
    [certificateId, accountId],
  );
  return rows.map((row) => ({ accountId: row.account_id, certificateMode: row.certificate_mode as CertificateMode }));
}

/**
 * The multi-account rule (`../rules.ts`) for a new registration of `certificateId` in
 * `accountId`; throws its refusal. Run inside the caller's write transaction.
 */
export async function checkRegistration(tx: Queryable, accountId: string, mode: CertificateMode, certificateId: string): Promise<void> {
  const refusal = registrationRefusal(accountId, mode, certificateId, await otherRegistrations(tx, accountId, certificateId));
  if (refusal) throw refusal;
}

/** Register a device certificate (the multi-account rule is in `../rules.ts`). */
export function insertCertificate(ctx: StoreContext, cert: NewCertificate): Promise<CertificateRecord> {
  return ctx.db.write((tx) => insertChecked(ctx, tx, cert));
}

/** Many registrations in one transaction; each in a savepoint, so a refused one rolls back alone. */
export function insertCertificates(ctx: StoreContext, certs: readonly NewCertificate[]): Promise<BulkInsertResult[]> {
  return ctx.db.write(async (tx) => {
    const results: BulkInsertResult[] = [];
    for (const cert of certs) {
      await tx.run('SAVEPOINT bulk_insert');
      try {
        await insertChecked(ctx, tx, cert);
        await tx.run('RELEASE SAVEPOINT bulk_insert');
        results.push({ certificateId: cert.certificateId, ok: true });
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        await tx.run('ROLLBACK TO SAVEPOINT bulk_insert');
        results.push({ certificateId: cert.certificateId, ok: false, error });
      }
    }
    return results;
  });
}

/** insertCertificate's checks and insert, inside the caller's write transaction. */
async function insertChecked(ctx: StoreContext, tx: Queryable, cert: NewCertificate): Promise<CertificateRecord> {
  const exists = new RegistryError('ALREADY_EXISTS', 'The certificate is already provisioned or registered', cert.certificateId);
  if (await owned(tx, cert.accountId, cert.certificateId)) throw exists;
  if (await tx.get(OFFERED, [cert.certificateId, cert.accountId])) throw exists;
  await checkRegistration(tx, cert.accountId, cert.certificateMode, cert.certificateId);
  return insertRow(ctx, tx, cert);
}

export function setCertificateStatus(
  ctx: StoreContext,
  accountId: string,
  certificateId: string,
  to: CertificateStatus,
  allowedFrom: readonly CertificateStatus[],
): Promise<CertificateRecord> {
  return ctx.db.write(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    if (row.status === to) return certificateFromRow(row);
    if (!allowedFrom.includes(row.status as CertificateStatus)) {
      throw new RegistryError('STATE', `The certificate is ${row.status} and cannot be set to ${to}.`, row.status);
    }
    await tx.run(
      `UPDATE certificates SET status = $1, last_modified_date = $2, customer_version = customer_version + 1,
         generation_id = $3 WHERE account_id = $4 AND certificate_id = $5`,
      [to, ctx.now(), randomUUID(), accountId, certificateId],
    );
    return reload(tx, accountId, certificateId);
  });
}

export function deleteCertificate(
  ctx: StoreContext,
  accountId: string,
  certificateId: string,
  allowedFrom: readonly CertificateStatus[],
  forceDelete: boolean,
): Promise<void> {
  return ctx.db.write(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    const arn = ctx.certificateArn(accountId, certificateId);
    if (!allowedFrom.includes(row.status as CertificateStatus)) {
      const message =
        row.status === 'ACTIVE'
          ? `Certificate must be deactivated (not ACTIVE) before deletion. Id: ${certificateId}`
          : `A certificate in status ${row.status} cannot be deleted. Id: ${certificateId}`;
      throw new RegistryError('STATE', message, row.status);
    }
    const attached = await attachments(ctx, tx, accountId, certificateId);
    if (attached.things > 0) throw new RegistryError('THINGS_ATTACHED', `Things must be detached before deletion (arn: ${arn})`);
    if (attached.policies > 0 && !forceDelete) {
      throw new RegistryError('POLICIES_ATTACHED', `Certificate policies must be detached before deletion (arn: ${arn})`);
    }
    await tx.run('DELETE FROM policy_targets WHERE account_id = $1 AND target = $2', [accountId, arn]);
    await tx.run('DELETE FROM certificates WHERE account_id = $1 AND certificate_id = $2', [accountId, certificateId]);
  });
}

export function listCertificates(ctx: StoreContext, accountId: string, page: PageRequest, caCertificateId?: string): Promise<Page<CertificateRecord>> {
  const arms =
    caCertificateId !== undefined
      ? [{ select: 'SELECT * FROM certificates WHERE account_id = $1 AND ca_certificate_id = $2', params: [accountId, caCertificateId] }]
      : [
          { select: 'SELECT * FROM certificates WHERE account_id = $1', params: [accountId] },
          // Offers to this account (owned by another account, so the arms never overlap).
          {
            select: "SELECT * FROM certificates WHERE transfer_to = $1 AND status = 'PENDING_TRANSFER' AND account_id <> $2",
            params: [accountId, accountId],
          },
        ];
  return pageOf<CertificateRow, CertificateRecord>(ctx.db, arms, page, 'certificate_id', (row) => row.certificate_id, certificateFromRow);
}

export async function getCertificateVisibleTo(ctx: StoreContext, accountId: string, certificateId: string): Promise<CertificateRecord | null> {
  const row = await ctx.db.get<CertificateRow>(
    `SELECT * FROM certificates WHERE (account_id = $1 OR (transfer_to = $1 AND status = 'PENDING_TRANSFER'))
       AND certificate_id = $2 ORDER BY account_id = $1 DESC LIMIT 1`,
    [accountId, certificateId],
  );
  return row ? certificateFromRow(row) : null;
}

export function startTransfer(
  ctx: StoreContext,
  accountId: string,
  certificateId: string,
  targetAccountId: string,
  message: string | null,
): Promise<CertificateRecord> {
  return ctx.db.write(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    if (row.status !== 'INACTIVE') {
      throw new RegistryError('STATE', `The certificate is ${row.status}; only an INACTIVE certificate can be transferred.`, row.status);
    }
    const attached = await attachments(ctx, tx, accountId, certificateId);
    if (attached.policies > 0) throw new RegistryError('POLICIES_ATTACHED', 'Policies must be detached from the certificate before transfer.');
    if (attached.things > 0) throw new RegistryError('THINGS_ATTACHED', 'Things must be detached from the certificate before transfer.');
    if (!(await tx.get('SELECT 1 FROM accounts WHERE account_id = $1', [targetAccountId]))) {
      throw new RegistryError('NOT_FOUND', `The target account ${targetAccountId} does not exist in this installation.`);
    }
    if (await owned(tx, targetAccountId, certificateId)) {
      throw new RegistryError('ALREADY_EXISTS', 'The target account already holds this certificate.', certificateId);
    }
    const now = ctx.now();
    await tx.run(
      `UPDATE certificates SET status = 'PENDING_TRANSFER', transfer_to = $1, transfer_message = $2,
         transfer_date = $3, reject_reason = NULL, reject_date = NULL, accept_date = NULL,
         last_modified_date = $3, customer_version = customer_version + 1, generation_id = $4
       WHERE account_id = $5 AND certificate_id = $6`,
      [targetAccountId, message, now, randomUUID(), accountId, certificateId],
    );
    return reload(tx, accountId, certificateId);
  });
}

const COMPLETED = 'TRANSFER_COMPLETED';

function completed(certificateId: string): RegistryError {
  return new RegistryError('STATE', `The transfer of certificate ${certificateId} has already completed.`, COMPLETED);
}

/** The pending offer of `certificateId` to `targetAccountId`, or the reason there is none. */
async function offeredTo(tx: Queryable, targetAccountId: string, certificateId: string): Promise<CertificateRow> {
  const pending = await tx.get<CertificateRow>(OFFERED, [certificateId, targetAccountId]);
  if (pending) return pending;
  const accepted = await tx.get<CertificateRow>(
    'SELECT * FROM certificates WHERE account_id = $1 AND certificate_id = $2 AND transfer_to = $1 AND accept_date IS NOT NULL',
    [targetAccountId, certificateId],
  );
  if (accepted) throw completed(certificateId);
  throw new RegistryError('NOT_FOUND', `No transfer of certificate ${certificateId} to this account is pending.`);
}

export function acceptTransfer(ctx: StoreContext, accountId: string, certificateId: string, setAsActive: boolean): Promise<CertificateRecord> {
  return ctx.db.write(async (tx) => {
    const row = await offeredTo(tx, accountId, certificateId);
    // The registration moves: the rule holds for its new owner against every other account.
    const others = (await otherRegistrations(tx, accountId, certificateId)).filter((o) => o.accountId !== row.account_id);
    const refusal = registrationRefusal(accountId, row.certificate_mode as CertificateMode, certificateId, others);
    if (refusal) throw refusal;
    const now = ctx.now();
    await tx.run(
      `UPDATE certificates SET account_id = $1, previous_owned_by = $2, status = $3, accept_date = $4,
         last_modified_date = $4, customer_version = customer_version + 1, generation_id = $5
       WHERE account_id = $2 AND certificate_id = $6`,
      [accountId, row.account_id, setAsActive ? 'ACTIVE' : 'INACTIVE', now, randomUUID(), certificateId],
    );
    return reload(tx, accountId, certificateId);
  });
}

export function rejectTransfer(ctx: StoreContext, accountId: string, certificateId: string, reason: string | null): Promise<CertificateRecord> {
  return ctx.db.write(async (tx) => {
    const row = await offeredTo(tx, accountId, certificateId);
    const now = ctx.now();
    await tx.run(
      `UPDATE certificates SET status = 'INACTIVE', reject_reason = $1, reject_date = $2, last_modified_date = $2,
         customer_version = customer_version + 1, generation_id = $3
       WHERE account_id = $4 AND certificate_id = $5`,
      [reason, now, randomUUID(), row.account_id, certificateId],
    );
    return reload(tx, row.account_id, certificateId);
  });
}

export function cancelTransfer(ctx: StoreContext, accountId: string, certificateId: string): Promise<CertificateRecord> {
  return ctx.db.write(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) {
      const accepted = await tx.get(
        'SELECT 1 FROM certificates WHERE certificate_id = $1 AND previous_owned_by = $2 AND accept_date IS NOT NULL',
        [certificateId, accountId],
      );
      if (accepted) throw completed(certificateId);
      throw notFound(certificateId);
    }
    if (row.status !== 'PENDING_TRANSFER') {
      throw new RegistryError('STATE', `The certificate is ${row.status}, not PENDING_TRANSFER.`, row.status);
    }
    await tx.run(
      `UPDATE certificates SET status = 'INACTIVE', last_modified_date = $1, customer_version = customer_version + 1,
         generation_id = $2 WHERE account_id = $3 AND certificate_id = $4`,
      [ctx.now(), randomUUID(), accountId, certificateId],
    );
    return reload(tx, accountId, certificateId);
  });
}

export function listOutgoingTransfers(ctx: StoreContext, accountId: string, page: PageRequest): Promise<Page<OutgoingTransfer>> {
  return pageOf<CertificateRow, OutgoingTransfer>(
    ctx.db,
    [{ select: "SELECT * FROM certificates WHERE account_id = $1 AND status = 'PENDING_TRANSFER'", params: [accountId] }],
    page,
    'certificate_id',
    (row) => row.certificate_id,
    (row) => ({
      certificateId: row.certificate_id,
      transferredTo: row.transfer_to ?? '',
      transferDate: row.transfer_date ?? row.last_modified_date,
      transferMessage: row.transfer_message,
      creationDate: row.creation_date,
    }),
  );
}
