/**
 * The tables both backends share, written once: the DDL of the migrations whose tables
 * are the same on SQLite and PostgreSQL but for the spelling of a few column types. Each
 * backend's schema.ts builds its migration list from these with its own {@link ColumnTypes}
 * and adds what really differs (PostgreSQL's partial unique index, the change log's
 * triggers, the fleet view's tables).
 *
 * These are released migrations: the text each backend gets must never change
 * (test/registry/schemaText.test.ts pins it). Add new tables as new migrations.
 *
 * Column names and meanings are the same on both backends, so both share the row mapping
 * (rows.ts).
 */

/** How one dialect spells the column types of the shared tables. */
export interface ColumnTypes {
  /** Text. PostgreSQL: `COLLATE "C"`, so lists and pagination markers order bytewise, as SQLite's TEXT does. */
  readonly text: string;
  /** Epoch seconds with their fraction (SQLite REAL, PostgreSQL double precision). */
  readonly real: string;
  readonly int: string;
  /** An append-only cursor column: increasing, never reused. */
  readonly sequence: string;
  readonly bytes: string;
}

export const SQLITE_TYPES: ColumnTypes = {
  text: 'TEXT',
  real: 'REAL',
  int: 'INTEGER',
  sequence: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  bytes: 'BLOB',
};

export const POSTGRES_TYPES: ColumnTypes = {
  text: 'TEXT COLLATE "C"',
  real: 'double precision',
  int: 'integer',
  sequence: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  bytes: 'bytea',
};

/**
 * The certificate indexes the rules' queries rely on (rules/): by id for the
 * multi-account rule, by (account, creation date, id) and by CA for keyset pagination,
 * by transfer target for offers.
 */
const CERTIFICATE_INDEXES = `
  CREATE INDEX certificates_by_id ON certificates (certificate_id);
  CREATE INDEX certificates_by_creation ON certificates (account_id, creation_date, certificate_id);
  CREATE INDEX certificates_by_ca ON certificates (account_id, ca_certificate_id, creation_date, certificate_id);
  CREATE INDEX certificates_offered ON certificates (transfer_to, status);`;

/**
 * Migrations 1 to 6 of both backends. `caIndexes`: DDL a backend adds after the CA
 * certificate indexes of the first migration.
 */
export function sharedMigrations(t: ColumnTypes, caIndexes = ''): string[] {
  const { text, real, int } = t;
  return [
    `
  CREATE TABLE settings (
    key ${text} PRIMARY KEY,
    value ${text} NOT NULL
  );
  CREATE TABLE accounts (
    account_id ${text} PRIMARY KEY,
    endpoint_prefix ${text} NOT NULL UNIQUE,
    created_at ${real} NOT NULL
  );
  CREATE TABLE credentials (
    access_key_id ${text} PRIMARY KEY,
    secret_access_key ${text} NOT NULL,
    account_id ${text} NOT NULL REFERENCES accounts (account_id)
  );
  CREATE INDEX credentials_by_account ON credentials (account_id);
  CREATE TABLE domains (
    domain_name ${text} PRIMARY KEY,
    account_id ${text} NOT NULL REFERENCES accounts (account_id)
  );
  CREATE TABLE registration_codes (
    account_id ${text} PRIMARY KEY REFERENCES accounts (account_id),
    code ${text} NOT NULL
  );
  CREATE TABLE ca_certificates (
    account_id ${text} NOT NULL REFERENCES accounts (account_id),
    certificate_id ${text} NOT NULL,
    certificate_pem ${text} NOT NULL,
    status ${text} NOT NULL,
    certificate_mode ${text} NOT NULL,
    auto_registration_status ${text} NOT NULL,
    subject ${text} NOT NULL,
    registration_config ${text},
    template_name ${text},
    tags ${text} NOT NULL,
    creation_date ${real} NOT NULL,
    last_modified_date ${real} NOT NULL,
    customer_version ${int} NOT NULL,
    generation_id ${text} NOT NULL,
    not_before ${real} NOT NULL,
    not_after ${real} NOT NULL,
    PRIMARY KEY (account_id, certificate_id)
  );
  CREATE INDEX ca_by_subject ON ca_certificates (account_id, subject);
  CREATE INDEX ca_by_id ON ca_certificates (certificate_id);
  CREATE INDEX ca_by_creation ON ca_certificates (account_id, creation_date, certificate_id);${caIndexes}
  CREATE TABLE certificates (
    account_id ${text} NOT NULL REFERENCES accounts (account_id),
    certificate_id ${text} NOT NULL,
    certificate_pem ${text} NOT NULL,
    status ${text} NOT NULL,
    certificate_mode ${text} NOT NULL,
    ca_certificate_id ${text},
    previous_owned_by ${text},
    creation_date ${real} NOT NULL,
    last_modified_date ${real} NOT NULL,
    customer_version ${int} NOT NULL,
    generation_id ${text} NOT NULL,
    not_before ${real} NOT NULL,
    not_after ${real} NOT NULL,
    transfer_to ${text},
    transfer_message ${text},
    reject_reason ${text},
    transfer_date ${real},
    accept_date ${real},
    reject_date ${real},
    PRIMARY KEY (account_id, certificate_id)
  );${CERTIFICATE_INDEXES}
  CREATE TABLE thing_principals (
    account_id ${text} NOT NULL,
    principal ${text} NOT NULL,
    thing_name ${text} NOT NULL,
    PRIMARY KEY (account_id, principal, thing_name)
  );
  CREATE TABLE policies (
    account_id ${text} NOT NULL,
    policy_name ${text} NOT NULL,
    policy_document ${text} NOT NULL,
    policy_version_id ${text} NOT NULL,
    creation_date ${real} NOT NULL,
    last_modified_date ${real} NOT NULL,
    PRIMARY KEY (account_id, policy_name)
  );
  CREATE TABLE policy_targets (
    account_id ${text} NOT NULL,
    policy_name ${text} NOT NULL,
    target ${text} NOT NULL,
    PRIMARY KEY (account_id, policy_name, target)
  );
  CREATE INDEX policy_targets_by_target ON policy_targets (account_id, target);
  CREATE TABLE events (
    sequence ${t.sequence},
    account_id ${text} NOT NULL,
    topic ${text} NOT NULL,
    payload ${text} NOT NULL,
    created_at ${real} NOT NULL
  );
  CREATE INDEX events_by_account ON events (account_id, sequence);
  `,
    `
  CREATE TABLE issuing_ca (
    id ${int} PRIMARY KEY CHECK (id = 1),
    certificate_pem ${text} NOT NULL,
    private_key_pem ${text} NOT NULL,
    created_at ${real} NOT NULL
  );
  `,
    // branch secrets: the id of the master key the registry's secrets (credentials,
    // issuing CA keys) are encrypted with (secrets.ts); no row: stored in clear.
    `
  CREATE TABLE secrets_sealing (
    id ${int} PRIMARY KEY CHECK (id = 1),
    key_id ${text} NOT NULL,
    sealed_at ${real} NOT NULL
  );
  `,
    // branch keys: access key scope/status/date, and the audit log of admin writes.
    `
  ALTER TABLE credentials ADD COLUMN scope ${text} NOT NULL DEFAULT 'FULL' CHECK (scope IN ('FULL', 'READ_ONLY'));
  ALTER TABLE credentials ADD COLUMN status ${text} NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'INACTIVE'));
  ALTER TABLE credentials ADD COLUMN created_at ${real} NOT NULL DEFAULT 0;
  CREATE TABLE audit_log (
    sequence ${t.sequence},
    account_id ${text} NOT NULL,
    time ${real} NOT NULL,
    access_key_id ${text},
    operation ${text} NOT NULL,
    resource ${text},
    result ${text} NOT NULL,
    request_id ${text}
  );
  CREATE INDEX audit_by_account ON audit_log (account_id, sequence);
  `,
    // branch secrets: issuing CAs an operator imported for one account
    // (certgate ca import-issuing --account); the key is sealed like every secret.
    `
  CREATE TABLE account_issuing_cas (
    account_id ${text} PRIMARY KEY REFERENCES accounts (account_id),
    certificate_pem ${text} NOT NULL,
    private_key_pem ${text} NOT NULL,
    created_at ${real} NOT NULL
  );
  `,
    // branch mqtt: per-account client id ↔ attached thing binding (default off).
    `
  ALTER TABLE accounts ADD COLUMN bind_client_id_to_thing INTEGER NOT NULL DEFAULT 0 CHECK (bind_client_id_to_thing IN (0, 1));
  `,
  ];
}

/**
 * The current certificate revocation list of each registered CA (migration 8 of both
 * backends); `goesWithCa`: how a backend makes the CRL go when its CA is deleted.
 */
export function crlTable(t: ColumnTypes, goesWithCa: { inTable: string; after: string }): string {
  const { text, real, int } = t;
  return `
  CREATE TABLE ca_crls (
    account_id ${text} NOT NULL,
    ca_certificate_id ${text} NOT NULL,
    crl ${t.bytes} NOT NULL,
    crl_id ${text} NOT NULL,
    crl_number ${text},
    this_update ${real} NOT NULL,
    next_update ${real},
    entries ${int} NOT NULL,
    source ${text} NOT NULL,
    source_url ${text},
    verified_at ${real} NOT NULL,
    updated_at ${real} NOT NULL,
    PRIMARY KEY (account_id, ca_certificate_id)${goesWithCa.inTable}
  );${goesWithCa.after}
  `;
}
