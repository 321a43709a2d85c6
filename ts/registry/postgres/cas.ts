/**
 * CA certificates in the PostgreSQL backend (spec 3.2, 3.3, 4.3-4.7): the same checks as
 * `../sqlite/cas.ts`, each write one serializable transaction. The DEFAULT-owner check
 * and the same-subject count read rows another host may be inserting at that moment;
 * serializable isolation aborts and reruns one of two such transactions, so the rules
 * hold across sidecars (`database.ts`).
 */
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
import { caCertificateFromRow, type CaCertificateRow } from '../sqlite/rows.js';
import type { StoreContext } from './certificates.js';
import type { Queryable } from './database.js';
import { pageOf } from './paging.js';

const OWNED = 'SELECT * FROM ca_certificates WHERE account_id = $1 AND certificate_id = $2';

function notFound(caCertificateId: string): RegistryError {
  return new RegistryError('NOT_FOUND', `The CA certificate ${caCertificateId} does not exist in this account.`);
}

async function reload(tx: Queryable, accountId: string, caCertificateId: string): Promise<CaCertificateRecord> {
  const row = await tx.get<CaCertificateRow>(OWNED, [accountId, caCertificateId]);
  if (!row) throw new Error(`CA certificate ${caCertificateId} vanished inside a transaction`);
  return caCertificateFromRow(row);
}

export function insertCaCertificate(ctx: StoreContext, ca: NewCaCertificate): Promise<CaCertificateRecord> {
  return ctx.db.write(async (tx) => {
    if (await tx.get(OWNED, [ca.accountId, ca.certificateId])) {
      throw new RegistryError('ALREADY_EXISTS', 'The CA certificate is already registered in this account.', ca.certificateId);
    }
    if (ca.certificateMode === 'DEFAULT') {
      const owner = await tx.get<{ account_id: string }>(
        "SELECT account_id FROM ca_certificates WHERE certificate_id = $1 AND certificate_mode = 'DEFAULT' AND account_id <> $2",
        [ca.certificateId, ca.accountId],
      );
      if (owner) {
        throw new RegistryError(
          'DEFAULT_CA_OWNED_ELSEWHERE',
          'The CA certificate is already registered in DEFAULT mode by another account; register it with certificateMode SNI_ONLY.',
          ca.certificateId,
        );
      }
    }
    const sameSubject = await tx.get<{ n: number }>('SELECT count(*)::int AS n FROM ca_certificates WHERE account_id = $1 AND subject = $2', [
      ca.accountId,
      ca.subject,
    ]);
    if ((sameSubject?.n ?? 0) >= LIMITS.MAX_CAS_PER_SUBJECT) {
      throw new RegistryError('SUBJECT_LIMIT', `The account already has ${LIMITS.MAX_CAS_PER_SUBJECT} CA certificates with the subject "${ca.subject}".`);
    }
    const now = ctx.now();
    await tx.run(
      `INSERT INTO ca_certificates (account_id, certificate_id, certificate_pem, status, certificate_mode,
         auto_registration_status, subject, registration_config, template_name, tags, creation_date,
         last_modified_date, customer_version, generation_id, not_before, not_after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1, $12, $13, $14)`,
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
        now,
        randomUUID(),
        ca.notBefore,
        ca.notAfter,
      ],
    );
    return reload(tx, ca.accountId, ca.certificateId);
  });
}

export function updateCaCertificate(
  ctx: StoreContext,
  accountId: string,
  caCertificateId: string,
  update: CaCertificateUpdate,
): Promise<CaCertificateRecord> {
  return ctx.db.write(async (tx) => {
    const row = await tx.get<CaCertificateRow>(OWNED, [accountId, caCertificateId]);
    if (!row) throw notFound(caCertificateId);
    const config =
      update.registrationConfig === undefined
        ? row.registration_config
        : update.registrationConfig === null
          ? null
          : JSON.stringify(update.registrationConfig);
    const templateName = update.registrationConfig === undefined ? row.template_name : (update.registrationConfig?.templateName ?? null);
    await tx.run(
      `UPDATE ca_certificates SET status = $1, auto_registration_status = $2, registration_config = $3,
         template_name = $4, last_modified_date = $5, customer_version = customer_version + 1, generation_id = $6
       WHERE account_id = $7 AND certificate_id = $8`,
      [
        update.status ?? row.status,
        update.autoRegistrationStatus ?? row.auto_registration_status,
        config,
        templateName,
        ctx.now(),
        randomUUID(),
        accountId,
        caCertificateId,
      ],
    );
    return reload(tx, accountId, caCertificateId);
  });
}

export function deleteCaCertificate(ctx: StoreContext, accountId: string, caCertificateId: string): Promise<void> {
  return ctx.db.write(async (tx) => {
    const row = await tx.get<CaCertificateRow>(OWNED, [accountId, caCertificateId]);
    if (!row) throw notFound(caCertificateId);
    if (row.status === 'ACTIVE') {
      throw new RegistryError('STATE', `The CA certificate must be deactivated (not ACTIVE) before deletion. Id: ${caCertificateId}`, row.status);
    }
    await tx.run('DELETE FROM ca_certificates WHERE account_id = $1 AND certificate_id = $2', [accountId, caCertificateId]);
  });
}

export function listCaCertificates(ctx: StoreContext, accountId: string, page: PageRequest, templateName?: string): Promise<Page<CaCertificateRecord>> {
  const arm =
    templateName === undefined
      ? { select: 'SELECT * FROM ca_certificates WHERE account_id = $1', params: [accountId] }
      : { select: 'SELECT * FROM ca_certificates WHERE account_id = $1 AND template_name = $2', params: [accountId, templateName] };
  return pageOf<CaCertificateRow, CaCertificateRecord>(ctx.db, [arm], page, 'certificate_id', (row) => row.certificate_id, caCertificateFromRow);
}
