/**
 * What a READ_ONLY access key may call (branch keys): the operations whose names start
 * with List, Describe or Get, as AWS IAM's "Read" and "List" access levels group IoT
 * actions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html).
 * Every other operation is a write: refused for READ_ONLY keys with AccessDeniedException,
 * and recorded in the audit log whoever calls it.
 *
 * GetRegistrationCode counts as a read although it stores a code the first time an
 * account asks for one (AWS classifies it the same way).
 */
import { AwsError } from './errors.js';

const READ_OPERATION = /^(List|Describe|Get)[A-Z]/;

export function isReadOperation(operation: string): boolean {
  return READ_OPERATION.test(operation);
}

/** The refusal a READ_ONLY key gets for a write. */
export function readOnlyRefusal(accessKeyId: string, operation: string): AwsError {
  return new AwsError(
    'AccessDeniedException',
    `Access key ${accessKeyId} is read-only: it may call List*, Describe* and Get* operations, not ${operation}.`,
  );
}
