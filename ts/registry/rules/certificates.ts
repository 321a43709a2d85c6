/**
 * Device certificates, JITR registrations and transfers: each rule once, each write one
 * store transaction (atomic against every other writer, see `../store.ts`).
 * AWS IoT references: https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteCertificate.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_TransferCertificate.html and the
 * Accept/Reject/CancelCertificateTransfer pages beside it.
 */
import { randomUUID } from 'node:crypto';
import { certificateFromRow, type CertificateRow } from '../rows.js';
import type { Queries } from '../store.js';
import {
  RegistryError,
  type BulkInsertResult,
  type CertificateFacts,
  type CertificateMode,
  type CertificateRecord,
  type CertificateStatus,
  type NewCertificate,
  type OutgoingTransfer,
  type Page,
  type PageRequest,
  type PendingActivationResult,
} from '../types.js';
import { arnOf, count, now, type Ctx } from './context.js';
import { pageOf } from './paging.js';
import { registrationRefusal, type OtherRegistration } from './registration.js';

const OWNED = 'SELECT * FROM certificates WHERE account_id = ? AND certificate_id = ?';
const OFFERED = "SELECT * FROM certificates WHERE certificate_id = ? AND transfer_to = ? AND status = 'PENDING_TRANSFER'";
/** The columns every change of a registration bumps. */
const BUMP = 'last_modified_date = ?, customer_version = customer_version + 1, generation_id = ?';

const owned = (tx: Queries, accountId: string, certificateId: string) => tx.get<CertificateRow>(OWNED, [accountId, certificateId]);

async function reload(tx: Queries, accountId: string, certificateId: string): Promise<CertificateRecord> {
  const row = await owned(tx, accountId, certificateId);
  if (!row) throw new Error(`certificate ${certificateId} vanished inside a transaction`);
  return certificateFromRow(row);
}

function notFound(certificateId: string): RegistryError {
  return new RegistryError('NOT_FOUND', 'CERTIFICATE_NOT_FOUND', { certificateId });
}

/** Things and policies attached to the certificate's principal ARN. */
async function attachments(ctx: Ctx, tx: Queries, accountId: string, certificateId: string): Promise<{ things: number; policies: number }> {
  const arn = arnOf(ctx, accountId, certificateId);
  const things = await tx.get<{ n: number }>('SELECT count(*) AS n FROM thing_principals WHERE account_id = ? AND principal = ?', [
    accountId,
    arn,
  ]);
  const policies = await tx.get<{ n: number }>('SELECT count(*) AS n FROM policy_targets WHERE account_id = ? AND target = ?', [
    accountId,
    arn,
  ]);
  return { things: count(things), policies: count(policies) };
}

/** The columns of a new registration, in `insertRows`' order. */
const INSERT_COLUMNS = `account_id, certificate_id, certificate_pem, status, certificate_mode,
       ca_certificate_id, previous_owned_by, creation_date, last_modified_date, customer_version,
       generation_id, not_before, not_after`;
const INSERT_VALUES = '(?, ?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?, ?)';

/**
 * Rows per multi-row INSERT (11 parameters each): far below both databases' limits on
 * parameters per statement (PostgreSQL 65,535; SQLite 32,766), and few enough
 * statements that a batch of thousands costs a handful of round trips on PostgreSQL.
 */
export const ROWS_PER_INSERT = 500;

/**
 * Insert new registrations without any check but the primary key (after the callers'
 * checks), ROWS_PER_INSERT to a statement. Every path that adds a registration writes
 * through here.
 */
async function insertRows(tx: Queries, certs: readonly NewCertificate[]): Promise<void> {
  const at = now();
  for (let start = 0; start < certs.length; start += ROWS_PER_INSERT) {
    const chunk = certs.slice(start, start + ROWS_PER_INSERT);
    await tx.run(
      `INSERT INTO certificates (${INSERT_COLUMNS}) VALUES ${chunk.map(() => INSERT_VALUES).join(', ')}`,
      chunk.flatMap((cert) => [
        cert.accountId,
        cert.certificateId,
        cert.certificatePem,
        cert.status,
        cert.certificateMode,
        cert.caCertificateId,
        at,
        at,
        randomUUID(),
        cert.notBefore,
        cert.notAfter,
      ]),
    );
  }
}

/** Insert one registration (after `refusalOf`'s checks, or JITR's) and read it back. */
async function insertRow(tx: Queries, cert: NewCertificate): Promise<CertificateRecord> {
  await insertRows(tx, [cert]);
  return reload(tx, cert.accountId, cert.certificateId);
}

/** The certificate's registrations in accounts other than `accountId`. */
async function otherRegistrations(tx: Queries, accountId: string, certificateId: string): Promise<OtherRegistration[]> {
  const rows = await tx.all<{ account_id: string; certificate_mode: string }>(
    'SELECT account_id, certificate_mode FROM certificates WHERE certificate_id = ? AND account_id <> ?',
    [certificateId, accountId],
  );
  return rows.map((row) => ({ accountId: row.account_id, certificateMode: row.certificate_mode as CertificateMode }));
}

/** The multi-account rule (`registration.ts`) for a new registration; throws its refusal. */
async function checkRegistration(tx: Queries, accountId: string, mode: CertificateMode, certificateId: string): Promise<void> {
  const refusal = registrationRefusal(accountId, mode, certificateId, await otherRegistrations(tx, accountId, certificateId));
  if (refusal) throw refusal;
}

export function insertCertificate(ctx: Ctx, cert: NewCertificate): Promise<CertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const refusal = refusalOf(cert, (await heldOf(tx, [cert.certificateId])).get(cert.certificateId) ?? []);
    if (refusal) throw refusal;
    return insertRow(tx, cert);
  });
}

/** What the checks of a new registration read about a certificate's existing registrations. */
interface Held {
  accountId: string;
  certificateMode: CertificateMode;
  offeredTo: string | null;
}

/**
 * Why `cert` may not be registered, given every registration of its certificate (`held`):
 * held by its account already or offered to it by a pending transfer, or the
 * multi-account rule (registration.ts).
 */
function refusalOf(cert: NewCertificate, held: readonly Held[]): RegistryError | undefined {
  if (held.some((h) => h.accountId === cert.accountId || h.offeredTo === cert.accountId))
    return new RegistryError('ALREADY_EXISTS', 'CERTIFICATE_EXISTS', { resourceId: cert.certificateId });
  return registrationRefusal(
    cert.accountId,
    cert.certificateMode,
    cert.certificateId,
    held.filter((h) => h.accountId !== cert.accountId),
  );
}

/** Every registration of the certificates `ids`, by certificate id (ROWS_PER_INSERT ids a query). */
async function heldOf(tx: Queries, ids: readonly string[]): Promise<Map<string, Held[]>> {
  const held = new Map<string, Held[]>();
  const unique = [...new Set(ids)];
  for (let start = 0; start < unique.length; start += ROWS_PER_INSERT) {
    const chunk = unique.slice(start, start + ROWS_PER_INSERT);
    const rows = await tx.all<{
      certificate_id: string;
      account_id: string;
      certificate_mode: string;
      status: string;
      transfer_to: string | null;
    }>(
      `SELECT certificate_id, account_id, certificate_mode, status, transfer_to FROM certificates WHERE certificate_id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const row of rows) {
      const list = held.get(row.certificate_id) ?? [];
      list.push({
        accountId: row.account_id,
        certificateMode: row.certificate_mode as CertificateMode,
        offeredTo: row.status === 'PENDING_TRANSFER' ? row.transfer_to : null,
      });
      held.set(row.certificate_id, list);
    }
  }
  return held;
}

/**
 * Many registrations in one transaction, each checked as `insertCertificate` checks it,
 * in order (a later entry sees the earlier ones of the batch), a refused one leaving the
 * others. Set-wise, so a batch of thousands is a few statements rather than several per
 * certificate: one read of every registration of the batch's certificates, the checks
 * in memory, then multi-row INSERTs of the accepted ones. Correct against concurrent
 * writers for the same reason as the one-by-one checks: the whole batch is one
 * transaction (SQLite: one writer at a time; PostgreSQL: SERIALIZABLE).
 */
export function insertCertificates(ctx: Ctx, certs: readonly NewCertificate[]): Promise<BulkInsertResult[]> {
  if (certs.length === 0) return Promise.resolve([]);
  return ctx.store.transaction(async (tx) => {
    const held = await heldOf(
      tx,
      certs.map((c) => c.certificateId),
    );
    const accepted: NewCertificate[] = [];
    const results = certs.map((cert): BulkInsertResult => {
      const list = held.get(cert.certificateId) ?? [];
      const error = refusalOf(cert, list);
      if (error) return { certificateId: cert.certificateId, ok: false, error };
      accepted.push(cert);
      list.push({ accountId: cert.accountId, certificateMode: cert.certificateMode, offeredTo: null });
      held.set(cert.certificateId, list);
      return { certificateId: cert.certificateId, ok: true };
    });
    await insertRows(tx, accepted);
    return results;
  });
}

/**
 * JITR: an unknown certificate of an auto-registering CA becomes PENDING_ACTIVATION once,
 * however many processes or sidecars see its first connection at the same time, and
 * obeys the multi-account rule like every other registration path.
 */
export function registerPendingActivation(
  ctx: Ctx,
  accountId: string,
  facts: CertificateFacts,
  caCertificateId: string,
  mode: CertificateMode,
): Promise<PendingActivationResult> {
  return ctx.store.transaction(async (tx) => {
    const existing = await owned(tx, accountId, facts.certificateId);
    if (existing) return { record: certificateFromRow(existing), created: false };
    await checkRegistration(tx, accountId, mode, facts.certificateId);
    const record = await insertRow(tx, { ...facts, accountId, status: 'PENDING_ACTIVATION', certificateMode: mode, caCertificateId });
    return { record, created: true };
  });
}

/** Status compare-and-set: `to` only from one of `allowedFrom` (setting the current status is a no-op). */
export function setCertificateStatus(
  ctx: Ctx,
  accountId: string,
  certificateId: string,
  to: CertificateStatus,
  allowedFrom: readonly CertificateStatus[],
): Promise<CertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    if (row.status === to) return certificateFromRow(row);
    if (!allowedFrom.includes(row.status as CertificateStatus)) {
      throw new RegistryError('STATE', 'CERTIFICATE_STATUS', { status: row.status, to });
    }
    await tx.run(`UPDATE certificates SET status = ?, ${BUMP} WHERE account_id = ? AND certificate_id = ?`, [
      to,
      now(),
      randomUUID(),
      accountId,
      certificateId,
    ]);
    return reload(tx, accountId, certificateId);
  });
}

/** Delete preconditions: an allowed status, no things, no policies unless forced (they go with it). */
export function deleteCertificate(
  ctx: Ctx,
  accountId: string,
  certificateId: string,
  allowedFrom: readonly CertificateStatus[],
  forceDelete: boolean,
): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    const arn = arnOf(ctx, accountId, certificateId);
    if (!allowedFrom.includes(row.status as CertificateStatus))
      throw new RegistryError('STATE', 'CERTIFICATE_NOT_DELETABLE', { status: row.status, certificateId });
    const attached = await attachments(ctx, tx, accountId, certificateId);
    if (attached.things > 0) throw new RegistryError('THINGS_ATTACHED', 'THINGS_ATTACHED', { arn });
    if (attached.policies > 0 && !forceDelete) throw new RegistryError('POLICIES_ATTACHED', 'POLICIES_ATTACHED', { arn });
    await tx.run('DELETE FROM policy_targets WHERE account_id = ? AND target = ?', [accountId, arn]);
    await tx.run('DELETE FROM certificates WHERE account_id = ? AND certificate_id = ?', [accountId, certificateId]);
  });
}

/** The account's certificates, and the ones offered to it (owned elsewhere, so the arms never overlap). */
export function listCertificates(
  ctx: Ctx,
  accountId: string,
  page: PageRequest,
  caCertificateId?: string,
): Promise<Page<CertificateRecord>> {
  const arms =
    caCertificateId !== undefined
      ? [{ select: 'SELECT * FROM certificates WHERE account_id = ? AND ca_certificate_id = ?', params: [accountId, caCertificateId] }]
      : [
          { select: 'SELECT * FROM certificates WHERE account_id = ?', params: [accountId] },
          {
            select: "SELECT * FROM certificates WHERE transfer_to = ? AND status = 'PENDING_TRANSFER' AND account_id <> ?",
            params: [accountId, accountId],
          },
        ];
  return pageOf<CertificateRow, CertificateRecord>(
    ctx.store,
    arms,
    page,
    'certificate_id',
    (row) => row.certificate_id,
    certificateFromRow,
  );
}

/** The account's own registration, else one offered to it. */
export async function getCertificateVisibleTo(ctx: Ctx, accountId: string, certificateId: string): Promise<CertificateRecord | null> {
  const row = await ctx.store.get<CertificateRow>(
    `SELECT * FROM certificates WHERE (account_id = ? OR (transfer_to = ? AND status = 'PENDING_TRANSFER'))
       AND certificate_id = ? ORDER BY account_id = ? DESC LIMIT 1`,
    [accountId, accountId, certificateId, accountId],
  );
  return row ? certificateFromRow(row) : null;
}

/** Transfer preconditions: INACTIVE, nothing attached, the target exists and does not hold it. */
export function startTransfer(
  ctx: Ctx,
  accountId: string,
  certificateId: string,
  targetAccountId: string,
  message: string | null,
): Promise<CertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) throw notFound(certificateId);
    if (row.status !== 'INACTIVE') throw new RegistryError('STATE', 'TRANSFER_NOT_INACTIVE', { status: row.status });
    const attached = await attachments(ctx, tx, accountId, certificateId);
    if (attached.policies > 0) throw new RegistryError('POLICIES_ATTACHED', 'TRANSFER_POLICIES_ATTACHED');
    if (attached.things > 0) throw new RegistryError('THINGS_ATTACHED', 'TRANSFER_THINGS_ATTACHED');
    if (!(await tx.get('SELECT 1 FROM accounts WHERE account_id = ?', [targetAccountId]))) {
      throw new RegistryError('NOT_FOUND', 'TRANSFER_TARGET_NOT_FOUND', { accountId: targetAccountId });
    }
    if (await owned(tx, targetAccountId, certificateId))
      throw new RegistryError('ALREADY_EXISTS', 'TRANSFER_TARGET_HOLDS', { resourceId: certificateId });
    const at = now();
    await tx.run(
      `UPDATE certificates SET status = 'PENDING_TRANSFER', transfer_to = ?, transfer_message = ?, transfer_date = ?,
         reject_reason = NULL, reject_date = NULL, accept_date = NULL, ${BUMP}
       WHERE account_id = ? AND certificate_id = ?`,
      [targetAccountId, message, at, at, randomUUID(), accountId, certificateId],
    );
    return reload(tx, accountId, certificateId);
  });
}

function completed(certificateId: string): RegistryError {
  return new RegistryError('STATE', 'TRANSFER_COMPLETED', { certificateId });
}

/** The pending offer of `certificateId` to `targetAccountId`, or the reason there is none. */
async function offeredTo(tx: Queries, targetAccountId: string, certificateId: string): Promise<CertificateRow> {
  const pending = await tx.get<CertificateRow>(OFFERED, [certificateId, targetAccountId]);
  if (pending) return pending;
  const accepted = await tx.get(
    'SELECT 1 FROM certificates WHERE account_id = ? AND certificate_id = ? AND transfer_to = ? AND accept_date IS NOT NULL',
    [targetAccountId, certificateId, targetAccountId],
  );
  if (accepted) throw completed(certificateId);
  throw new RegistryError('NOT_FOUND', 'TRANSFER_NOT_PENDING', { certificateId });
}

export function acceptTransfer(ctx: Ctx, accountId: string, certificateId: string, setAsActive: boolean): Promise<CertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const row = await offeredTo(tx, accountId, certificateId);
    // The registration moves: the rule holds for its new owner against every other account.
    const others = (await otherRegistrations(tx, accountId, certificateId)).filter((o) => o.accountId !== row.account_id);
    const refusal = registrationRefusal(accountId, row.certificate_mode as CertificateMode, certificateId, others);
    if (refusal) throw refusal;
    const at = now();
    await tx.run(
      `UPDATE certificates SET account_id = ?, previous_owned_by = ?, status = ?, accept_date = ?, ${BUMP}
       WHERE account_id = ? AND certificate_id = ?`,
      [accountId, row.account_id, setAsActive ? 'ACTIVE' : 'INACTIVE', at, at, randomUUID(), row.account_id, certificateId],
    );
    return reload(tx, accountId, certificateId);
  });
}

export function rejectTransfer(ctx: Ctx, accountId: string, certificateId: string, reason: string | null): Promise<CertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const row = await offeredTo(tx, accountId, certificateId);
    const at = now();
    await tx.run(
      `UPDATE certificates SET status = 'INACTIVE', reject_reason = ?, reject_date = ?, ${BUMP} WHERE account_id = ? AND certificate_id = ?`,
      [reason, at, at, randomUUID(), row.account_id, certificateId],
    );
    return reload(tx, row.account_id, certificateId);
  });
}

export function cancelTransfer(ctx: Ctx, accountId: string, certificateId: string): Promise<CertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const row = await owned(tx, accountId, certificateId);
    if (!row) {
      const accepted = await tx.get(
        'SELECT 1 FROM certificates WHERE certificate_id = ? AND previous_owned_by = ? AND accept_date IS NOT NULL',
        [certificateId, accountId],
      );
      if (accepted) throw completed(certificateId);
      throw notFound(certificateId);
    }
    if (row.status !== 'PENDING_TRANSFER') throw new RegistryError('STATE', 'TRANSFER_NOT_STARTED', { status: row.status });
    await tx.run(`UPDATE certificates SET status = 'INACTIVE', ${BUMP} WHERE account_id = ? AND certificate_id = ?`, [
      now(),
      randomUUID(),
      accountId,
      certificateId,
    ]);
    return reload(tx, accountId, certificateId);
  });
}

export function listOutgoingTransfers(ctx: Ctx, accountId: string, page: PageRequest): Promise<Page<OutgoingTransfer>> {
  return pageOf<CertificateRow, OutgoingTransfer>(
    ctx.store,
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
