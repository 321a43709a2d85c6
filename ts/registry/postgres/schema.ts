/**
 * Versioned schema migrations for the PostgreSQL registry, the same idea as the SQLite
 * backend's `PRAGMA user_version`: the one-row table `certgate_schema` records how many
 * migrations have run; each runs once, in one transaction with the DDL (PostgreSQL DDL
 * is transactional), under a transaction-scoped advisory lock so several sidecars
 * opening a fresh database at the same moment apply it exactly once.
 * Append new migrations; never edit a released one.
 *
 * The tables both backends share are written once, in ../tables.ts, with PostgreSQL's
 * column types. Differences from SQLite, each deliberate:
 * - Text columns are `COLLATE "C"`: SQLite orders TEXT bytewise, and lists and
 *   pagination markers must order identically whatever locale the database was created
 *   with.
 * - Timestamps are `double precision` epoch seconds (SQLite REAL), so records carry the
 *   same fractional seconds.
 * - A partial unique index states the one-DEFAULT-owner-per-CA rule declaratively, as a
 *   second line of defence behind the serializable check (`database.ts`). The device
 *   certificate DEFAULT rule has no such index because JITR inserts without it, exactly
 *   as in SQLite.
 */
import type pg from 'pg';
import { POSTGRES_TYPES, crlTable, sharedMigrations } from '../tables.js';

const TEXT = POSTGRES_TYPES.text;

/** Migration N (1-based) is `MIGRATIONS[N - 1]`. */
export const MIGRATIONS: readonly string[] = [
  ...sharedMigrations(
    POSTGRES_TYPES,
    // One DEFAULT-mode owner per CA certificate in the installation (RegisterCACertificate,
    // https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html).
    `
  CREATE UNIQUE INDEX ca_one_default_owner ON ca_certificates (certificate_id) WHERE certificate_mode = 'DEFAULT';`,
  ),
  // branch mqtt: the ordered change log (GET /v1/changes; also meant for fleet mode),
  // written by a trigger in the same transaction as every write to certificates. The
  // sequence is MAX + 1, not a SEQUENCE: a sequence number is taken before commit, so a
  // reader could see 5 before 4 commits and skip 4 for good. Under SERIALIZABLE two
  // writers reading the same MAX conflict and one is retried, so sequence order is
  // commit order.
  `
  CREATE TABLE change_log (
    sequence bigint PRIMARY KEY,
    account_id ${TEXT} NOT NULL,
    kind ${TEXT} NOT NULL,
    resource_id ${TEXT} NOT NULL,
    status ${TEXT} NOT NULL,
    created_at double precision NOT NULL
  );
  CREATE INDEX change_log_by_account ON change_log (account_id, sequence);
  CREATE FUNCTION certgate_log_change(account text, resource text, new_status text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO change_log (sequence, account_id, kind, resource_id, status, created_at)
    SELECT COALESCE(MAX(sequence), 0) + 1, account, 'certificate', resource, new_status, extract(epoch FROM clock_timestamp())
    FROM change_log;
  $$;
  CREATE FUNCTION certgate_certificate_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      PERFORM certgate_log_change(OLD.account_id, OLD.certificate_id, 'DELETED');
      RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.account_id IS DISTINCT FROM NEW.account_id THEN
      PERFORM certgate_log_change(OLD.account_id, OLD.certificate_id, 'TRANSFERRED');
    END IF;
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status OR OLD.account_id IS DISTINCT FROM NEW.account_id THEN
      PERFORM certgate_log_change(NEW.account_id, NEW.certificate_id, NEW.status);
    END IF;
    RETURN NEW;
  END;
  $$;
  CREATE TRIGGER change_log_certificates AFTER INSERT OR UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION certgate_certificate_changed();
  `,
  // branch crl: the current certificate revocation list of each registered CA; it
  // goes with its CA.
  crlTable(POSTGRES_TYPES, {
    inTable: `,
    FOREIGN KEY (account_id, ca_certificate_id) REFERENCES ca_certificates (account_id, certificate_id) ON DELETE CASCADE`,
    after: '',
  }),
  // branch view (issue 11, fleet mode; ts/view/index.ts): the change log also records, in
  // the same transaction, every other write a decision reads — thing attachments (the
  // certificate id taken from the principal ARN), CAs, CRLs, accounts (endpoint prefix,
  // client-id binding) and custom domains — under its own `kind` (GET /v1/changes keeps
  // to kind 'certificate'). Every logged change wakes the sidecars' LISTEN connections
  // with one NOTIFY per transaction (an empty payload: PostgreSQL folds identical
  // notifications of one transaction into one, and the sidecars read the log by sequence
  // anyway). `sidecars` holds each serving process's lease (ts/view/lease.ts): the
  // sequence it has applied and until when (database clock) it may allow.
  `
  CREATE FUNCTION certgate_log(change_kind text, account text, resource text, new_status text) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO change_log (sequence, account_id, kind, resource_id, status, created_at)
    SELECT COALESCE(MAX(sequence), 0) + 1, account, change_kind, resource, new_status, extract(epoch FROM clock_timestamp())
    FROM change_log;
    PERFORM pg_notify('certgate_changes', '');
  END;
  $$;
  CREATE OR REPLACE FUNCTION certgate_log_change(account text, resource text, new_status text) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM certgate_log('certificate', account, resource, new_status);
  END;
  $$;
  CREATE FUNCTION certgate_attachment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
      PERFORM certgate_log('attachment', OLD.account_id, COALESCE(substring(OLD.principal FROM ':cert/([^/]+)$'), OLD.principal), 'DETACHED');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      PERFORM certgate_log('attachment', NEW.account_id, COALESCE(substring(NEW.principal FROM ':cert/([^/]+)$'), NEW.principal), 'ATTACHED');
    END IF;
    RETURN NULL;
  END;
  $$;
  CREATE TRIGGER change_log_thing_principals AFTER INSERT OR UPDATE OR DELETE ON thing_principals
    FOR EACH ROW EXECUTE FUNCTION certgate_attachment_changed();
  CREATE FUNCTION certgate_ca_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      PERFORM certgate_log('ca', OLD.account_id, OLD.certificate_id, 'DELETED');
    ELSE
      PERFORM certgate_log('ca', NEW.account_id, NEW.certificate_id, NEW.status);
    END IF;
    RETURN NULL;
  END;
  $$;
  CREATE TRIGGER change_log_ca_certificates AFTER INSERT OR UPDATE OR DELETE ON ca_certificates
    FOR EACH ROW EXECUTE FUNCTION certgate_ca_changed();
  CREATE FUNCTION certgate_crl_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      PERFORM certgate_log('crl', OLD.account_id, OLD.ca_certificate_id, 'DELETED');
    ELSE
      PERFORM certgate_log('crl', NEW.account_id, NEW.ca_certificate_id, NEW.crl_id);
    END IF;
    RETURN NULL;
  END;
  $$;
  CREATE TRIGGER change_log_ca_crls AFTER INSERT OR UPDATE OR DELETE ON ca_crls
    FOR EACH ROW EXECUTE FUNCTION certgate_crl_changed();
  CREATE FUNCTION certgate_account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      PERFORM certgate_log('account', OLD.account_id, OLD.account_id, 'DELETED');
    ELSIF TG_OP = 'INSERT' THEN
      PERFORM certgate_log('account', NEW.account_id, NEW.account_id, 'CREATED');
    ELSIF OLD.endpoint_prefix IS DISTINCT FROM NEW.endpoint_prefix
       OR OLD.bind_client_id_to_thing IS DISTINCT FROM NEW.bind_client_id_to_thing THEN
      PERFORM certgate_log('account', NEW.account_id, NEW.account_id, 'UPDATED');
    END IF;
    RETURN NULL;
  END;
  $$;
  CREATE TRIGGER change_log_accounts AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION certgate_account_changed();
  CREATE FUNCTION certgate_domain_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
      PERFORM certgate_log('domain', OLD.account_id, OLD.domain_name, 'REMOVED');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      PERFORM certgate_log('domain', NEW.account_id, NEW.domain_name, 'ADDED');
    END IF;
    RETURN NULL;
  END;
  $$;
  CREATE TRIGGER change_log_domains AFTER INSERT OR UPDATE OR DELETE ON domains
    FOR EACH ROW EXECUTE FUNCTION certgate_domain_changed();
  CREATE TABLE sidecars (
    id ${TEXT} PRIMARY KEY,
    applied_sequence bigint NOT NULL,
    lease_until timestamptz NOT NULL,
    lease_ms integer NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
  );
  `,
  // fleet (issue 11): the cursors of the fleet's one webhook deliverer
  // (deliveryLease.ts): the last event sequence delivered to each URL, per account.
  `
  CREATE TABLE webhook_cursors (
    url ${TEXT} NOT NULL,
    account_id ${TEXT} NOT NULL,
    sequence bigint NOT NULL,
    PRIMARY KEY (url, account_id)
  );
  `,
];

/**
 * Advisory lock keys (one 64-bit key space per database). Arbitrary constants
 * ("certgate" in ASCII, then a suffix per purpose), chosen not to collide with other
 * applications' small integers.
 */
export const ADVISORY_LOCKS = {
  migrate: 0x6365727467617465n,
  events: 0x6365727467617466n,
  // branch keys: audit rows, whose sequence is a cursor like events'.
  audit: 0x636572746761746bn,
  // fleet (issue 11): held for a whole session by the fleet's one webhook deliverer
  // (deliveryLease.ts). Session and transaction advisory locks share one key space, so
  // it cannot reuse `events`, which every event append takes for its transaction.
  webhooks: 0x6365727467617477n,
} as const;

/** Bring the database up to the newest schema version; returns the version reached. */
export async function migrate(client: pg.PoolClient): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.migrate.toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS certgate_schema (version integer NOT NULL)');
    const row = (await client.query<{ version: number }>('SELECT version FROM certgate_schema')).rows[0];
    const current = row?.version ?? 0;
    if (row === undefined) await client.query('INSERT INTO certgate_schema (version) VALUES (0)');
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the database schema (version ${current}) is newer than this certgate (version ${MIGRATIONS.length}); upgrade certgate`,
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1] ?? '');
      await client.query('UPDATE certgate_schema SET version = $1', [version]);
    }
    await client.query('COMMIT');
    return MIGRATIONS.length;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
