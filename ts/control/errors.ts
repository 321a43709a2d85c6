/**
 * AWS IoT error names and their modeled HTTP statuses
 * (https://docs.aws.amazon.com/iot/latest/apireference/CommonErrors.html and each
 * operation's Errors section), and the mapping from registry refusals. Only this module and `http.ts` know HTTP statuses.
 */
import type { RegistryError } from '../registry/types.js';
import { refusalWording } from './refusals.js';

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
  // SigV4 layer (not in the IoT model: https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html).
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
 * The AWS error a registry refusal becomes: its reason's entry in the one catalogue
 * (refusals.ts). A "ResourceAlreadyExistsException" names the conflicting resource
 * (`resourceId`, and `resourceArn` when the operation knows how to spell it).
 */
export function fromRegistryError(error: RegistryError, resourceArn?: (id: string) => string): AwsError {
  const { error: name, message } = refusalWording(error.reason, error.details, error.message);
  const extra: Record<string, string> = {};
  const conflicting = error.details['resourceId'];
  if (name === 'ResourceAlreadyExistsException' && conflicting !== undefined) {
    extra['resourceId'] = String(conflicting);
    if (resourceArn) extra['resourceArn'] = resourceArn(String(conflicting));
  }
  return new AwsError(name, message, extra);
}
