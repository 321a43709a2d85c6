/**
 * A front door could not read the request. It is answered like a deny (the reason says
 * which limit or syntax rule) with the HTTP status that names the problem.
 */
import type { Reason } from '../authz/reasons.js';
import { TextMemo } from '../fastpath/index.js';

export class RequestError extends Error {
  constructor(
    readonly reason: Reason,
    readonly status: 400 | 403 | 405 | 413 | 431,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Told when a door refuses a request it cannot read: metrics count it, the decision log writes it. */
export type RequestErrorHook = (door: string, error: RequestError, requestId: string | undefined) => void;

/**
 * Escaped certificates decoded, by their exact text (a device reconnecting sends the
 * same one; decoding ~1.7 KB costs ~3 µs, bench/README.md "Fast path"): one per server
 * when the fast path is on. Texts over 8 KiB are not kept.
 */
export function escapedPemMemo(): TextMemo<string> {
  return new TextMemo<string>(1024, 8192);
}

/**
 * Decode a URL-encoded PEM (NGINX `$ssl_client_escaped_cert`, Envoy's five escapes),
 * through `decodedPems` when given ({@link escapedPemMemo}).
 */
export function decodeEscapedPem(value: string, decodedPems?: TextMemo<string>): string {
  const known = decodedPems?.get(value);
  if (known !== undefined) return known;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw new RequestError('BAD_REQUEST', 400, 'the certificate header is not valid percent-encoding');
  }
  decodedPems?.set(value, decoded);
  return decoded;
}
