/**
 * The engine's refusal codes: mirrors `certgate_core::ErrorCode::ALL` and the table in
 * `docs/errors.md`, in the same order; `test/engine/errors.test.ts` checks all three.
 */
export const ENGINE_ERROR_CODES = [
  'NO_CERTIFICATE',
  'BAD_PEM',
  'BAD_DER',
  'PEM_TOO_LARGE',
  'CERTIFICATE_TOO_LARGE',
  'TOO_MANY_CERTIFICATES',
  'UNSUPPORTED_SIGNATURE_ALGORITHM',
  'UNSUPPORTED_PUBLIC_KEY',
  'RSA_KEY_TOO_SMALL',
  'KEY_ALGORITHM_MISMATCH',
  'BAD_SIGNATURE',
  'NOT_YET_VALID',
  'EXPIRED',
  'UNKNOWN_ISSUER',
  'NOT_A_CA',
  'PATH_LENGTH_EXCEEDED',
  'MISSING_KEY_CERT_SIGN',
  'NAME_CONSTRAINT_VIOLATION',
  'MALFORMED_NAME_CONSTRAINT',
  'UNSUPPORTED_CRITICAL_EXTENSION',
  'INVALID_EXTENSION',
  'CLIENT_AUTH_NOT_PERMITTED',
  'PATH_BUDGET_EXCEEDED',
  'REGISTRATION_CODE_MISMATCH',
  'BAD_CSR',
  'BAD_KEY',
  'INVALID_ARGUMENT',
  'BAD_CRL',
  'CRL_TOO_LARGE',
  'TOO_MANY_CRL_ENTRIES',
  'CRL_ISSUER_MISMATCH',
  'CRL_SIGNER_NOT_AUTHORIZED',
  'CRL_SCOPE_UNSUPPORTED',
  'CRL_NUMBER_REGRESSED',
] as const;

/** A stable engine error code; branch on these, never on message text. */
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];
