/** Device certificates and transfers in the SQLite backend (spec 3.1, 4.8-4.17). */
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
import { registrationRefusal, type OtherRegistration } from '../rules.js';
import type { Sqlite } from './database.js';
import { pageOf } from './paging.js';
import { certificateFromRow, type CertificateRow } from './rows.js';

/** What the certificate store needs from its owner: the clock and ARNs. */
export interface StoreContext {
  sqlite: Sqlite;
  /** Epoch seconds, fractional. */
  now(): number;
  /** The principal ARN attachments use for a device certificate of `accountId`. */
  certificateArn(accountId: string, certificateId: string): string;
}

const OWNED = 'SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ?';

function owned(ctx: StoreContext, accountId: string, certificateId: string): CertificateRow | undefined {
  return ctx.sqlite.get<CertificateRow>(OWNED, accountId, certificateId);
}

function reload(ctx: StoreContext, accountId: string, certificateId: string): CertificateRecord {
  const row = owned(ctx, accountId, certificateId);
  if (!row) throw new Error(`certificate ${certificateId} vanished inside a transaction`);
  return certificateFromRow(row);
}

function notFound(certificateId: string): RegistryError {
  return new RegistryError('NOT_FOUND', `The certificate ${certificateId} does not exist in this account.`);
}

/** Count things and policies attached to the certificate's principal ARN. */
function attachments(ctx: StoreContext, accountId: string, certificateId: string): { things: number; policies: number } {
  const arn = ctx.certificateArn(accountId, certificateId);
  const things = ctx.sqlite.get<{ n: number }>(
    'SELECT count(*) AS n FROM thing_principals WHERE account_id = ? AND principal = ?',
    accountId,
    arn,
  );
  const policies = ctx.sqlite.get<{ n: number }>(
    'SELECT count(*) AS n FROM policy_targets WHERE account_id = ? AND target = ?',
    accountId,
    arn,
  );
  return { things: things?.n ?? 0, policies: policies?.n ?? 0 };
}

/**
 * Insert without any check but the primary key; used by `insertCertificate` (after its
 * checks) and by JITR.
 */
export function insertRow(ctx: StoreContext, cert: NewCertificate): CertificateRecord {
  const now = ctx.now();
  ctx.sqlite.run(
    `INSERT INTO certificates (account_id, certificate_id, certificate_pem, status, certificate_mode,
       ca_certificate_id, previous_owned_by, creation_date, last_modified_date, customer_version,
       generation_id, not_before, not_after)
     VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?, ?)`,
    cert.accountId,
    cert.certificateId,
    cert.certificatePem,
    cert.status,
    cert.certificateMode,
    cert.caCertificateId,
    now,
    now,
    randomUUID(),
    cert.notBefore,
    cert.notAfter,
  );
  return reload(ctx, cert.accountId, cert.certificateId);
}

/** The certificate's registrations in accounts other than `accountId`. */
function otherRegistrations(ctx: StoreContext, accountId: string, certificateId: string): OtherRegistration[] {
  return ctx.sqlite
    .all<{ account_id: string; certificate_mode: string }>(
      'SELECT account_id, certificate_mode FROM certificates WHERE certificate_id = ? AND account_id <> ?',
      certificateId,
      accountId,
    )
    .map((row) => ({ accountId: row.account_id, certificateMode: row.certificate_mode as CertificateMode }));
}

/**
 * The multi-account rule (`../rules.ts`) for a new registration of `certificateId` in
 * `accountId`; throws its refusal. Run inside the caller's write transaction.
 */
export function checkRegistration(ctx: StoreContext, accountId: string, mode: CertificateMode, certificateId: string): void {
  const refusal = registrationRefusal(accountId, mode, certificateId, otherRegistrations(ctx, accountId, certificateId));
  if (refusal) throw refusal;
}

/** Register a device certificate (the multi-account rule is in `../rules.ts`). */
export function insertCertificate(ctx: StoreContext, cert: NewCertificate): CertificateRecord {
  return ctx.sqlite.write(() => insertChecked(ctx, cert));
}

/**
 * Many registrations in one transaction; each in a savepoint (better-sqlite3 nests
 * transactions as savepoints), so a refused one rolls back alone.
 */
export function insertCertificates(ctx: StoreContext, certs: readonly NewCertificate[]): BulkInsertResult[] {
  return ctx.sqlite.write(() =>
    certs.map((cert): BulkInsertResult => {
      try {
        ctx.sqlite.write(() => insertChecked(ctx, cert));
        return { certificateId: cert.certificateId, ok: true };
      } catch (error) {
        if (error instanceof RegistryError) return { certificateId: cert.certificateId, ok: false, error };
        throw error;
      }
    }),
  );
}

/** insertCertificate's checks and insert, inside the caller's write transaction. */
function insertChecked(ctx: StoreContext, cert: NewCertificate): CertificateRecord {
  {
    const exists = new RegistryError(
      'ALREADY_EXISTS',
      'The certificate is already provisioned or registered',
      cert.certificateId,
    );
    if (owned(ctx, cert.accountId, cert.certificateId)) throw exists;
    const offered = ctx.sqlite.get<CertificateRow>(
      "SELECT * FROM certificates WHERE certificate_id = ? AND transfer_to = ? AND status = 'PENDING_TRANSFER'",
      cert.certificateId,
      cert.accountId,
    );
    if (offered) throw exists;
    checkRegistration(ctx, cert.accountId, cert.certificateMode, cert.certificateId);
    return insertRow(ctx, cert);
  }
}

export function setCertificateStatus(
  ctx: StoreContext,
  accountId: string,
  certificateId: string,
  to: CertificateStatus,
  allowedFrom: readonly CertificateStatus[],
): CertificateRecord {
  return ctx.sqlite.write(() => {
    const row = owned(ctx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    if (row.status === to) return certificateFromRow(row);
    if (!allowedFrom.includes(row.status as CertificateStatus)) {
      throw new RegistryError('STATE', `The certificate is ${row.status} and cannot be set to ${to}.`, row.status);
    }
    ctx.sqlite.run(
      `UPDATE certificates SET status = ?, last_modified_date = ?, customer_version = customer_version + 1,
         generation_id = ? WHERE account_id = ? AND certificate_id = ?`,
      to,
      ctx.now(),
      randomUUID(),
      accountId,
      certificateId,
    );
    return reload(ctx, accountId, certificateId);
  });
}

export function deleteCertificate(
  ctx: StoreContext,
  accountId: string,
  certificateId: string,
  allowedFrom: readonly CertificateStatus[],
  forceDelete: boolean,
): void {
  ctx.sqlite.write(() => {
    const row = owned(ctx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    const arn = ctx.certificateArn(accountId, certificateId);
    if (!allowedFrom.includes(row.status as CertificateStatus)) {
      const message =
        row.status === 'ACTIVE'
          ? `Certificate must be deactivated (not ACTIVE) before deletion. Id: ${certificateId}`
          : `A certificate in status ${row.status} cannot be deleted. Id: ${certificateId}`;
      throw new RegistryError('STATE', message, row.status);
    }
    const attached = attachments(ctx, accountId, certificateId);
    if (attached.things > 0) {
      throw new RegistryError('THINGS_ATTACHED', `Things must be detached before deletion (arn: ${arn})`);
    }
    if (attached.policies > 0 && !forceDelete) {
      throw new RegistryError('POLICIES_ATTACHED', `Certificate policies must be detached before deletion (arn: ${arn})`);
    }
    ctx.sqlite.run('DELETE FROM policy_targets WHERE account_id = ? AND target = ?', accountId, arn);
    ctx.sqlite.run('DELETE FROM certificates WHERE account_id = ? AND certificate_id = ?', accountId, certificateId);
  });
}

const VISIBLE = `SELECT * FROM certificates WHERE (account_id = ? OR (transfer_to = ? AND status = 'PENDING_TRANSFER'))`;

export function listCertificates(
  ctx: StoreContext,
  accountId: string,
  page: PageRequest,
  caCertificateId?: string,
): Page<CertificateRecord> {
  if (caCertificateId !== undefined) {
    return pageOf<CertificateRow, CertificateRecord>(
      ctx.sqlite,
      [{ select: 'SELECT * FROM certificates WHERE account_id = ? AND ca_certificate_id = ?', params: [accountId, caCertificateId] }],
      page,
      'certificate_id',
      (row) => row.certificate_id,
      certificateFromRow,
    );
  }
  return pageOf<CertificateRow, CertificateRecord>(
    ctx.sqlite,
    [
      { select: 'SELECT * FROM certificates WHERE account_id = ?', params: [accountId] },
      // Offers to this account (owned by another account, so the arms never overlap).
      { select: "SELECT * FROM certificates WHERE transfer_to = ? AND status = 'PENDING_TRANSFER' AND account_id <> ?", params: [accountId, accountId] },
    ],
    page,
    'certificate_id',
    (row) => row.certificate_id,
    certificateFromRow,
  );
}

export function getCertificateVisibleTo(ctx: StoreContext, accountId: string, certificateId: string): CertificateRecord | null {
  const row = ctx.sqlite.get<CertificateRow>(
    `${VISIBLE} AND certificate_id = ? ORDER BY account_id = ? DESC LIMIT 1`,
    accountId,
    accountId,
    certificateId,
    accountId,
  );
  return row ? certificateFromRow(row) : null;
}

export function startTransfer(
  ctx: StoreContext,
  accountId: string,
  certificateId: string,
  targetAccountId: string,
  message: string | null,
): CertificateRecord {
  return ctx.sqlite.write(() => {
    const row = owned(ctx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    if (row.status !== 'INACTIVE') {
      throw new RegistryError(
        'STATE',
        `The certificate is ${row.status}; only an INACTIVE certificate can be transferred.`,
        row.status,
      );
    }
    const attached = attachments(ctx, accountId, certificateId);
    if (attached.policies > 0) {
      throw new RegistryError('POLICIES_ATTACHED', 'Policies must be detached from the certificate before transfer.');
    }
    if (attached.things > 0) {
      throw new RegistryError('THINGS_ATTACHED', 'Things must be detached from the certificate before transfer.');
    }
    if (!ctx.sqlite.get('SELECT 1 FROM accounts WHERE account_id = ?', targetAccountId)) {
      throw new RegistryError('NOT_FOUND', `The target account ${targetAccountId} does not exist in this installation.`);
    }
    if (owned(ctx, targetAccountId, certificateId)) {
      throw new RegistryError('ALREADY_EXISTS', 'The target account already holds this certificate.', certificateId);
    }
    ctx.sqlite.run(
      `UPDATE certificates SET status = 'PENDING_TRANSFER', transfer_to = ?, transfer_message = ?,
         transfer_date = ?, reject_reason = NULL, reject_date = NULL, accept_date = NULL,
         last_modified_date = ?, customer_version = customer_version + 1, generation_id = ?
       WHERE account_id = ? AND certificate_id = ?`,
      targetAccountId,
      message,
      ctx.now(),
      ctx.now(),
      randomUUID(),
      accountId,
      certificateId,
    );
    return reload(ctx, accountId, certificateId);
  });
}

const COMPLETED = 'TRANSFER_COMPLETED';

function completed(certificateId: string): RegistryError {
  return new RegistryError('STATE', `The transfer of certificate ${certificateId} has already completed.`, COMPLETED);
}

/** The pending offer of `certificateId` to `targetAccountId`, or the reason there is none. */
function offeredTo(ctx: StoreContext, targetAccountId: string, certificateId: string): CertificateRow {
  const pending = ctx.sqlite.get<CertificateRow>(
    "SELECT * FROM certificates WHERE certificate_id = ? AND transfer_to = ? AND status = 'PENDING_TRANSFER'",
    certificateId,
    targetAccountId,
  );
  if (pending) return pending;
  const accepted = ctx.sqlite.get<CertificateRow>(
    'SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ? AND transfer_to = ? AND accept_date IS NOT NULL',
    targetAccountId,
    certificateId,
    targetAccountId,
  );
  if (accepted) throw completed(certificateId);
  throw new RegistryError('NOT_FOUND', `No transfer of certificate ${certificateId} to this account is pending.`);
}

export function acceptTransfer(ctx: StoreContext, accountId: string, certificateId: string, setAsActive: boolean): CertificateRecord {
  return ctx.sqlite.write(() => {
    const row = offeredTo(ctx, accountId, certificateId);
    // The registration moves: the rule holds for its new owner against every other account.
    const others = otherRegistrations(ctx, accountId, certificateId).filter((o) => o.accountId !== row.account_id);
    const refusal = registrationRefusal(accountId, row.certificate_mode as CertificateMode, certificateId, others);
    if (refusal) throw refusal;
    ctx.sqlite.run(
      `UPDATE certificates SET account_id = ?, previous_owned_by = ?, status = ?, accept_date = ?,
         last_modified_date = ?, customer_version = customer_version + 1, generation_id = ?
       WHERE account_id = ? AND certificate_id = ?`,
      accountId,
      row.account_id,
      setAsActive ? 'ACTIVE' : 'INACTIVE',
      ctx.now(),
      ctx.now(),
      randomUUID(),
      row.account_id,
      certificateId,
    );
    return reload(ctx, accountId, certificateId);
  });
}

export function rejectTransfer(ctx: StoreContext, accountId: string, certificateId: string, reason: string | null): CertificateRecord {
  return ctx.sqlite.write(() => {
    const row = offeredTo(ctx, accountId, certificateId);
    ctx.sqlite.run(
      `UPDATE certificates SET status = 'INACTIVE', reject_reason = ?, reject_date = ?, last_modified_date = ?,
         customer_version = customer_version + 1, generation_id = ?
       WHERE account_id = ? AND certificate_id = ?`,
      reason,
      ctx.now(),
      ctx.now(),
      randomUUID(),
      row.account_id,
      certificateId,
    );
    return reload(ctx, row.account_id, certificateId);
  });
}

export function cancelTransfer(ctx: StoreContext, accountId: string, certificateId: string): CertificateRecord {
  return ctx.sqlite.write(() => {
    const row = owned(ctx, accountId, certificateId);
    if (!row) {
      const accepted = ctx.sqlite.get(
        'SELECT 1 FROM certificates WHERE certificate_id = ? AND previous_owned_by = ? AND accept_date IS NOT NULL',
        certificateId,
        accountId,
      );
      if (accepted) throw completed(certificateId);
      throw notFound(certificateId);
    }
    if (row.status !== 'PENDING_TRANSFER') {
      throw new RegistryError('STATE', `The certificate is ${row.status}, not PENDING_TRANSFER.`, row.status);
    }
    ctx.sqlite.run(
      `UPDATE certificates SET status = 'INACTIVE', last_modified_date = ?, customer_version = customer_version + 1,
         generation_id = ? WHERE account_id = ? AND certificate_id = ?`,
      ctx.now(),
      randomUUID(),
      accountId,
      certificateId,
    );
    return reload(ctx, accountId, certificateId);
  });
}

export function listOutgoingTransfers(ctx: StoreContext, accountId: string, page: PageRequest): Page<OutgoingTransfer> {
  return pageOf<CertificateRow, OutgoingTransfer>(
    ctx.sqlite,
    [{ select: "SELECT * FROM certificates WHERE account_id = ? AND status = 'PENDING_TRANSFER'", params: [accountId] }],
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
