/**
 * Envoy's `x-forwarded-client-cert`
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert):
 * comma-separated elements (one
 * per proxy hop), each a `;`-separated list of `Key=Value` pairs. Keys are
 * case-insensitive; a value containing `,` `;` `=` is double-quoted with `\"` escapes.
 * Envoy always quotes Cert, Chain and Subject, but does not quote By/URI, so the parser
 * accepts unquoted values with `=` inside and only splits on `,` and `;` outside quotes.
 */

/** One hop's element: keys lower-cased, repeated keys (By, URI, DNS) kept in order. */
export type XfccElement = Map<string, string[]>;

/** Parse a header value; throws a `TypeError` with a specific message on bad syntax. */
export function parseXfcc(header: string): XfccElement[] {
  const elements: XfccElement[] = [];
  let element: XfccElement = new Map();
  let i = 0;
  const n = header.length;
  while (i < n) {
    // Key, up to '='.
    const eq = header.indexOf('=', i);
    if (eq === -1) throw new TypeError(`XFCC pair without "=" at offset ${i}`);
    const key = header.slice(i, eq).trim().toLowerCase();
    if (key === '' || /[,;"]/.test(key)) throw new TypeError(`XFCC has a bad key at offset ${i}`);
    i = eq + 1;
    let value = '';
    if (header[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = header[i];
        if (c === '\\' && i + 1 < n) {
          value += header[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new TypeError(`XFCC value of "${key}" has no closing quote`);
    } else {
      const end = nextSeparator(header, i);
      value = header.slice(i, end).trim();
      i = end;
    }
    const values = element.get(key);
    if (values === undefined) element.set(key, [value]);
    else values.push(value);
    // Separator: ';' continues the element, ',' starts the next one.
    while (i < n && header[i] === ' ') i++;
    if (i >= n) break;
    const sep = header[i];
    if (sep === ';') {
      i++;
    } else if (sep === ',') {
      elements.push(element);
      element = new Map();
      i++;
    } else {
      throw new TypeError(`XFCC expected ";" or "," at offset ${i}`);
    }
    while (i < n && header[i] === ' ') i++;
  }
  if (element.size > 0) elements.push(element);
  return elements;
}

function nextSeparator(s: string, from: number): number {
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === ';' || c === ',') return j;
  }
  return s.length;
}

/**
 * The client certificate of the hop nearest to us (the last element: APPEND_FORWARD
 * appends, SANITIZE_SET leaves one), as PEM text: `Chain` (leaf first, intermediates
 * after) when present, else `Cert`. Values are URL-encoded PEM. Null when no element
 * carries a certificate.
 */
export function xfccClientChain(header: string): string | null {
  const elements = parseXfcc(header);
  const last = elements.at(-1);
  if (last === undefined) return null;
  const encoded = last.get('chain')?.[0] ?? last.get('cert')?.[0];
  if (encoded === undefined || encoded === '') return null;
  return decodeURIComponent(encoded);
}
