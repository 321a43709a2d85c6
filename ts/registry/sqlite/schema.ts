/**
 * Versioned schema migrations for the SQLite registry. `PRAGMA user_version` records how
 * many migrations have run; each runs once, inside an immediate transaction, so several
 * `certgate serve` processes opening a fresh file at the same moment cannot both apply it.
 * Append new migrations; never edit a released one. The tables both backends share are
 * written once, in ../tables.ts.
 */
import type Database from 'better-sqlite3';
import { SQLITE_TYPES, crlTable, sharedMigrations } from '../tables.js';

/** The change log's clock: epoch seconds, as the certificate triggers write it. */
const NOW = "((julianday('now') - 2440587.5) * 86400.0)";

/**
 * The change-log row of an attachment (`row`: NEW or OLD), named by the certificate id of
 * its principal ARN (`arn:aws:iot:<region>:<account>:cert/<id>`), else the principal itself.
 */
function logAttachment(row: 'NEW' | 'OLD', status: 'ATTACHED' | 'DETACHED'): string {
  const principal = `${row}.principal`;
  const certificate = `CASE WHEN instr(${principal}, ':cert/') > 0 THEN substr(${principal}, instr(${principal}, ':cert/') + 6) ELSE ${principal} END`;
  return `INSERT INTO change_log (account_id, kind, resource_id, status, created_at)
    VALUES (${row}.account_id, 'attachment', ${certificate}, '${status}', ${NOW});`;
}

/** Migration N (1-based) is `MIGRATIONS[N - 1]`. */
export const MIGRATIONS: readonly string[] = [
  ...sharedMigrations(SQLITE_TYPES),
  // branch mqtt: the ordered change log (GET /v1/changes; also meant for fleet mode). Written
  // by triggers, so every write to certificates, by any code path, logs its status change
  // in the same transaction. SQLite serialises writers, so sequence order is commit order.
  `
  CREATE TABLE change_log (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL
  );
  CREATE INDEX change_log_by_account ON change_log (account_id, sequence);
  CREATE TRIGGER change_log_certificate_insert AFTER INSERT ON certificates BEGIN
    INSERT INTO change_log (account_id, kind, resource_id, status, created_at)
    VALUES (NEW.account_id, 'certificate', NEW.certificate_id, NEW.status, ((julianday('now') - 2440587.5) * 86400.0));
  END;
  CREATE TRIGGER change_log_certificate_update AFTER UPDATE OF status, account_id ON certificates
  WHEN OLD.status IS NOT NEW.status OR OLD.account_id IS NOT NEW.account_id BEGIN
    INSERT INTO change_log (account_id, kind, resource_id, status, created_at)
    SELECT OLD.account_id, 'certificate', OLD.certificate_id, 'TRANSFERRED', ((julianday('now') - 2440587.5) * 86400.0)
    WHERE OLD.account_id IS NOT NEW.account_id;
    INSERT INTO change_log (account_id, kind, resource_id, status, created_at)
    VALUES (NEW.account_id, 'certificate', NEW.certificate_id, NEW.status, ((julianday('now') - 2440587.5) * 86400.0));
  END;
  CREATE TRIGGER change_log_certificate_delete AFTER DELETE ON certificates BEGIN
    INSERT INTO change_log (account_id, kind, resource_id, status, created_at)
    VALUES (OLD.account_id, 'certificate', OLD.certificate_id, 'DELETED', ((julianday('now') - 2440587.5) * 86400.0));
  END;
  `,
  // branch crl: the current certificate revocation list of each registered CA; it
  // goes with its CA.
  crlTable(SQLITE_TYPES, {
    inTable: '',
    after: `
  CREATE TRIGGER ca_crls_follow_ca AFTER DELETE ON ca_certificates BEGIN
    DELETE FROM ca_crls WHERE account_id = OLD.account_id AND ca_certificate_id = OLD.certificate_id;
  END;`,
  }),
  // The standings held in memory (ts/fastpath/standings.ts) follow the change log; a
  // standing includes the certificate's attached things, so attachments are logged too,
  // under their own kind (GET /v1/changes keeps to kind 'certificate'), named by the
  // certificate id taken from the principal ARN, as the PostgreSQL backend logs them.
  `
  CREATE TRIGGER change_log_attachment_insert AFTER INSERT ON thing_principals BEGIN
    ${logAttachment('NEW', 'ATTACHED')}
  END;
  CREATE TRIGGER change_log_attachment_update AFTER UPDATE ON thing_principals BEGIN
    ${logAttachment('OLD', 'DETACHED')}
    ${logAttachment('NEW', 'ATTACHED')}
  END;
  CREATE TRIGGER change_log_attachment_delete AFTER DELETE ON thing_principals BEGIN
    ${logAttachment('OLD', 'DETACHED')}
  END;
  `,
];

/** Bring the database up to the newest schema version; returns the version reached. */
export function migrate(db: Database.Database): number {
  const apply = db.transaction(() => {
    const current = Number(db.pragma('user_version', { simple: true }));
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the database schema (version ${current}) is newer than this certgate (version ${MIGRATIONS.length}); upgrade certgate`,
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version - 1] ?? '');
      db.pragma(`user_version = ${version}`);
    }
    return MIGRATIONS.length;
  });
  return apply.immediate();
}
