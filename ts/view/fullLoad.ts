/**
 * The reads that keep `--view-standings all` (allStandings.ts) current, each in ONE
 * snapshot (ts/view/index.ts, argument step 2):
 *
 * - {@link loadAll}: at start and after a gap in the log, the small tables, the change
 *   log's newest sequence M and every certificate's standing and thing names, in one
 *   REPEATABLE READ READ ONLY transaction
 *   (https://www.postgresql.org/docs/current/transaction-iso.html#XACT-REPEATABLE-READ:
 *   every statement of the transaction sees the snapshot taken at its first one), read
 *   in keyset pages by primary key so that no statement runs long and no page is large.
 * - {@link readChanges}: the changes after `applied` together with the current standing
 *   of each certificate they name, in one statement (under READ COMMITTED a statement,
 *   subqueries included, sees one snapshot: same page, "Read Committed Isolation Level").
 */
import type pg from 'pg';
import type { RegistrySettings } from '../registry/types.js';
import { AllStandings, type StandingChange } from './allStandings.js';
import { readTables, type ConfigTables } from './tables.js';

/** Rows per page of a whole load (`certificates`, then `thing_principals`). */
export const LOAD_PAGE_ROWS = 20_000;
/**
 * How long one page of a whole load may take before its connection is given up: longer
 * than the feed connection's usual bound (`--max-staleness`), which is sized for
 * heartbeats, not for 20,000 rows on a busy server. The lease is not confirmed meanwhile.
 */
export const LOAD_PAGE_TIMEOUT_MS = 30_000;

export interface LoadOptions {
  pageRows?: number;
  /** Per statement; default the larger of {@link LOAD_PAGE_TIMEOUT_MS} and the connection's own. */
  pageTimeoutMs?: number;
  /** Standing objects kept materialised for decisions (allStandings.ts); default 10,000. */
  materialised?: number;
  /** Called after each page of standings is applied (tests hold the load here). */
  onPage?: (page: number) => Promise<void> | void;
}

export interface Loaded {
  tables: ConfigTables;
  standings: AllStandings;
  /** The change log's newest sequence in the load's snapshot. */
  sequence: number;
  /** Pages read (standings and things). */
  pages: number;
}

const CERTIFICATES = `SELECT account_id, certificate_id, status, certificate_mode, ca_certificate_id FROM certificates
  WHERE (account_id, certificate_id) > ($1, $2) ORDER BY account_id, certificate_id LIMIT $3`;
/** Attachments of certificate principals; the certificate id is checked against the ARN in code. */
const THINGS = `SELECT account_id, principal, thing_name, substring(principal FROM ':cert/([^/]+)$') AS certificate_id FROM thing_principals
  WHERE (account_id, principal, thing_name) > ($1, $2, $3) ORDER BY account_id, principal, thing_name LIMIT $4`;

/** A page's statement, rows as arrays. node-postgres also reads `query_timeout` from a query's own config (pg/lib/client.js), though its types leave it out. */
function pageQuery(text: string, values: unknown[], queryTimeout: number): pg.QueryArrayConfig {
  const config = { text, values, rowMode: 'array' as const, query_timeout: queryTimeout };
  return config;
}

/** Everything a view holds, from one snapshot. */
export async function loadAll(client: pg.Client, settings: RegistrySettings, options: LoadOptions = {}): Promise<Loaded> {
  const pageRows = options.pageRows ?? LOAD_PAGE_ROWS;
  const queryTimeout = options.pageTimeoutMs ?? LOAD_PAGE_TIMEOUT_MS;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const { tables, sequence } = await readTables(client, settings);
    const standings = new AllStandings(options.materialised);
    const cas = new Map<string, string | null>();
    let pages = 0;
    for (let after: [string, string] = ['', '']; ;) {
      const { rows } = await client.query<[string, string, string, string, string | null]>(
        pageQuery(CERTIFICATES, [...after, pageRows], queryTimeout),
      );
      for (const [accountId, certificateId, status, mode, ca] of rows) {
        // The CA id as the tables hold it: one string per CA, not one per page row.
        const caKey = ca === null ? '' : `${accountId}/${ca}`;
        let caId = cas.get(caKey);
        if (caId === undefined) cas.set(caKey, (caId = ca === null ? null : tables.caId(accountId, ca)));
        standings.set(accountId, certificateId, { status, mode, caCertificateId: caId });
      }
      pages++;
      await options.onPage?.(pages);
      const last = rows.at(-1);
      if (last === undefined || rows.length < pageRows) break;
      after = [last[0], last[1]];
    }
    const prefix = `arn:aws:iot:${settings.region}:`;
    for (let after: [string, string, string] = ['', '', '']; ;) {
      const { rows } = await client.query<[string, string, string, string | null]>(pageQuery(THINGS, [...after, pageRows], queryTimeout));
      for (const [accountId, principal, thingName, certificateId] of rows) {
        // Only the principal a decision reads (its ARN in this registry's region and account).
        if (certificateId !== null && principal === `${prefix}${accountId}:cert/${certificateId}`)
          standings.addThing(accountId, certificateId, thingName);
      }
      pages++;
      const last = rows.at(-1);
      if (last === undefined || rows.length < pageRows) break;
      after = [last[0], last[1], last[2]];
    }
    await client.query('COMMIT');
    return { tables, standings, sequence, pages };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A change-log row, and for a certificate or attachment change the certificate's state in the same snapshot. */
export interface ChangeRow extends StandingChange {
  sequence: string;
  /** Sorted; null for a change of another kind. */
  things: string[] | null;
}

const CHANGES_WITH_STATE = `SELECT l.sequence::text AS sequence, l.kind, l.account_id, l.resource_id,
    c.status, c.certificate_mode, c.ca_certificate_id,
    CASE WHEN l.kind IN ('certificate', 'attachment') THEN ARRAY(SELECT t.thing_name FROM thing_principals t
      WHERE t.account_id = l.account_id AND t.principal = $3 || l.account_id || ':cert/' || l.resource_id ORDER BY t.thing_name) END AS things
  FROM (SELECT sequence, kind, account_id, resource_id FROM change_log WHERE sequence > $1 ORDER BY sequence LIMIT $2) AS l
  LEFT JOIN certificates c ON l.kind IN ('certificate', 'attachment') AND c.account_id = l.account_id AND c.certificate_id = l.resource_id
  ORDER BY l.sequence`;

/**
 * Up to `limit` changes after `after`, in order, each certificate or attachment change
 * with its certificate's current state — ONE statement, so the state is at least as new
 * as every change read (index.ts step 2).
 */
export async function readChanges(client: pg.Client, settings: RegistrySettings, after: number, limit: number): Promise<ChangeRow[]> {
  const { rows } = await client.query<ChangeRow>(CHANGES_WITH_STATE, [after, limit, `arn:aws:iot:${settings.region}:`]);
  return rows;
}
