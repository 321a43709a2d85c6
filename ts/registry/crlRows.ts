/**
 * Row mapping of the `ca_crls` table (branch crl), shared by the SQLite and PostgreSQL
 * backends (same column names and meanings).
 */
import type { CaCrlMeta, CaCrlRecord, CrlSource } from './types.js';

export interface CaCrlRow {
  account_id: string;
  ca_certificate_id: string;
  crl?: Uint8Array;
  crl_id: string;
  crl_number: string | null;
  this_update: number;
  next_update: number | null;
  entries: number;
  source: string;
  source_url: string | null;
  verified_at: number;
  updated_at: number;
}

/** Every column but the CRL bytes. */
export const META_COLUMNS =
  'account_id, ca_certificate_id, crl_id, crl_number, this_update, next_update, entries, source, source_url, verified_at, updated_at';

export function crlMetaFromRow(row: CaCrlRow): CaCrlMeta {
  return {
    accountId: row.account_id,
    caCertificateId: row.ca_certificate_id,
    crlId: row.crl_id,
    crlNumber: row.crl_number,
    thisUpdate: Number(row.this_update),
    nextUpdate: row.next_update === null ? null : Number(row.next_update),
    entries: Number(row.entries),
    source: row.source as CrlSource,
    sourceUrl: row.source_url,
    verifiedAt: Number(row.verified_at),
    updatedAt: Number(row.updated_at),
  };
}

export function crlFromRow(row: CaCrlRow): CaCrlRecord {
  return { ...crlMetaFromRow(row), crl: new Uint8Array(row.crl ?? new Uint8Array()) };
}
