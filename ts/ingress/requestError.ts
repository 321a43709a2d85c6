/**
 * A front door could not read the request. It is answered like a deny (the reason says
 * which limit or syntax rule) with the HTTP status that names the problem.
 */
import type { Reason } from '../authz/reasons.js';

export class RequestError extends Error {
  constructor(
    readonly reason: Reason,
    readonly status: 400 | 403 | 413 | 431,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Decode a URL-encoded PEM (NGINX `$ssl_client_escaped_cert`, Envoy's five escapes). */
export function decodeEscapedPem(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RequestError('BAD_REQUEST', 400, 'the certificate header is not valid percent-encoding');
  }
}
