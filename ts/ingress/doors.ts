/**
 * The three HTTP front doors turn a request into `authorize(sni, chain)` arguments.
 * Each throws a {@link RequestError} when the request cannot be read; none decides.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthzLimits } from '../authz/limits.js';
import { escapedChain, RequestError } from './requestError.js';
import type { TextMemo } from '../fastpath/index.js';
import { asciiSni } from './sni.js';
import { xfccClientChain } from './xfcc.js';

/** What a door extracted. */
export interface AuthzInput {
  sni: string | null;
  chain: string[];
  /** The NGINX and gRPC doors: the escaped certificate, when decoded afresh (requestError.ts `rememberDecoded`). */
  escaped?: string | undefined;
  /** The device's client id (MQTT CONNECT), when the proxy passed one (client id binding). */
  clientId: string | null;
}

/** Header carrying the client id on the NGINX and Envoy HTTP doors. */
export const CLIENT_ID_HEADER = 'x-certgate-client-id';

/**
 * Longest client id read, in UTF-8 bytes: an MQTT UTF-8 string has a 16-bit length
 * (https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901010), so
 * no device can send a longer one. Longer → BAD_REQUEST.
 */
export const MAX_CLIENT_ID_BYTES = 65535;

/** A client id as read from a door: empty means none; too long is refused. */
export function clientIdOf(value: string | undefined | null): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (Buffer.byteLength(value) > MAX_CLIENT_ID_BYTES) {
    throw new RequestError('BAD_REQUEST', 400, `the client id exceeds ${MAX_CLIENT_ID_BYTES} bytes`);
  }
  return value;
}

function header(headers: IncomingHttpHeaders, name: string, limits: AuthzLimits): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (value !== undefined && value.length > limits.maxHeaderBytes) {
    throw new RequestError('HEADER_TOO_LARGE', 431, `header ${name} exceeds maxHeaderBytes=${limits.maxHeaderBytes}`);
  }
  return value;
}

/**
 * Node joins repeated headers with ", ". Neither an escaped PEM nor a host name contains
 * a comma, so one here means the header came more than once: refuse rather than read two
 * certificates (or two names) as one chain.
 */
function single(value: string | undefined, name: string): string | undefined {
  if (value !== undefined && value.includes(',')) {
    throw new RequestError('BAD_REQUEST', 400, `${name} must be sent once`);
  }
  return value;
}

/**
 * NGINX `auth_request` (https://nginx.org/en/docs/http/ngx_http_auth_request_module.html): `X-SSL-Client-Cert:
 * $ssl_client_escaped_cert` (https://nginx.org/en/docs/http/ngx_http_ssl_module.html#var_ssl_client_escaped_cert) (the leaf only; NGINX omits the header when there is no
 * certificate) and `X-SSL-Server-Name: $ssl_server_name` (empty/absent without SNI).
 */
export function nginxInput(headers: IncomingHttpHeaders, limits: AuthzLimits, decodedPems?: TextMemo<string>): AuthzInput {
  const cert = single(header(headers, 'x-ssl-client-cert', limits), 'X-SSL-Client-Cert');
  const sni = asciiSni(single(header(headers, 'x-ssl-server-name', limits), 'X-SSL-Server-Name') ?? null);
  const clientId = clientIdOf(header(headers, CLIENT_ID_HEADER, limits));
  const { chain, escaped } = escapedChain(cert, decodedPems);
  return { sni, chain, clientId, escaped };
}

/** `--envoy-sni-header` value that takes SNI from the Host (`:authority`) instead of a header. */
export const SNI_FROM_AUTHORITY = ':authority';

/**
 * Envoy `http_service` ext_authz (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter): the
 * certificate travels in
 * `x-forwarded-client-cert` (Chain= preferred, else Cert=), which must be listed in
 * `allowed_headers`. SNI comes from `sniHeader` (set from the TLS SNI by the proxy, see
 * examples/envoy), or, when `sniHeader` is `:authority`, from the Host without its port.
 * There is deliberately no fallback from the header to the Host: the Host is chosen by
 * the client, so a device that sent no SNI would otherwise be routed, and an SNI_ONLY
 * certificate allowed, by whatever Host it claims.
 */
export function envoyHttpInput(headers: IncomingHttpHeaders, limits: AuthzLimits, sniHeader: string): AuthzInput {
  const xfcc = header(headers, 'x-forwarded-client-cert', limits);
  let pem: string | null = null;
  if (xfcc !== undefined && xfcc !== '') {
    try {
      pem = xfccClientChain(xfcc);
    } catch (err) {
      if (err instanceof URIError) throw new RequestError('BAD_REQUEST', 400, 'XFCC Cert/Chain is not valid percent-encoding');
      throw new RequestError('BAD_REQUEST', 400, err instanceof Error ? err.message : String(err));
    }
  }
  const sni = asciiSni(sniHeader === SNI_FROM_AUTHORITY ? hostWithoutPort(headers.host) : nonEmpty(header(headers, sniHeader, limits)));
  return { sni, chain: pem === null ? [] : [pem], clientId: clientIdOf(header(headers, CLIENT_ID_HEADER, limits)) };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function hostWithoutPort(host: string | undefined): string | null {
  if (host === undefined || host === '') return null;
  if (host.startsWith('[')) return null; // an IPv6 literal is not an SNI
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * JSON `POST /v1/authorize`: `{ "sni": "host" | null, "certChain": ["PEM", ...] }`,
 * leaf first. Field types are checked; unknown fields are ignored.
 */
export function jsonInput(body: Buffer): AuthzInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RequestError('BAD_REQUEST', 400, 'the body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RequestError('BAD_REQUEST', 400, 'the body must be a JSON object');
  }
  const { sni, certChain, clientId } = parsed as { sni?: unknown; certChain?: unknown; clientId?: unknown };
  if (clientId !== undefined && clientId !== null && typeof clientId !== 'string') {
    throw new RequestError('BAD_REQUEST', 400, '"clientId" must be a string or null');
  }
  if (sni !== undefined && sni !== null && typeof sni !== 'string') {
    throw new RequestError('BAD_REQUEST', 400, '"sni" must be a string or null');
  }
  if (!Array.isArray(certChain) || !certChain.every((c): c is string => typeof c === 'string')) {
    throw new RequestError('BAD_REQUEST', 400, '"certChain" must be an array of PEM strings');
  }
  return { sni: asciiSni(sni ?? null), chain: certChain, clientId: clientIdOf(clientId) };
}
