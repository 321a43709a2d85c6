/** Certificate revocation lists per CA in the PostgreSQL backend (branch crl): `../sqlite/crls.ts` in one serializable transaction. */
import { RegistryError, type CaCrlMeta, type CaCrlRecord, type NewCaCrl } from '../types.js';
import { META_COLUMNS, crlFromRow, crlMetaFromRow, type CaCrlRow } from '../crlRows.js';
import type { StoreContext } from './certificates.js';
import type { Queryable } from './database.js';

const KEY = 'WHERE account_id = $1 AND ca_certificate_id = $2';

async function meta(db: Queryable, accountId: string, caCertificateId: string): Promise<CaCrlMeta | null> {
  const row = await db.get<CaCrlRow>(`SELECT ${META_COLUMNS} FROM ca_crls ${KEY}`, [accountId, caCertificateId]);
  return row ? crlMetaFromRow(row) : null;
}

export function getCaCrlMeta(ctx: StoreContext, accountId: string, caCertificateId: string): Promise<CaCrlMeta | null> {
  return meta(ctx.db, accountId, caCertificateId);
}

export async function getCaCrl(ctx: StoreContext, accountId: string, caCertificateId: string): Promise<CaCrlRecord | null> {
  const row = await ctx.db.get<CaCrlRow>(`SELECT * FROM ca_crls ${KEY}`, [accountId, caCertificateId]);
  return row ? crlFromRow(row) : null;
}

export function putCaCrl(ctx: StoreContext, crl: NewCaCrl, expectedCrlId: string | null): Promise<CaCrlMeta> {
  return ctx.db.write(async (tx) => {
    if (!(await tx.get('SELECT 1 FROM ca_certificates WHERE account_id = $1 AND certificate_id = $2', [crl.accountId, crl.caCertificateId]))) {
      throw new RegistryError('NOT_FOUND', `The CA certificate ${crl.caCertificateId} does not exist in this account.`);
    }
    const current = await tx.get<{ crl_id: string }>(`SELECT crl_id FROM ca_crls ${KEY}`, [crl.accountId, crl.caCertificateId]);
    if ((current?.crl_id ?? null) !== expectedCrlId) {
      throw new RegistryError('STATE', "The CA's CRL was replaced while this one was being verified; retry.", current?.crl_id ?? 'NONE');
    }
    await tx.run(
      `INSERT INTO ca_crls (account_id, ca_certificate_id, crl, crl_id, crl_number, this_update, next_update,
         entries, source, source_url, verified_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (account_id, ca_certificate_id) DO UPDATE SET crl = EXCLUDED.crl, crl_id = EXCLUDED.crl_id,
         crl_number = EXCLUDED.crl_number, this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update,
         entries = EXCLUDED.entries, source = EXCLUDED.source, source_url = EXCLUDED.source_url,
         verified_at = EXCLUDED.verified_at, updated_at = EXCLUDED.updated_at`,
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
        ctx.now(),
      ],
    );
    const stored = await meta(tx, crl.accountId, crl.caCertificateId);
    if (stored === null) throw new Error('CRL vanished inside a transaction');
    return stored;
  });
}

export async function deleteCaCrl(ctx: StoreContext, accountId: string, caCertificateId: string): Promise<void> {
  await ctx.db.write(async (tx) => {
    if ((await tx.run(`DELETE FROM ca_crls ${KEY}`, [accountId, caCertificateId])) === 0) {
      throw new RegistryError('NOT_FOUND', `The CA certificate ${caCertificateId} has no CRL in this account.`);
    }
  });
}
