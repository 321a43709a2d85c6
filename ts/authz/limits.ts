/**
 * Every resource limit of the authorizer, named once with its default and where the
 * number comes from. The server config (`ts/server/config.ts`) exposes each as a flag and
 * an environment variable; each has its own reason code and a test that trips it.
 */

export interface AuthzLimits {
  /**
   * Certificates accepted in one presented chain (leaf included). AWS IoT devices send
   * the leaf and optionally its issuer
   * (https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html); 5 leaves room for two intermediate
   * levels plus a cross-signed root while bounding parse work per request.
   * Exceeding it: `CHAIN_TOO_LONG`.
   */
  maxChainLength: number;
  /**
   * DER bytes per certificate. Real device certificates are 0.5–2 KB; RSA-4096 with long
   * SAN lists stays under 8 KB. 16 KiB bounds a hostile input. Exceeding it:
   * `CERTIFICATE_TOO_LARGE`.
   */
  maxCertificateBytes: number;
  /**
   * Bytes of a JSON request body. A 5-certificate chain of 16 KiB DER is ~110 KB of PEM;
   * 128 KiB fits that plus the JSON around it. Exceeding it: `BODY_TOO_LARGE` (413).
   */
  maxBodyBytes: number;
  /**
   * Bytes of one certificate-carrying header (`X-SSL-Client-Cert`,
   * `x-forwarded-client-cert`). NGINX's escaped leaf is ~1.2–3 KB; Envoy's XFCC with
   * Chain= roughly doubles that. 64 KiB stays below node:http's own 16 KiB-per-line
   * default once raised via `maxHeaderSize`. Exceeding it: `HEADER_TOO_LARGE` (431).
   */
  maxHeaderBytes: number;
  /**
   * Milliseconds one decision may take end to end. Envoy's ext_authz default gRPC
   * timeout is 200 ms (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter); answering within half of it leaves Envoy time
   * to get our answer instead of its own timeout error. Exceeding it: `DEADLINE_EXCEEDED`.
   */
  deadlineMs: number;
}

/** The defaults, justified field by field in {@link AuthzLimits}. */
export const DEFAULT_LIMITS: Readonly<AuthzLimits> = Object.freeze({
  maxChainLength: 5,
  maxCertificateBytes: 16 * 1024,
  maxBodyBytes: 128 * 1024,
  maxHeaderBytes: 64 * 1024,
  deadlineMs: 100,
});
