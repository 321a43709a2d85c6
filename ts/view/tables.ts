/**
 * The small tables a decision reads, held whole in memory by a fleet view: accounts
 * (endpoint prefix routing, the client-id binding), custom domains, registered CA
 * certificates and each CA's CRL metadata. They are configuration — thousands of rows
 * at most (1,000 accounts, 100 CAs in the fleet bench) — so a change of any of them is
 * applied by loading them all again in one snapshot ({@link loadTables}), never patched.
 */
import type pg from 'pg';
import { META_COLUMNS, crlMetaFromRow, type CaCrlRow } from '../registry/crlRows.js';
import { endpointRoute } from '../registry/endpoints.js';
import { accountFromRow, caCertificateFromRow, type AccountRow, type CaCertificateRow } from '../registry/rows.js';
import type { Account, CaCertificateRecord, CaCrlMeta, RegistrySettings } from '../registry/types.js';

export class ConfigTables {
  constructor(
    private readonly settings: RegistrySettings,
    private readonly byPrefix: ReadonlyMap<string, Account>,
    private readonly byDomain: ReadonlyMap<string, Account>,
    private readonly cas: ReadonlyMap<string, CaCertificateRecord>,
    private readonly crls: ReadonlyMap<string, CaCrlMeta>,
  ) {}

  /** As `accountForHost` of the registry (ts/registry/rules/accounts.ts): built-in endpoints first. */
  accountForHost(host: string): Account | null {
    const route = endpointRoute(host, this.settings);
    if (route.builtIn) return route.prefix === null ? null : (this.byPrefix.get(route.prefix) ?? null);
    return this.byDomain.get(host) ?? null;
  }

  caCertificate(accountId: string, caCertificateId: string): CaCertificateRecord | null {
    return this.cas.get(`${accountId}/${caCertificateId}`) ?? null;
  }

  /** The CA id as the tables hold it (one string per CA instead of one per held standing), else `id`. */
  caId(accountId: string, id: string): string {
    return this.cas.get(`${accountId}/${id}`)?.certificateId ?? id;
  }

  caCrlMeta(accountId: string, caCertificateId: string): CaCrlMeta | null {
    return this.crls.get(`${accountId}/${caCertificateId}`) ?? null;
  }

  /** Rows held: accounts, domains, CAs, CRLs. */
  get rows(): number {
    return this.byPrefix.size + this.byDomain.size + this.cas.size + this.crls.size;
  }
}

/** The small tables and the change log's newest sequence, read in the caller's snapshot. */
const TABLE_STATEMENTS = `SELECT COALESCE(MAX(sequence), 0)::text AS sequence FROM change_log;
     SELECT * FROM accounts;
     SELECT domain_name, account_id FROM domains;
     SELECT * FROM ca_certificates;
     SELECT ${META_COLUMNS} FROM ca_crls`;

/**
 * One snapshot (a REPEATABLE READ transaction, one round trip) of the small tables and
 * the change log's newest sequence at that snapshot.
 */
export async function loadTables(client: pg.Client, settings: RegistrySettings): Promise<{ tables: ConfigTables; sequence: number }> {
  const results = (await client.query(
    `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${TABLE_STATEMENTS}; COMMIT`,
  )) as unknown as pg.QueryResult[];
  return tablesFromResults(results.slice(1), settings);
}

/** The same reads inside a transaction the caller has opened (its snapshot: fullLoad.ts). */
export async function readTables(client: pg.Client, settings: RegistrySettings): Promise<{ tables: ConfigTables; sequence: number }> {
  return tablesFromResults((await client.query(TABLE_STATEMENTS)) as unknown as pg.QueryResult[], settings);
}

function tablesFromResults(results: pg.QueryResult[], settings: RegistrySettings): { tables: ConfigTables; sequence: number } {
  const [sequence, accounts, domains, cas, crls] = results;
  const byId = new Map<string, Account>();
  const byPrefix = new Map<string, Account>();
  for (const row of (accounts?.rows ?? []) as AccountRow[]) {
    const account = accountFromRow(row);
    byId.set(account.accountId, account);
    byPrefix.set(account.endpointPrefix, account);
  }
  const byDomain = new Map<string, Account>();
  for (const row of (domains?.rows ?? []) as { domain_name: string; account_id: string }[]) {
    const account = byId.get(row.account_id);
    if (account !== undefined) byDomain.set(row.domain_name, account);
  }
  const caMap = new Map<string, CaCertificateRecord>();
  for (const row of (cas?.rows ?? []) as CaCertificateRow[])
    caMap.set(`${row.account_id}/${row.certificate_id}`, caCertificateFromRow(row));
  const crlMap = new Map<string, CaCrlMeta>();
  for (const row of (crls?.rows ?? []) as CaCrlRow[]) crlMap.set(`${row.account_id}/${row.ca_certificate_id}`, crlMetaFromRow(row));
  return {
    tables: new ConfigTables(settings, byPrefix, byDomain, caMap, crlMap),
    sequence: Number((sequence?.rows[0] as { sequence: string } | undefined)?.sequence ?? 0),
  };
}
