/**
 * Operator bootstrap of accounts and credentials (`certgate account create`). Account
 * ids are 12 digits; endpoint prefixes 14 lowercase alphanumerics (as AWS shows them,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html); access keys look like AWS ones (`AKIA` + 16) so SDK validators accept them.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { AccessKeyScope, AccessKeyStatus, Account, Credential, Registry } from '../registry/types.js';
import { AwsError } from './errors.js';
import type { AuditTicket } from './audit.js';

const ALNUM_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const ACCOUNT_ID_PATTERN = /^[0-9]{12}$/;
/** Access key ids: 16..128 word characters (IAM's documented constraint). */
export const ACCESS_KEY_PATTERN = /^[\w]{16,128}$/;
/** Secrets: at least 16 characters; no whitespace (they travel in env vars and config files). */
export const SECRET_PATTERN = /^\S{16,128}$/;

export interface NewAccountRequest {
  accountId?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface CreatedAccount {
  accountId: string;
  endpointPrefix: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Generate a fresh access key pair. */
export function generateCredential(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: `AKIA${randomString(ALNUM_UPPER, 16)}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/** Check a user-supplied credential pair; throws InvalidRequestException. */
export function checkCredential(accessKeyId: string, secretAccessKey: string): void {
  if (!ACCESS_KEY_PATTERN.test(accessKeyId))
    throw new AwsError('InvalidRequestException', 'The access key id must be 16-128 letters, digits or underscores.');
  if (!SECRET_PATTERN.test(secretAccessKey))
    throw new AwsError('InvalidRequestException', 'The secret access key must be 16-128 characters without whitespace.');
}

/** Create an account with one credential, generating what is not given. */
export async function createAccount(registry: Registry, request: NewAccountRequest): Promise<CreatedAccount> {
  if ((request.accessKeyId === undefined) !== (request.secretAccessKey === undefined)) {
    throw new AwsError('InvalidRequestException', 'Give both the access key id and the secret access key, or neither.');
  }
  const accountId = request.accountId ?? String(randomInt(100_000_000_000, 999_999_999_999));
  if (!ACCOUNT_ID_PATTERN.test(accountId)) throw new AwsError('InvalidRequestException', 'The account id must be 12 digits.');
  const credential =
    request.accessKeyId !== undefined && request.secretAccessKey !== undefined
      ? { accessKeyId: request.accessKeyId, secretAccessKey: request.secretAccessKey }
      : generateCredential();
  checkCredential(credential.accessKeyId, credential.secretAccessKey);
  if (await registry.getCredential(credential.accessKeyId)) {
    throw new AwsError('ResourceAlreadyExistsException', `Access key ${credential.accessKeyId} already exists.`);
  }
  const account: Account = await registry.createAccount({ accountId, endpointPrefix: randomString(ALNUM_LOWER, 14) });
  await registry.addCredential({ accountId, ...credential });
  return { accountId, endpointPrefix: account.endpointPrefix, ...credential };
}

/** A new access key as returned once to its creator (the only time the secret is shown). */
export interface CreatedAccessKey {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  scope: AccessKeyScope;
  status: AccessKeyStatus;
  createDate: number;
}

/**
 * Add an access key to an account (CreateAccessKey, `certgate account key create`).
 * The id and secret are generated unless the operator CLI supplies both.
 */
export async function createAccessKey(
  registry: Registry,
  accountId: string,
  request: { scope?: AccessKeyScope; accessKeyId?: string; secretAccessKey?: string } = {},
  /** Record the audit row in the key's own transaction (`audit.ts`). */
  audit?: AuditTicket,
): Promise<CreatedAccessKey> {
  if ((request.accessKeyId === undefined) !== (request.secretAccessKey === undefined)) {
    throw new AwsError('InvalidRequestException', 'Give both the access key id and the secret access key, or neither.');
  }
  const credential =
    request.accessKeyId !== undefined && request.secretAccessKey !== undefined
      ? { accessKeyId: request.accessKeyId, secretAccessKey: request.secretAccessKey }
      : generateCredential();
  checkCredential(credential.accessKeyId, credential.secretAccessKey);
  await registry.addCredential(
    { accountId, ...credential, scope: request.scope ?? 'FULL' },
    audit?.take(`accessKeyId=${credential.accessKeyId}`),
  );
  const stored = await registry.getCredential(credential.accessKeyId);
  if (!stored) throw new Error('access key vanished after it was added');
  return { accountId, ...credential, scope: stored.scope, status: stored.status, createDate: stored.createdAt };
}

/** An access key as listed: never its secret. */
export function describeAccessKey(key: Credential): Record<string, unknown> {
  return { accessKeyId: key.accessKeyId, scope: key.scope, status: key.status, createDate: key.createdAt };
}
