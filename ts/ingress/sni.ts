/**
 * SNI as the front doors accept it. RFC 6066 section 3
 * (https://www.rfc-editor.org/rfc/rfc6066#section-3): the HostName is an ASCII host name
 * and internationalized names travel as A-labels ("xn--…"), so a value with any
 * character outside ASCII did not come from a TLS handshake as sent; it is refused with
 * BAD_REQUEST instead of being case-folded with Unicode rules into some other account's
 * name (the Kelvin sign U+212A folds to "k").
 */
import { RequestError } from './requestError.js';

/** Any UTF-16 code unit above U+007F (surrogate halves included). */
const NON_ASCII = /[\u0080-\uffff]/;

/** `sni` unchanged when it is ASCII (or absent); else a BAD_REQUEST RequestError. */
export function asciiSni(sni: string | null): string | null {
  if (sni !== null && NON_ASCII.test(sni)) {
    throw new RequestError(
      'BAD_REQUEST',
      400,
      'the SNI must be ASCII (RFC 6066 section 3; internationalized names are sent as A-labels, xn--...)',
    );
  }
  return sni;
}
