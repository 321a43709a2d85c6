/**
 * An admin API operation: `METHOD /path` as in the AWS model, `{name}` for one path
 * segment (decoded before the handler sees it). `http.ts` registers every route with
 * fastify's router.
 */
import type { ApiRequest } from './validate.js';

/** An operation handler: returns the JSON output, or undefined for an empty 200. */
export type Handler = (request: ApiRequest) => Promise<Record<string, unknown> | undefined>;

export interface Route {
  method: string;
  /** e.g. `/certificates/{certificateId}`. */
  template: string;
  /** The AWS operation name (logs, docs). */
  operation: string;
  handler: Handler;
  /** The body is not JSON: the handler reads `request.raw` (branch crl: CRL uploads). */
  rawBody?: boolean;
  /** A larger body limit than the edge's default, for this route only. */
  maxBodyBytes?: number;
}
