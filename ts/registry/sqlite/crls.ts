/** Certificate revocation lists per CA in the SQLite backend (branch crl). */
import { RegistryError, type CaCrlMeta, type CaCrlRecord, type NewCaCrl } from '../types.js';
import { META_COLUMNS, crlFromRow, crlMetaFromRow, type CaCrlRow } from '../crlRows.js';
import type { StoreContext } from './certificates.js';

const KEY = 'WHERE account_id = ? AND ca_certificate_id = ?';

export function getCaCrlMeta(ctx: StoreContext, accountId: string, caCertificateId: string): CaCrlMeta | null {
  const row = ctx.sqlite.get<CaCrlRow>(`SELECT ${META_COLUMNS} FROM ca_crls ${KEY}`, accountId, caCertificateId);
  return row ? crlMetaFromRow(row) : null;
}

export function getCaCrl(ctx: StoreContext, accountId: string, caCertificateId: string): CaCrlRecord | null {
  const row = ctx.sqlite.get<CaCrlRow>(`SELECT * FROM ca_crls ${KEY}`, accountId, caCertificateId);
  return row ? crlFromRow(row) : null;
}

export function putCaCrl(ctx: StoreContext, crl: NewCaCrl, expectedCrlId: string | null): CaCrlMeta {
  return ctx.sqlite.write(() => {
    if (!ctx.sqlite.get('SELECT 1 FROM ca_certificates WHERE account_id = ? AND certificate_id = ?', crl.accountId, crl.caCertificateId)) {
      throw new RegistryError('NOT_FOUND', `The CA certificate ${crl.caCertificateId} does not exist in this account.`);
    }
    const current = ctx.sqlite.get<{ crl_id: string }>(`SELECT crl_id FROM ca_crls ${KEY}`, crl.accountId, crl.caCertificateId);
    if ((current?.crl_id ?? null) !== expectedCrlId) {
      throw new RegistryError('STATE', 'The CA\'s CRL was replaced while this one was being verified; retry.', current?.crl_id ?? 'NONE');
    }
    ctx.sqlite.run(
      `INSERT OR REPLACE INTO ca_crls (account_id, ca_certificate_id, crl, crl_id, crl_number, this_update, next_update,
         entries, source, source_url, verified_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    );
    const meta = getCaCrlMeta(ctx, crl.accountId, crl.caCertificateId);
    if (meta === null) throw new Error('CRL vanished inside a transaction');
    return meta;
  });
}

export function deleteCaCrl(ctx: StoreContext, accountId: string, caCertificateId: string): void {
  ctx.sqlite.write(() => {
    if (ctx.sqlite.run(`DELETE FROM ca_crls ${KEY}`, accountId, caCertificateId).changes === 0) {
      throw new RegistryError('NOT_FOUND', `The CA certificate ${caCertificateId} has no CRL in this account.`);
    }
  });
}
