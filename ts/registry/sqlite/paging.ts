/** Keyset pagination in SQL for the SQLite backend (markers: `../pagination.ts`). */
import { decodeMarker, encodeMarker } from '../pagination.js';
import type { Page, PageRequest } from '../types.js';
import type { Sqlite } from './database.js';

/**
 * Run `select` (a full SELECT with a WHERE clause and `params`) one page at a time,
 * ordered by (`creation_date`, `idColumn`). Fetches one extra row to know whether a
 * next page exists.
 */
export function pageOf<Row extends { creation_date: number }, T>(
  sqlite: Sqlite,
  select: string,
  params: unknown[],
  page: PageRequest,
  idColumn: string,
  rowId: (row: Row) => string,
  map: (row: Row) => T,
): Page<T> {
  const cmp = page.ascending ? '>' : '<';
  const dir = page.ascending ? 'ASC' : 'DESC';
  let sql = select;
  const args = [...params];
  if (page.marker !== undefined) {
    const cursor = decodeMarker(page.marker);
    sql += ` AND (creation_date ${cmp} ? OR (creation_date = ? AND ${idColumn} ${cmp} ?))`;
    args.push(cursor.creationDate, cursor.creationDate, cursor.id);
  }
  sql += ` ORDER BY creation_date ${dir}, ${idColumn} ${dir} LIMIT ?`;
  args.push(page.pageSize + 1);
  const rows = sqlite.all<Row>(sql, ...args);
  const items = rows.slice(0, page.pageSize);
  const last = items[items.length - 1];
  if (rows.length > page.pageSize && last !== undefined) {
    return { items: items.map(map), nextMarker: encodeMarker({ creationDate: last.creation_date, id: rowId(last) }) };
  }
  return { items: items.map(map) };
}
