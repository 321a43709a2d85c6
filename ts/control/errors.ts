/**
 * AWS IoT error names and their modeled HTTP statuses (spec 1.1), and the mapping from
 * registry refusals. Only this module and `http.ts` know HTTP statuses.
 */
import type { RegistryError } from '../registry/types.js';

/** Every error name the admin API sends, with its HTTP status. */
export const ERROR_STATUS = {
  InvalidRequestException: 400,
  CertificateValidationException: 400,
  RegistrationCodeValidationException: 400,
  // AWS's front doors answer throttling with 429; SDKs retry it by name and by status.
  ThrottlingException: 429,
  UnauthorizedException: 401,
  ResourceNotFoundException: 404,
  CertificateStateException: 406,
  ResourceAlreadyExistsException: 409,
  CertificateConflictException: 409,
  DeleteConflictException: 409,
  TransferConflictException: 409,
  LimitExceededException: 410,
  TransferAlreadyCompletedException: 410,
  MalformedPolicyException: 400,
  InternalFailureException: 500,
  ServiceUnavailableException: 503,
  // SigV4 layer (not in the IoT model; spec 1.1).
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  // A read-only access key called a write operation (branch keys).
  AccessDeniedException: 403,
  // No route matches the method and path (API Gateway's name for it).
  UnknownOperationException: 404,
} as const;

export type AwsErrorName = keyof typeof ERROR_STATUS;

/** An error answered to the client as `x-amzn-ErrorType: <name>` + `{message}`. */
export class AwsError extends Error {
  constructor(
    readonly errorType: AwsErrorName,
    message: string,
    /** Extra body members (`resourceId`, `resourceArn` for ResourceAlreadyExistsException). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AwsError';
  }

  get status(): number {
    return ERROR_STATUS[this.errorType];
  }
}

/** Shorthand for the most common error: bad input, nothing written. */
export function invalid(message: string): AwsError {
  return new AwsError('InvalidRequestException', message);
}

/**
 * Which AWS error a registry refusal becomes. Operations whose modeled error differs
 * pass `overrides` (e.g. TransferCertificate maps POLICIES_ATTACHED to TransferConflict).
 */
export function fromRegistryError(
  error: RegistryError,
  overrides: Partial<Record<RegistryError['code'], AwsErrorName>> = {},
  resourceArn?: (id: string) => string,
): AwsError {
  const defaults: Record<RegistryError['code'], AwsErrorName> = {
    NOT_FOUND: 'ResourceNotFoundException',
    ALREADY_EXISTS: 'ResourceAlreadyExistsException',
    DEFAULT_CA_OWNED_ELSEWHERE: 'ResourceAlreadyExistsException',
    SUBJECT_LIMIT: 'LimitExceededException',
    STATE: 'CertificateStateException',
    INVALID_MARKER: 'InvalidRequestException',
    LAST_FULL_ACCESS_KEY: 'DeleteConflictException',
    THINGS_ATTACHED: 'DeleteConflictException',
    POLICIES_ATTACHED: 'DeleteConflictException',
    POLICY_IN_USE: 'DeleteConflictException',
    RESERVED_DOMAIN: 'InvalidRequestException',
    // branch secrets: this process cannot read the secret the call needs (docs/api.md "Secrets at rest").
    SECRETS_LOCKED: 'ServiceUnavailableException',
    MASTER_KEY_MISMATCH: 'InternalFailureException',
    SECRET_TAMPERED: 'InternalFailureException',
  };
  const name = error.detail === 'TRANSFER_COMPLETED' ? 'TransferAlreadyCompletedException' : (overrides[error.code] ?? defaults[error.code]);
  const extra: Record<string, string> = {};
  if (name === 'ResourceAlreadyExistsException' && error.detail !== undefined) {
    extra['resourceId'] = error.detail;
    if (resourceArn) extra['resourceArn'] = resourceArn(error.detail);
  }
  return new AwsError(name, error.message, extra);
}
