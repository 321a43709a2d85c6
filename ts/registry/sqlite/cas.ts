/** CA certificates in the SQLite backend (spec 3.2, 3.3, 4.3-4.7). */
import { randomUUID } from 'node:crypto';
import {
  LIMITS,
  RegistryError,
  type CaCertificateRecord,
  type CaCertificateUpdate,
  type NewCaCertificate,
  type Page,
  type PageRequest,
} from '../types.js';
import type { StoreContext } from './certificates.js';
import { pageOf } from './paging.js';
import { caCertificateFromRow, type CaCertificateRow } from './rows.js';

const OWNED = 'SELECT * FROM ca_certificates WHERE account_id = ? AND certificate_id = ?';

function notFound(caCertificateId: string): RegistryError {
  return new RegistryError('NOT_FOUND', `The CA certificate ${caCertificateId} does not exist in this account.`);
}

function reload(ctx: StoreContext, accountId: string, caCertificateId: string): CaCertificateRecord {
  const row = ctx.sqlite.get<CaCertificateRow>(OWNED, accountId, caCertificateId);
  if (!row) throw new Error(`CA certificate ${caCertificateId} vanished inside a transaction`);
  return caCertificateFromRow(row);
}

export function insertCaCertificate(ctx: StoreContext, ca: NewCaCertificate): CaCertificateRecord {
  return ctx.sqlite.write(() => {
    if (ctx.sqlite.get(OWNED, ca.accountId, ca.certificateId)) {
      throw new RegistryError('ALREADY_EXISTS', 'The CA certificate is already registered in this account.', ca.certificateId);
    }
    if (ca.certificateMode === 'DEFAULT') {
      const owner = ctx.sqlite.get<{ account_id: string }>(
        "SELECT account_id FROM ca_certificates WHERE certificate_id = ? AND certificate_mode = 'DEFAULT' AND account_id <> ?",
        ca.certificateId,
        ca.accountId,
      );
      if (owner) {
        throw new RegistryError(
          'DEFAULT_CA_OWNED_ELSEWHERE',
          'The CA certificate is already registered in DEFAULT mode by another account; register it with certificateMode SNI_ONLY.',
          ca.certificateId,
        );
      }
    }
    const sameSubject = ctx.sqlite.get<{ n: number }>(
      'SELECT count(*) AS n FROM ca_certificates WHERE account_id = ? AND subject = ?',
      ca.accountId,
      ca.subject,
    );
    if ((sameSubject?.n ?? 0) >= LIMITS.MAX_CAS_PER_SUBJECT) {
      throw new RegistryError(
        'SUBJECT_LIMIT',
        `The account already has ${LIMITS.MAX_CAS_PER_SUBJECT} CA certificates with the subject "${ca.subject}".`,
      );
    }
    const now = ctx.now();
    ctx.sqlite.run(
      `INSERT INTO ca_certificates (account_id, certificate_id, certificate_pem, status, certificate_mode,
         auto_registration_status, subject, registration_config, template_name, tags, creation_date,
         last_modified_date, customer_version, generation_id, not_before, not_after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
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
      now,
      now,
      randomUUID(),
      ca.notBefore,
      ca.notAfter,
    );
    return reload(ctx, ca.accountId, ca.certificateId);
  });
}

export function updateCaCertificate(
  ctx: StoreContext,
  accountId: string,
  caCertificateId: string,
  update: CaCertificateUpdate,
): CaCertificateRecord {
  return ctx.sqlite.write(() => {
    const row = ctx.sqlite.get<CaCertificateRow>(OWNED, accountId, caCertificateId);
    if (!row) throw notFound(caCertificateId);
    const config =
      update.registrationConfig === undefined
        ? row.registration_config
        : update.registrationConfig === null
          ? null
          : JSON.stringify(update.registrationConfig);
    const templateName =
      update.registrationConfig === undefined ? row.template_name : (update.registrationConfig?.templateName ?? null);
    ctx.sqlite.run(
      `UPDATE ca_certificates SET status = ?, auto_registration_status = ?, registration_config = ?,
         template_name = ?, last_modified_date = ?, customer_version = customer_version + 1, generation_id = ?
       WHERE account_id = ? AND certificate_id = ?`,
      update.status ?? row.status,
      update.autoRegistrationStatus ?? row.auto_registration_status,
      config,
      templateName,
      ctx.now(),
      randomUUID(),
      accountId,
      caCertificateId,
    );
    return reload(ctx, accountId, caCertificateId);
  });
}

export function deleteCaCertificate(ctx: StoreContext, accountId: string, caCertificateId: string): void {
  ctx.sqlite.write(() => {
    const row = ctx.sqlite.get<CaCertificateRow>(OWNED, accountId, caCertificateId);
    if (!row) throw notFound(caCertificateId);
    if (row.status === 'ACTIVE') {
      throw new RegistryError(
        'STATE',
        `The CA certificate must be deactivated (not ACTIVE) before deletion. Id: ${caCertificateId}`,
        row.status,
      );
    }
    ctx.sqlite.run('DELETE FROM ca_certificates WHERE account_id = ? AND certificate_id = ?', accountId, caCertificateId);
  });
}

export function listCaCertificates(
  ctx: StoreContext,
  accountId: string,
  page: PageRequest,
  templateName?: string,
): Page<CaCertificateRecord> {
  const select =
    templateName === undefined
      ? 'SELECT * FROM ca_certificates WHERE account_id = ?'
      : 'SELECT * FROM ca_certificates WHERE account_id = ? AND template_name = ?';
  const params = templateName === undefined ? [accountId] : [accountId, templateName];
  return pageOf<CaCertificateRow, CaCertificateRecord>(
    ctx.sqlite,
    [{ select, params }],
    page,
    'certificate_id',
    (row) => row.certificate_id,
    caCertificateFromRow,
  );
}
