/**
 * The certificate indexes the rules' queries rely on (../rules/): by id for the
 * multi-account rule, by (account, creation date, id) and by CA for keyset pagination,
 * by transfer target for offers. The same DDL on every backend; part of each backend's
 * first migration, so it must never change.
 */
export const CERTIFICATE_INDEXES = [
  '  CREATE INDEX certificates_by_id ON certificates (certificate_id);',
  '  CREATE INDEX certificates_by_creation ON certificates (account_id, creation_date, certificate_id);',
  '  CREATE INDEX certificates_by_ca ON certificates (account_id, ca_certificate_id, creation_date, certificate_id);',
  '  CREATE INDEX certificates_offered ON certificates (transfer_to, status);',
].join('\n');
