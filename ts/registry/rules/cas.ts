/**
 * CA certificates and their CRLs: one DEFAULT owner per CA
 * (https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html), at most
 * `LIMITS.MAX_CAS_PER_SUBJECT` CAs with one subject per account
 * (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#limits_iot), delete only
 * when not ACTIVE (https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteCACertificate.html),
 * and a CRL replaced only over the one its verification started from. Each write is one
 * store transaction: under SQLite's single writer or PostgreSQL's SERIALIZABLE, a check
 * of rows another process is inserting at that moment cannot be overtaken.
 */
import { randomUUID } from 'node:crypto';
import { META_COLUMNS, crlFromRow, crlMetaFromRow, type CaCrlRow } from '../crlRows.js';
import { caCertificateFromRow, type CaCertificateRow } from '../rows.js';
import type { Queries } from '../store.js';
import {
  LIMITS,
  RegistryError,
  type CaCertificateRecord,
  type CaCertificateUpdate,
  type CaCrlMeta,
  type CaCrlRecord,
  type NewCaCertificate,
  type NewCaCrl,
  type Page,
  type PageRequest,
} from '../types.js';
import { count, now, type Ctx } from './context.js';
import { pageOf } from './paging.js';

const OWNED = 'SELECT * FROM ca_certificates WHERE account_id = ? AND certificate_id = ?';
const CRL_KEY = 'WHERE account_id = ? AND ca_certificate_id = ?';

function notFound(caCertificateId: string): RegistryError {
  return new RegistryError('NOT_FOUND', 'CA_NOT_FOUND', { caCertificateId });
}

async function reload(tx: Queries, accountId: string, caCertificateId: string): Promise<CaCertificateRecord> {
  const row = await tx.get<CaCertificateRow>(OWNED, [accountId, caCertificateId]);
  if (!row) throw new Error(`CA certificate ${caCertificateId} vanished inside a transaction`);
  return caCertificateFromRow(row);
}

export function insertCaCertificate(ctx: Ctx, ca: NewCaCertificate): Promise<CaCertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    if (await tx.get(OWNED, [ca.accountId, ca.certificateId]))
      throw new RegistryError('ALREADY_EXISTS', 'CA_EXISTS', { resourceId: ca.certificateId });
    if (ca.certificateMode === 'DEFAULT') {
      const owner = await tx.get(
        "SELECT account_id FROM ca_certificates WHERE certificate_id = ? AND certificate_mode = 'DEFAULT' AND account_id <> ?",
        [ca.certificateId, ca.accountId],
      );
      if (owner) throw new RegistryError('DEFAULT_CA_OWNED_ELSEWHERE', 'CA_OWNED_ELSEWHERE', { resourceId: ca.certificateId });
    }
    const sameSubject = await tx.get<{ n: number }>('SELECT count(*) AS n FROM ca_certificates WHERE account_id = ? AND subject = ?', [
      ca.accountId,
      ca.subject,
    ]);
    if (count(sameSubject) >= LIMITS.MAX_CAS_PER_SUBJECT) {
      throw new RegistryError('SUBJECT_LIMIT', 'SUBJECT_LIMIT', { limit: LIMITS.MAX_CAS_PER_SUBJECT, subject: ca.subject });
    }
    const at = now();
    await tx.run(
      `INSERT INTO ca_certificates (account_id, certificate_id, certificate_pem, status, certificate_mode,
         auto_registration_status, subject, registration_config, template_name, tags, creation_date,
         last_modified_date, customer_version, generation_id, not_before, not_after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
      [
        ca.accountId,
        ca.certificateId,
        ca.certificatePem,
        ca.status,
        ca.certificateMode,
        ca.autoRegistrationStatus,
        ca.subject,
        ca.registrationConfig === null ? null : JSON.stringify(ca.registrationConfig),
        ca.registrationConfig?.templateName ?? null,
        JSON.stringify(ca.tags),
        at,
        at,
        randomUUID(),
        ca.notBefore,
        ca.notAfter,
      ],
    );
    return reload(tx, ca.accountId, ca.certificateId);
  });
}

export function updateCaCertificate(
  ctx: Ctx,
  accountId: string,
  caCertificateId: string,
  update: CaCertificateUpdate,
): Promise<CaCertificateRecord> {
  return ctx.store.transaction(async (tx) => {
    const row = await tx.get<CaCertificateRow>(OWNED, [accountId, caCertificateId]);
    if (!row) throw notFound(caCertificateId);
    const config = update.registrationConfig;
    await tx.run(
      `UPDATE ca_certificates SET status = ?, auto_registration_status = ?, registration_config = ?, template_name = ?,
         last_modified_date = ?, customer_version = customer_version + 1, generation_id = ?
       WHERE account_id = ? AND certificate_id = ?`,
      [
        update.status ?? row.status,
        update.autoRegistrationStatus ?? row.auto_registration_status,
        config === undefined ? row.registration_config : config === null ? null : JSON.stringify(config),
        config === undefined ? row.template_name : (config?.templateName ?? null),
        now(),
        randomUUID(),
        accountId,
        caCertificateId,
      ],
    );
    return reload(tx, accountId, caCertificateId);
  });
}

export function deleteCaCertificate(ctx: Ctx, accountId: string, caCertificateId: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    const row = await tx.get<CaCertificateRow>(OWNED, [accountId, caCertificateId]);
    if (!row) throw notFound(caCertificateId);
    if (row.status === 'ACTIVE') throw new RegistryError('STATE', 'CA_ACTIVE', { status: row.status, caCertificateId });
    await tx.run('DELETE FROM ca_certificates WHERE account_id = ? AND certificate_id = ?', [accountId, caCertificateId]);
  });
}

export function listCaCertificates(
  ctx: Ctx,
  accountId: string,
  page: PageRequest,
  templateName?: string,
): Promise<Page<CaCertificateRecord>> {
  const arm =
    templateName === undefined
      ? { select: 'SELECT * FROM ca_certificates WHERE account_id = ?', params: [accountId] }
      : { select: 'SELECT * FROM ca_certificates WHERE account_id = ? AND template_name = ?', params: [accountId, templateName] };
  return pageOf<CaCertificateRow, CaCertificateRecord>(
    ctx.store,
    [arm],
    page,
    'certificate_id',
    (row) => row.certificate_id,
    caCertificateFromRow,
  );
}

export async function findCaCertificatesBySubject(ctx: Ctx, accountId: string, subject: string): Promise<CaCertificateRecord[]> {
  const rows = await ctx.store.all<CaCertificateRow>(
    'SELECT * FROM ca_certificates WHERE account_id = ? AND subject = ? ORDER BY creation_date, certificate_id',
    [accountId, subject],
  );
  return rows.map(caCertificateFromRow);
}

// ---- Certificate revocation lists, one current CRL per registered CA ----

export async function getCaCrlMeta(db: Queries, accountId: string, caCertificateId: string): Promise<CaCrlMeta | null> {
  const row = await db.get<CaCrlRow>(`SELECT ${META_COLUMNS} FROM ca_crls ${CRL_KEY}`, [accountId, caCertificateId]);
  return row ? crlMetaFromRow(row) : null;
}

export async function getCaCrl(ctx: Ctx, accountId: string, caCertificateId: string): Promise<CaCrlRecord | null> {
  const row = await ctx.store.get<CaCrlRow>(`SELECT * FROM ca_crls ${CRL_KEY}`, [accountId, caCertificateId]);
  return row ? crlFromRow(row) : null;
}

/** Store `crl` as the CA's CRL, provided the current one is still `expectedCrlId` (compare-and-set). */
export function putCaCrl(ctx: Ctx, crl: NewCaCrl, expectedCrlId: string | null): Promise<CaCrlMeta> {
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.get(OWNED, [crl.accountId, crl.caCertificateId]))) throw notFound(crl.caCertificateId);
    const current = await tx.get<{ crl_id: string }>(`SELECT crl_id FROM ca_crls ${CRL_KEY}`, [crl.accountId, crl.caCertificateId]);
    if ((current?.crl_id ?? null) !== expectedCrlId) {
      throw new RegistryError('STATE', 'CRL_REPLACED', { status: current?.crl_id ?? 'NONE' });
    }
    await tx.run(
      `INSERT INTO ca_crls (account_id, ca_certificate_id, crl, crl_id, crl_number, this_update, next_update,
         entries, source, source_url, verified_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, ca_certificate_id) DO UPDATE SET crl = excluded.crl, crl_id = excluded.crl_id,
         crl_number = excluded.crl_number, this_update = excluded.this_update, next_update = excluded.next_update,
         entries = excluded.entries, source = excluded.source, source_url = excluded.source_url,
         verified_at = excluded.verified_at, updated_at = excluded.updated_at`,
      [
        crl.accountId,
        crl.caCertificateId,
        Buffer.from(crl.crl),
        crl.crlId,
        crl.crlNumber,
        crl.thisUpdate,
        crl.nextUpdate,
        crl.entries,
        crl.source,
        crl.sourceUrl,
        crl.verifiedAt,
        now(),
      ],
    );
    const stored = await getCaCrlMeta(tx, crl.accountId, crl.caCertificateId);
    if (stored === null) throw new Error('CRL vanished inside a transaction');
    return stored;
  });
}

export function deleteCaCrl(ctx: Ctx, accountId: string, caCertificateId: string): Promise<void> {
  return ctx.store.transaction(async (tx) => {
    if ((await tx.run(`DELETE FROM ca_crls ${CRL_KEY}`, [accountId, caCertificateId])) === 0) {
      throw new RegistryError('NOT_FOUND', 'CRL_NOT_FOUND', { caCertificateId });
    }
  });
}
