/**
 * Admission control of every HTTP port (authorizer, admin API, metrics): a cap on open
 * connections and timeouts, in seconds, for a client to send its headers and its whole
 * request. Node's defaults (no cap, 300 s per request, timeouts checked every 30 s) let
 * 3,000 slow connections hold 770 MiB of the admin API and 388 MiB of the authorizer
 * (issue 14). Memory per process is now bounded by maxConnections × (header limit + body
 * limit), and a slow client is cut within headersTimeoutMs / requestTimeoutMs + 1 s.
 *
 * The gRPC port is left to grpc-js, which exposes no connection cap; there HTTP/2
 * multiplexes a proxy's requests over few connections, messages are bounded by
 * maxBodyBytes and decisions by the load shedder (ts/authz/shedding.ts).
 */
import type { Server, ServerOptions } from 'node:http';

export interface AdmissionLimits {
  /**
   * Open connections per HTTP port per process; more are closed as they are accepted.
   * Proxies keep pools of tens of connections per worker (NGINX `keepalive`, Envoy one or
   * two per worker thread), and 512 requests in flight in one process is overload
   * anyway; the cap bounds what slow clients can hold, since each may hold up to a body
   * (128 KiB authorizer, 256 KiB admin): 1,024 slow connections added 139 MiB to one
   * process in bench/overload.ts, 512 half that. Measured in bench/README.md.
   */
  maxConnections: number;
  /** Milliseconds to receive a request's headers. Proxies and SDKs send them in one write; 5 s covers slow links. */
  headersTimeoutMs: number;
  /** Milliseconds to receive a whole request. The largest (a 256 KiB admin call) takes well under a second on any working link. */
  requestTimeoutMs: number;
}

export const DEFAULT_ADMISSION: Readonly<AdmissionLimits> = Object.freeze({
  maxConnections: 512,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
});

/**
 * How often node:http looks for connections past their timeouts (its default is 30 s,
 * which would let a slow client hold a socket up to 30 s past the limit).
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** The node:http server options that enforce the limits (pass to `http.createServer`). */
export function admissionServerOptions(limits: AdmissionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, limits.headersTimeoutMs),
  };
}

/** Cap a server's connections (after it was created with {@link admissionServerOptions}). */
export function capConnections(server: Server, limits: AdmissionLimits): Server {
  server.maxConnections = limits.maxConnections;
  return server;
}
