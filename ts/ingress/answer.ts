/**
 * Decisions as HTTP answers, shared by the JSON, NGINX and Envoy-HTTP doors.
 *
 * - allow → exactly 200 (Envoy's HTTP mode treats only 200 as allow; NGINX any 2xx);
 * - deny → 403 (NGINX passes 401/403 through; Envoy passes any non-5xx status through);
 * - unavailable → 503: NGINX turns it into a 500 for the client, Envoy counts it as an
 *   error and applies `failure_mode_allow` (default false) / `status_on_error` — both
 *   still refuse, and operators can tell outages from denials
 *   (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_authz/v3/ext_authz.proto, https://nginx.org/en/docs/http/ngx_http_auth_request_module.html).
 */
import type { Decision } from '../authz/decision.js';
import { reasonKind, type Reason } from '../authz/reasons.js';

/** Header names the doors answer with (NGINX reads them via `auth_request_set`). */
export const DECISION_HEADERS = {
  reason: 'x-certgate-reason',
  certificateId: 'x-certgate-certificate-id',
  accountId: 'x-certgate-account-id',
  certificateMode: 'x-certgate-certificate-mode',
  thingName: 'x-certgate-thing-name',
} as const;

/** The HTTP status for a reason. */
export function httpStatus(reason: Reason): 200 | 403 | 503 {
  const kind = reasonKind(reason);
  return kind === 'allow' ? 200 : kind === 'deny' ? 403 : 503;
}

/**
 * The response headers describing a decision (empty fields left out), as the flat
 * `[name, value, ...]` list `writeHead` takes: the HTTP doors append to it, the gRPC door
 * reads it pairwise. The one definition of which header carries which field.
 */
export function decisionHeaderList(decision: Decision): string[] {
  const h: string[] = [DECISION_HEADERS.reason, decision.reason];
  if (decision.certificateId !== null) h.push(DECISION_HEADERS.certificateId, decision.certificateId);
  if (decision.accountId !== null) h.push(DECISION_HEADERS.accountId, decision.accountId);
  if (decision.certificateMode !== null) h.push(DECISION_HEADERS.certificateMode, decision.certificateMode);
  // AWS thing names are [a-zA-Z0-9:_-]+, so a comma list is unambiguous.
  if (decision.things.length > 0) h.push(DECISION_HEADERS.thingName, decision.things.join(','));
  return h;
}
