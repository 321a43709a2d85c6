/**
 * Keyset pagination in SQL (markers: `../pagination.ts`), the same on every backend:
 * ordered by (`creation_date`, id), the id compared bytewise (SQLite's TEXT order,
 * PostgreSQL's `COLLATE "C"` columns), so a marker pages the same data identically.
 */
import { decodeMarker, encodeMarker } from '../pagination.js';
import type { Queries } from '../store.js';
import type { Page, PageRequest } from '../types.js';

/** One SELECT of a paged list: `SELECT * FROM <table> WHERE ...` and its parameters. */
export interface PageArm {
  select: string;
  params: unknown[];
}

/**
 * Run the union of `arms` one page at a time, ordered by (`creation_date`, `idColumn`).
 * Each arm gets the keyset condition, and the arms are joined with UNION ALL under one
 * ORDER BY, so the database merges index-ordered arms and stops at the LIMIT instead of
 * sorting every row of the account (an OR in one WHERE made each page O(n)). Fetches
 * one extra row to know whether a next page exists.
 */
export async function pageOf<Row extends { creation_date: number }, T>(
  db: Queries,
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
    let sql = arm.select;
    args.push(...arm.params);
    if (cursor !== undefined) {
      sql += ` AND (creation_date ${cmp} ? OR (creation_date = ? AND ${idColumn} ${cmp} ?))`;
      args.push(cursor.creationDate, cursor.creationDate, cursor.id);
    }
    parts.push(sql);
  }
  const sql = `${parts.join(' UNION ALL ')} ORDER BY creation_date ${dir}, ${idColumn} ${dir} LIMIT ?`;
  args.push(page.pageSize + 1);
  const rows = await db.all<Row>(sql, args);
  const items = rows.slice(0, page.pageSize);
  const last = items[items.length - 1];
  if (rows.length > page.pageSize && last !== undefined) {
    return { items: items.map(map), nextMarker: encodeMarker({ creationDate: last.creation_date, id: rowId(last) }) };
  }
  return { items: items.map(map) };
}
