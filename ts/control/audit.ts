/**
 * The audit log of admin writes (branch keys): every operation that is not a read
 * (`access.ts`), successful or refused, leaves one durable registry row naming who (the
 * access key id; null for the operator CLI), what (operation and resource), when and
 * the result (`OK` or the error name the caller received). The response is sent only
 * after the row is durable.
 *
 * Where the registry method offers it (the access-key writes), the operation takes an
 * `AuditTicket` and the OK row is written in the same transaction as the change, so
 * the two commit or roll back together. Otherwise the row is written in its own
 * transaction right after the operation's; if that fails the caller gets
 * InternalFailureException (the write itself may have been committed) and the failure
 * is logged. A refusal is always recorded after the operation's transaction rolled back.
 *
 * Rows never contain secrets: the resource is built only from path parameters and a
 * fixed list of id members of the output (never the body, headers or other output).
 */
import { RegistryError, type NewAuditEntry, type Registry } from '../registry/types.js';
import { isReadOperation } from './access.js';
import { AwsError, fromRegistryError } from './errors.js';

/** Output members that name the resource a write created. */
const OUTPUT_IDS = ['certificateId', 'caCertificateId', 'policyName', 'domainName'] as const;

/** What the operation acted on, e.g. `certificateId=ab12...`; null when nothing names it. */
export function auditResource(params: Record<string, string>, output: Record<string, unknown> | undefined): string | null {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  for (const name of OUTPUT_IDS) {
    const value = output?.[name];
    if (typeof value === 'string' && params[name] === undefined) parts.push(`${name}=${value}`);
  }
  const key = output?.['accessKey'];
  const keyId = key !== null && typeof key === 'object' ? (key as Record<string, unknown>)['accessKeyId'] : undefined;
  if (typeof keyId === 'string' && params['accessKeyId'] === undefined) parts.push(`accessKeyId=${keyId}`);
  return parts.length === 0 ? null : parts.join(' ');
}

/** The error name a caller receives for `err` (as `http.ts` answers it). */
export function resultName(err: unknown): string {
  if (err instanceof AwsError) return err.errorType;
  if (err instanceof RegistryError) return fromRegistryError(err).errorType;
  return 'InternalFailureException';
}

/** Lets a write record its own OK row inside its registry transaction. */
export interface AuditTicket {
  /** The row to write with the change (marks the outcome as recorded). */
  take(resource: string | null): NewAuditEntry;
}

export interface AuditedCall {
  accountId: string;
  accessKeyId: string | null;
  operation: string;
  params: Record<string, string>;
  requestId: string | null;
}

/** Run `fn` (the operation); for a write, record its outcome before returning or rethrowing. */
export async function runAudited(
  registry: Registry,
  call: AuditedCall,
  fn: (audit?: AuditTicket) => Promise<Record<string, unknown> | undefined>,
): Promise<Record<string, unknown> | undefined> {
  if (isReadOperation(call.operation)) return fn();
  const entry = (resource: string | null, result: string): NewAuditEntry => ({
    accountId: call.accountId,
    accessKeyId: call.accessKeyId,
    operation: call.operation,
    resource,
    result,
    requestId: call.requestId,
  });
  let taken = false;
  const ticket: AuditTicket = {
    take(resource) {
      taken = true;
      return entry(resource, 'OK');
    },
  };
  let output: Record<string, unknown> | undefined;
  try {
    output = await fn(ticket);
  } catch (err) {
    await registry.appendAudit(entry(auditResource(call.params, undefined), resultName(err)));
    throw err;
  }
  if (!taken) await registry.appendAudit(entry(auditResource(call.params, output), 'OK'));
  return output;
}

/** A write the operator CLI makes without an admin operation handler (account bootstrap), audited like one. */
export async function auditedOperatorWrite(
  registry: Registry,
  accountId: string,
  operation: string,
  params: Record<string, string>,
  fn: (audit?: AuditTicket) => Promise<Record<string, unknown> | undefined>,
): Promise<Record<string, unknown> | undefined> {
  return runAudited(registry, { accountId, accessKeyId: null, operation, params, requestId: null }, fn);
}
