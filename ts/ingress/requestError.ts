/**
 * A front door could not read the request. It is answered like a deny (the reason says
 * which limit or syntax rule) with the HTTP status that names the problem.
 */
import type { Reason } from '../authz/reasons.js';
import type { Decision } from '../authz/decision.js';
import { andThen, type Step } from '../authz/step.js';
import { isShared, TextMemo } from '../fastpath/index.js';

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
 * when the fast path is on. Looked up on every request ({@link escapedChain}); a text is
 * added only once its decision is shared, i.e. the device was met before
 * ({@link rememberDecoded}; ts/fastpath/index.ts, "Remembered on second sight"). Texts
 * over 8 KiB are not kept.
 */
export function escapedPemMemo(): TextMemo<string> {
  return new TextMemo<string>(1024, 8192);
}

/** Decode a URL-encoded PEM (NGINX `$ssl_client_escaped_cert`, Envoy's five escapes). */
export function decodeEscapedPem(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RequestError('BAD_REQUEST', 400, 'the certificate header is not valid percent-encoding');
  }
}

/** A door's chain read from one escaped PEM (absent or empty: no certificate). */
export interface EscapedChain {
  chain: string[];
  /** The escaped text, when it was decoded here rather than found in the memo: {@link rememberDecoded} may keep it. */
  escaped: string | undefined;
}

/** The chain of one escaped PEM, found in `decodedPems` ({@link escapedPemMemo}) when remembered there. */
export function escapedChain(value: string | undefined, decodedPems: TextMemo<string> | undefined): EscapedChain {
  if (value === undefined || value === '') return { chain: [], escaped: undefined };
  const known = decodedPems?.get(value);
  if (known !== undefined) return { chain: [known], escaped: undefined };
  return { chain: [decodeEscapedPem(value)], escaped: decodedPems === undefined ? undefined : value };
}

/**
 * `decided`, unchanged; once it is known, the decoding of `input`'s text is kept if the
 * decision is shared ({@link rememberDecoded}). For the NGINX and gRPC doors.
 */
export function rememberingDecoded(
  decodedPems: TextMemo<string> | undefined,
  input: { readonly chain: readonly string[]; readonly escaped?: string | undefined },
  decided: Step<Decision>,
): Step<Decision> {
  if (decodedPems === undefined || input.escaped === undefined) return decided;
  return andThen(decided, (decision) => {
    rememberDecoded(decodedPems, input, decision);
    return decision;
  });
}

/** After the decision: keep the decoding of a text met before (its decision is shared). */
export function rememberDecoded(
  decodedPems: TextMemo<string> | undefined,
  input: { readonly chain: readonly string[]; readonly escaped?: string | undefined },
  decision: Decision,
): void {
  const pem = input.chain[0];
  if (decodedPems !== undefined && input.escaped !== undefined && pem !== undefined && isShared(decision))
    decodedPems.set(input.escaped, pem);
}
