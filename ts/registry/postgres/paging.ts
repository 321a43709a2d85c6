/**
 * Keyset pagination in SQL for the PostgreSQL backend, with the same markers
 * (`../pagination.ts`) and the same order as the SQLite backend (`../sqlite/paging.ts`):
 * (`creation_date`, id) ascending or descending, the id compared bytewise (the schema's
 * `COLLATE "C"`), so a marker from one backend pages the same data identically.
 */
import { decodeMarker, encodeMarker } from '../pagination.js';
import type { Page, PageRequest } from '../types.js';
import type { Queryable } from './database.js';

/**
 * One SELECT of a paged list: `SELECT * FROM <table> WHERE ...` with its own parameters
 * written as `$1`, `$2`, ... (renumbered when the arms are joined).
 */
export interface PageArm {
  select: string;
  params: unknown[];
}

/** Shift `$n` placeholders of `sql` by `offset`. */
function renumber(sql: string, offset: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

/**
 * Run the union of `arms` one page at a time, ordered by (`creation_date`, `idColumn`).
 * As in SQLite, each arm gets the keyset condition and the arms are joined with
 * UNION ALL under one ORDER BY and LIMIT, so PostgreSQL can merge index-ordered arms.
 * Fetches one extra row to know whether a next page exists.
 */
export async function pageOf<Row extends { creation_date: number }, T>(
  db: Queryable,
  arms: readonly PageArm[],
  page: PageRequest,
  idColumn: string,
  rowId: (row: Row) => string,
  map: (row: Row) => T,
): Promise<Page<T>> {
  const cmp = page.ascending ? '>' : '<';
  const dir = page.ascending ? 'ASC' : 'DESC';
  const cursor = page.marker === undefined ? undefined : decodeMarker(page.marker);
  const parts: string[] = [];
  const args: unknown[] = [];
  for (const arm of arms) {
    let sql = renumber(arm.select, args.length);
    args.push(...arm.params);
    if (cursor !== undefined) {
      const date = args.length + 1;
      sql += ` AND (creation_date ${cmp} $${date} OR (creation_date = $${date} AND ${idColumn} ${cmp} $${date + 1}))`;
      args.push(cursor.creationDate, cursor.id);
    }
    parts.push(`(${sql})`);
  }
  const sql = `${parts.join(' UNION ALL ')} ORDER BY creation_date ${dir}, ${idColumn} ${dir} LIMIT $${args.length + 1}`;
  args.push(page.pageSize + 1);
  const rows = await db.all<Row>(sql, args);
  const items = rows.slice(0, page.pageSize);
  const last = items[items.length - 1];
  if (rows.length > page.pageSize && last !== undefined) {
    return { items: items.map(map), nextMarker: encodeMarker({ creationDate: last.creation_date, id: rowId(last) }) };
  }
  return { items: items.map(map) };
}
