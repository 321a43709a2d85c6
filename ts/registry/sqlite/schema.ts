/**
 * Versioned schema migrations for the SQLite registry. `PRAGMA user_version` records how
 * many migrations have run; each runs once, inside an immediate transaction, so several
 * `certgate serve` processes opening a fresh file at the same moment cannot both apply it.
 * Append new migrations; never edit a released one.
 */
import type Database from 'better-sqlite3';
import { CERTIFICATE_INDEXES } from '../indexes.js';

/** Migration N (1-based) is `MIGRATIONS[N - 1]`. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    endpoint_prefix TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
  );
  CREATE TABLE credentials (
    access_key_id TEXT PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (account_id)
  );
  CREATE INDEX credentials_by_account ON credentials (account_id);
  CREATE TABLE domains (
    domain_name TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id)
  );
  CREATE TABLE registration_codes (
    account_id TEXT PRIMARY KEY REFERENCES accounts (account_id),
    code TEXT NOT NULL
  );
  CREATE TABLE ca_certificates (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    certificate_id TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    status TEXT NOT NULL,
    certificate_mode TEXT NOT NULL,
    auto_registration_status TEXT NOT NULL,
    subject TEXT NOT NULL,
    registration_config TEXT,
    template_name TEXT,
    tags TEXT NOT NULL,
    creation_date REAL NOT NULL,
    last_modified_date REAL NOT NULL,
    customer_version INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    not_before REAL NOT NULL,
    not_after REAL NOT NULL,
    PRIMARY KEY (account_id, certificate_id)
  );
  CREATE INDEX ca_by_subject ON ca_certificates (account_id, subject);
  CREATE INDEX ca_by_id ON ca_certificates (certificate_id);
  CREATE INDEX ca_by_creation ON ca_certificates (account_id, creation_date, certificate_id);
  CREATE TABLE certificates (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    certificate_id TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    status TEXT NOT NULL,
    certificate_mode TEXT NOT NULL,
    ca_certificate_id TEXT,
    previous_owned_by TEXT,
    creation_date REAL NOT NULL,
    last_modified_date REAL NOT NULL,
    customer_version INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    not_before REAL NOT NULL,
    not_after REAL NOT NULL,
    transfer_to TEXT,
    transfer_message TEXT,
    reject_reason TEXT,
    transfer_date REAL,
    accept_date REAL,
    reject_date REAL,
    PRIMARY KEY (account_id, certificate_id)
  );
${CERTIFICATE_INDEXES}
  CREATE TABLE thing_principals (
    account_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    thing_name TEXT NOT NULL,
    PRIMARY KEY (account_id, principal, thing_name)
  );
  CREATE TABLE policies (
    account_id TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    policy_document TEXT NOT NULL,
    policy_version_id TEXT NOT NULL,
    creation_date REAL NOT NULL,
    last_modified_date REAL NOT NULL,
    PRIMARY KEY (account_id, policy_name)
  );
  CREATE TABLE policy_targets (
    account_id TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (account_id, policy_name, target)
  );
  CREATE INDEX policy_targets_by_target ON policy_targets (account_id, target);
  CREATE TABLE events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
  );
  CREATE INDEX events_by_account ON events (account_id, sequence);
  `,
  `
  CREATE TABLE issuing_ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    certificate_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at REAL NOT NULL
  );
  `,
  // branch secrets: the id of the master key the registry's secrets (credentials,
  // issuing CA keys) are encrypted with (ts/registry/secrets.ts); no row: stored in clear.
  `
  CREATE TABLE secrets_sealing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key_id TEXT NOT NULL,
    sealed_at REAL NOT NULL
  );
  `,
  // branch keys: access key scope/status/date, and the audit log of admin writes.
  `
  ALTER TABLE credentials ADD COLUMN scope TEXT NOT NULL DEFAULT 'FULL' CHECK (scope IN ('FULL', 'READ_ONLY'));
  ALTER TABLE credentials ADD COLUMN status TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'INACTIVE'));
  ALTER TABLE credentials ADD COLUMN created_at REAL NOT NULL DEFAULT 0;
  CREATE TABLE audit_log (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    time REAL NOT NULL,
    access_key_id TEXT,
    operation TEXT NOT NULL,
    resource TEXT,
    result TEXT NOT NULL,
    request_id TEXT
  );
  CREATE INDEX audit_by_account ON audit_log (account_id, sequence);
  `,
  // branch secrets: issuing CAs an operator imported for one account
  // (certgate ca import-issuing --account); the key is sealed like every secret.
  `
  CREATE TABLE account_issuing_cas (
    account_id TEXT PRIMARY KEY REFERENCES accounts (account_id),
    certificate_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at REAL NOT NULL
  );
  `,
  // branch mqtt: per-account client id ↔ attached thing binding (default off).
  `
  ALTER TABLE accounts ADD COLUMN bind_client_id_to_thing INTEGER NOT NULL DEFAULT 0 CHECK (bind_client_id_to_thing IN (0, 1));
  `,
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
  `
  CREATE TABLE ca_crls (
    account_id TEXT NOT NULL,
    ca_certificate_id TEXT NOT NULL,
    crl BLOB NOT NULL,
    crl_id TEXT NOT NULL,
    crl_number TEXT,
    this_update REAL NOT NULL,
    next_update REAL,
    entries INTEGER NOT NULL,
    source TEXT NOT NULL,
    source_url TEXT,
    verified_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (account_id, ca_certificate_id)
  );
  CREATE TRIGGER ca_crls_follow_ca AFTER DELETE ON ca_certificates BEGIN
    DELETE FROM ca_crls WHERE account_id = OLD.account_id AND ca_certificate_id = OLD.certificate_id;
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
