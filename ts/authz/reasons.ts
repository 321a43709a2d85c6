/**
 * Every reason an authorization decision can carry, defined once. `docs/authorizer.md`
 * lists the same codes (a test checks both agree) and each front door maps the `kind`
 * to its protocol: `allow` → 200 / gRPC OK, `deny` → 403 / PERMISSION_DENIED,
 * `unavailable` → 503 / gRPC UNAVAILABLE (the authorizer could not decide; it still
 * never allows).
 */

/** How a front door must answer a reason. */
export type ReasonKind = 'allow' | 'deny' | 'unavailable';

/** The catalogue: code → kind and a one-line explanation for people. */
export const REASONS = {
  CERTIFICATE_ACTIVE: { kind: 'allow', text: 'the certificate is registered and ACTIVE in the account the SNI routes to' },

  NO_CERTIFICATE: { kind: 'deny', text: 'the client presented no certificate' },
  MALFORMED_CERTIFICATE: { kind: 'deny', text: 'a presented certificate could not be decoded, or the leaf could not be parsed' },
  CHAIN_TOO_LONG: { kind: 'deny', text: 'more certificates were presented than maxChainLength allows' },
  CERTIFICATE_TOO_LARGE: { kind: 'deny', text: 'a presented certificate exceeds maxCertificateBytes' },
  UNSUPPORTED_SIGNATURE_ALGORITHM: {
    kind: 'deny',
    text: 'the leaf is signed with an algorithm outside the seven AWS IoT accepts',
  },
  CERTIFICATE_NOT_YET_VALID: { kind: 'deny', text: 'the leaf notBefore is in the future' },
  CERTIFICATE_EXPIRED: { kind: 'deny', text: 'the leaf notAfter is in the past' },
  UNKNOWN_SNI: { kind: 'deny', text: 'the SNI names no account data endpoint or custom domain' },
  SNI_REQUIRED: {
    kind: 'deny',
    text: 'no SNI was sent and the certificate has no single DEFAULT-mode registration (SNI_ONLY only, or DEFAULT in more than one account)',
  },
  CERTIFICATE_NOT_REGISTERED: { kind: 'deny', text: 'the leaf is not registered in the account' },
  CERTIFICATE_INACTIVE: { kind: 'deny', text: 'the certificate status is INACTIVE (or the deprecated REGISTER_INACTIVE)' },
  CERTIFICATE_REVOKED: { kind: 'deny', text: 'the certificate status is REVOKED' },
  CERTIFICATE_PENDING_TRANSFER: { kind: 'deny', text: 'the certificate status is PENDING_TRANSFER' },
  CERTIFICATE_PENDING_ACTIVATION: {
    kind: 'deny',
    text: 'the certificate status is PENDING_ACTIVATION (if its CA auto-registers, the registration event is emitted again)',
  },
  JITR_REGISTERED: {
    kind: 'deny',
    text: 'an unknown certificate signed by an auto-registering CA was registered as PENDING_ACTIVATION; the first connection is refused',
  },
  CA_NOT_FOUND: { kind: 'deny', text: 'the CA the certificate was registered with is no longer in the registry' },
  // tenancy (issue 14, defect 7).
  CLIENT_AUTH_NOT_PERMITTED: {
    kind: 'deny',
    text: 'a certificate registered without a CA has an extendedKeyUsage that excludes clientAuth (a CA-registered one fails verification instead)',
  },
  CHAIN_VERIFICATION_FAILED: {
    kind: 'deny',
    text: 'the leaf (with any presented intermediates) does not verify against its registered CA',
  },
  CLIENT_ID_NOT_ATTACHED_THING: {
    kind: 'deny',
    text: 'the account binds client ids to things, and the client id (none, or another) is not a thing attached to the certificate',
  },
  // branch crl: certificate revocation lists per CA.
  CERTIFICATE_REVOKED_BY_CA: {
    kind: 'deny',
    text: "the leaf or a presented intermediate is listed on its issuing registered CA's current CRL (whatever its registry status)",
  },
  CRL_EXPIRED: {
    kind: 'deny',
    text: "the issuing CA's current CRL is past its nextUpdate (fail closed; --danger-allow-expired-crl keeps using it)",
  },
  CRL_UNUSABLE: { kind: 'unavailable', text: "the issuing CA's stored CRL could not be read or no longer verifies" },

  REGISTRY_ERROR: { kind: 'unavailable', text: 'the registry could not be read or written' },
  // branch view (issue 11): fleet mode's lease (docs/fleet.md).
  REGISTRY_STALE: {
    kind: 'unavailable',
    text: "this sidecar's local view of the PostgreSQL registry is not confirmed current within --max-staleness (its lease lapsed: the database is unreachable or the view is catching up); it allows again once caught up",
  },
  ENGINE_ERROR: { kind: 'unavailable', text: 'the verification engine failed unexpectedly' },
  WORKER_FAILED: { kind: 'unavailable', text: 'the pool worker running the verification crashed; it is replaced' },
  QUEUE_FULL: { kind: 'unavailable', text: 'the verification pool queue is at maxQueue; the request is shed' },
  DEADLINE_EXCEEDED: { kind: 'unavailable', text: 'the decision took longer than the per-request deadline' },
  OVERLOADED: {
    kind: 'unavailable',
    text: 'the process is past capacity (maxInFlight decisions in progress, or the request was read over shedAfterMs into a busy event-loop turn, or its request-start stamp is older than that); the request is shed at once',
  },

  BAD_REQUEST: { kind: 'deny', text: 'the front door could not read the request (bad JSON, bad XFCC, wrong field types, a non-ASCII SNI)' },
  BODY_TOO_LARGE: { kind: 'deny', text: 'the request body exceeds maxBodyBytes' },
  HEADER_TOO_LARGE: { kind: 'deny', text: 'a certificate header exceeds maxHeaderBytes' },
} as const satisfies Record<string, { kind: ReasonKind; text: string }>;

/** A reason code. */
export type Reason = keyof typeof REASONS;

/** Every reason code, in catalogue order. */
export const REASON_CODES = Object.keys(REASONS) as Reason[];

/** The answer class of a reason. */
export function reasonKind(reason: Reason): ReasonKind {
  return REASONS[reason].kind;
}
