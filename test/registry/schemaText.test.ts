/**
 * Released migrations never change: a database that ran migration N must have the schema
 * a fresh database gets from it. The shared tables are now generated per dialect
 * (ts/registry/tables.ts), so this pins each migration's SQL — comments dropped and
 * whitespace folded, which change nothing in the schema — to a digest of the text it
 * had when released. A new migration is appended here with its digest.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS as POSTGRES } from '../../ts/registry/postgres/schema.js';
import { MIGRATIONS as SQLITE } from '../../ts/registry/sqlite/schema.js';

const RELEASED = {
  sqlite: [
    '41e97b38158a7bbd',
    '17250d50f76139ea',
    '2000c66ffd865b78',
    '7594ac56ddceb5c3',
    'b5e333b5bd2bbd71',
    'e304c7adf382295f',
    '0bbba807e1adc30e',
    'fd302648c51de0ec',
    '1c5e9d4c4549c2ea',
  ],
  postgres: [
    '3576a2ef27528218',
    '6fbc27e87a62ce40',
    '00fe9627ee40c4b7',
    'f2d06cc6599153a4',
    'd8965000b527554e',
    'e304c7adf382295f',
    'b66ed8e08fb9ed37',
    'c3423064c81c5131',
    '94353ffa1f8a7bf8',
    '49574e19e4b3e04d',
  ],
};

const digest = (sql: string) =>
  createHash('sha256')
    .update(
      sql
        .replace(/--[^\n]*/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .digest('hex')
    .slice(0, 16);

describe('released migrations', () => {
  it.each([
    ['sqlite', SQLITE],
    ['postgres', POSTGRES],
  ] as const)('%s: every released migration has the text it was released with', (backend, migrations) => {
    expect(migrations.map(digest)).toEqual(RELEASED[backend]);
  });

  it('the digest sees a changed column type', () => {
    const changed = (SQLITE[0] as string).replace('created_at REAL', 'created_at INTEGER');
    expect(digest(changed)).not.toBe(RELEASED.sqlite[0]);
  });
});
