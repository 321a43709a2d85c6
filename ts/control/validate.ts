/**
 * Input validation for the admin API. Every constraint of the AWS IoT model is checked
 * here, server-side (observed: the JS SDK validates nothing, botocore only
 * `required`/`min`). A failure is an InvalidRequestException naming the member, and nothing is written.
 */
import { LIMITS, type PageRequest } from '../registry/types.js';
import { MAX_MARKER_LENGTH } from '../registry/pagination.js';
import { invalid } from './errors.js';
import type { AuditTicket } from './audit.js';

/** A parsed request as handlers see it. */
export interface ApiRequest {
  accountId: string;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The JSON body (`{}` when absent or empty). */
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  /** For writes: lets the operation record its audit row in its own transaction (branch keys). */
  audit?: AuditTicket;
  /** The body bytes, for routes with `rawBody` (then `body` is `{}`). */
  raw?: Uint8Array;
}

const ID_PATTERN = /^[0-9a-fA-F]{64}$/;
const ACCOUNT_PATTERN = /^[0-9]{12}$/;

/** A certificate or CA id path parameter: 64 hex chars, answered in lowercase. */
export function certificateIdParam(request: ApiRequest, name: string): string {
  const value = request.params[name] ?? '';
  if (!ID_PATTERN.test(value)) throw invalid(`${name} must be 64 hexadecimal characters (got ${JSON.stringify(value.slice(0, 80))}).`);
  return value.toLowerCase();
}

export function accountIdValue(value: string, name: string): string {
  if (!ACCOUNT_PATTERN.test(value)) throw invalid(`${name} must be a 12-digit account id.`);
  return value;
}

export function queryBool(request: ApiRequest, name: string): boolean | undefined {
  const values = request.query.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw invalid(`Query parameter ${name} was given more than once.`);
  if (values[0] === 'true') return true;
  if (values[0] === 'false') return false;
  throw invalid(`Query parameter ${name} must be true or false.`);
}

export function queryString(
  request: ApiRequest,
  name: string,
  constraints: { required?: boolean; max?: number; pattern?: RegExp } = {},
): string | undefined {
  const values = request.query.getAll(name);
  if (values.length > 1) throw invalid(`Query parameter ${name} was given more than once.`);
  const value = values[0];
  if (value === undefined) {
    if (constraints.required) throw invalid(`Query parameter ${name} is required.`);
    return undefined;
  }
  if (constraints.max !== undefined && value.length > constraints.max) {
    throw invalid(`Query parameter ${name} must be at most ${constraints.max} characters.`);
  }
  if (constraints.pattern && !constraints.pattern.test(value)) throw invalid(`Query parameter ${name} has an invalid value.`);
  return value;
}

/**
 * A query value from `values`. `listed` is what the refusal names (default all of
 * `values`): an operation that takes only some model values names only those.
 */
export function queryEnum<T extends string>(
  request: ApiRequest,
  name: string,
  values: readonly T[],
  required = false,
  listed: readonly string[] = values,
): T | undefined {
  const value = queryString(request, name, { required });
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) {
    throw invalid(`Query parameter ${name} must be one of ${listed.join(', ')} (got ${JSON.stringify(value.slice(0, 64))}).`);
  }
  return value as T;
}

export function queryInt(request: ApiRequest, name: string, min: number, max: number): number | undefined {
  const value = queryString(request, name);
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw invalid(`Query parameter ${name} must be an integer from ${min} to ${max}.`);
  }
  return Number(value);
}

/** `pageSize` (1..250, default 25), `marker`, `isAscendingOrder` (default false: newest first). */
export function pageRequest(request: ApiRequest): PageRequest {
  const pageSize = queryInt(request, 'pageSize', 1, LIMITS.MAX_PAGE_SIZE) ?? LIMITS.DEFAULT_PAGE_SIZE;
  const marker = queryString(request, 'marker', { max: MAX_MARKER_LENGTH, pattern: /^[A-Za-z0-9+/]+={0,2}$/ });
  const ascending = queryBool(request, 'isAscendingOrder') ?? false;
  return marker === undefined ? { pageSize, ascending } : { pageSize, ascending, marker };
}

interface StringConstraints {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
}

export function bodyString(body: Record<string, unknown>, name: string, constraints: StringConstraints = {}): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (constraints.required) throw invalid(`${name} is required.`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`${name} must be a string.`);
  if (constraints.min !== undefined && value.length < constraints.min) {
    throw invalid(`${name} must be at least ${constraints.min} characters.`);
  }
  if (constraints.max !== undefined && value.length > constraints.max) {
    throw invalid(`${name} must be at most ${constraints.max} characters.`);
  }
  if (constraints.pattern && !constraints.pattern.test(value)) throw invalid(`${name} has an invalid format.`);
  return value;
}

export function bodyBool(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean.`);
  return value;
}

/** A body value from `values`; `listed` as in {@link queryEnum}. */
export function bodyEnum<T extends string>(
  body: Record<string, unknown>,
  name: string,
  values: readonly T[],
  listed: readonly string[] = values,
): T | undefined {
  const value = bodyString(body, name);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) {
    throw invalid(`${name} must be one of ${listed.join(', ')} (got ${JSON.stringify(value.slice(0, 64))}).`);
  }
  return value as T;
}

export function bodyObject(body: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${name} must be an object.`);
  return value as Record<string, unknown>;
}

export function bodyArray(body: Record<string, unknown>, name: string): unknown[] | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(`${name} must be a list.`);
  return value;
}
