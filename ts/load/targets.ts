/**
 * What `certgate load` sends to, one module per way a device's connection reaches
 * certgate. Each target turns one device into one request and the answer into an
 * {@link Answer}; none decides anything itself.
 *
 * - json, nginx, envoy-http: the authorizer's HTTP doors, as NGINX `auth_request` and
 *   Envoy's `http_service` call them (undici, keep-alive pool).
 * - grpc: Envoy's ext_authz `Authorization/Check`, with CheckRequests shaped like the HTTP
 *   filter's or the network filter's (grpc-js, the real Envoy protos).
 * - tls: through a real TLS terminator (NGINX, Envoy) with the device's certificate and
 *   key as the client certificate, one new TLS handshake per request: the whole path a
 *   device takes when it connects.
 */
import https from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { authorizationService } from '../ingress/envoyProtos.js';
import type { Device } from './fleet.js';

/** How an answer counts: `error` is no answer (connection failure, timeout, bad reply). */
export type Outcome = 'allow' | 'deny' | 'unavailable' | 'error';

export interface Answer {
  outcome: Outcome;
  /** certgate's reason code when the answer carried one, else a short cause. */
  reason: string;
}

export interface Target {
  readonly name: string;
  send(device: Device, sni: string): Promise<Answer>;
  close(): Promise<void>;
}

export const HTTP_DOORS = ['json', 'nginx', 'envoy-http'] as const;
export type HttpDoor = (typeof HTTP_DOORS)[number];

/** The door's outcome for an HTTP status (answer.ts: 200 allow, 403 deny, 503 unavailable). */
function httpOutcome(status: number): Outcome {
  if (status === 200) return 'allow';
  if (status === 403) return 'deny';
  if (status === 503) return 'unavailable';
  return 'error';
}

function causeOf(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? (err instanceof Error ? err.message : String(err));
}

/** `$ssl_client_escaped_cert` / Envoy's XFCC `Cert=`: the PEM, URL-escaped. */
function escapePem(pem: string): string {
  return encodeURIComponent(pem);
}

/** One HTTP request as undici takes it. */
export type HttpRequest = Parameters<Pool['request']>[0];

/**
 * Any HTTP endpoint at `baseUrl` over `connections` keep-alive connections, `request`
 * turning a device into its request; the answer is read from the status (200 allow, 403
 * deny, 503 unavailable) and certgate's reason header. The doors below and callers with
 * their own request shapes (bench/authz.ts's prepared bodies) share it.
 */
export function httpTarget(
  baseUrl: string,
  name: string,
  connections: number,
  request: (device: Device, sni: string) => HttpRequest,
): Target {
  const pool = new Pool(new URL(baseUrl).origin, { connections, pipelining: 1 });
  return {
    name,
    async send(device, sni) {
      try {
        const res = await pool.request(request(device, sni));
        await res.body.dump();
        const reason = res.headers['x-certgate-reason'];
        return { outcome: httpOutcome(res.statusCode), reason: typeof reason === 'string' ? reason : `HTTP ${res.statusCode}` };
      } catch (err) {
        return { outcome: 'error', reason: causeOf(err) };
      }
    },
    close: () => pool.close(),
  };
}

/** One of the authorizer's HTTP doors at `baseUrl` (e.g. http://127.0.0.1:9441). */
export function httpDoorTarget(baseUrl: string, door: HttpDoor, connections: number): Target {
  return httpTarget(baseUrl, door, connections, (device, sni) => {
    switch (door) {
      case 'json':
        return {
          path: '/v1/authorize',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sni, certChain: [device.certificatePem] }),
        };
      case 'nginx':
        return {
          path: '/v1/nginx/auth',
          method: 'GET',
          headers: { 'x-ssl-client-cert': escapePem(device.certificatePem), 'x-ssl-server-name': sni },
        };
      case 'envoy-http':
        return {
          path: '/v1/envoy/http/',
          method: 'POST',
          headers: { 'x-forwarded-client-cert': `Cert="${escapePem(device.certificatePem)}"`, 'x-certgate-sni': sni },
        };
    }
  });
}

export type GrpcShape = 'http' | 'network';

type CheckClient = grpc.Client & {
  Check(
    req: unknown,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res: { status?: { code?: number; message?: string } }) => void,
  ): void;
};

/** A CheckRequest as Envoy's HTTP filter or network (TCP) filter sends it for this device. */
export function checkRequest(device: Device, sni: string, shape: GrpcShape): unknown {
  const certificate = escapePem(device.certificatePem);
  if (shape === 'network') {
    return { attributes: { source: { certificate }, destination: { service: sni } } };
  }
  return {
    attributes: {
      source: { certificate },
      tls_session: { sni },
      request: {
        http: { method: 'CONNECT', path: '/mqtt', host: sni, scheme: 'https', protocol: 'HTTP/1.1', headers: { ':authority': sni } },
      },
    },
  };
}

/**
 * Envoy's ext_authz gRPC Check at `address` (host:port), over `channels` HTTP/2 connections;
 * `request` builds each CheckRequest (by default {@link checkRequest} of `shape`).
 */
export function grpcTarget(
  address: string,
  shape: GrpcShape,
  channels: number,
  timeoutMs: number,
  request: (device: Device, sni: string) => unknown = (device, sni) => checkRequest(device, sni, shape),
): Target {
  const Service = authorizationService();
  // Distinct channel options give distinct connections (grpc-js shares equal ones).
  const clients = Array.from(
    { length: Math.max(1, channels) },
    (_, i) => new Service(address, grpc.credentials.createInsecure(), { 'grpc.certgate_load_channel': i }) as unknown as CheckClient,
  );
  let next = 0;
  return {
    name: `grpc-${shape}`,
    send(device, sni) {
      const client = clients[next++ % clients.length] as CheckClient;
      return new Promise<Answer>((resolve) => {
        client.Check(request(device, sni), { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err !== null) {
            const reason = err.metadata?.get('x-certgate-reason')[0];
            const outcome: Outcome = err.code === grpc.status.UNAVAILABLE && reason !== undefined ? 'unavailable' : 'error';
            resolve({ outcome, reason: typeof reason === 'string' ? reason : (grpc.status[err.code] ?? String(err.code)) });
            return;
          }
          const code = res.status?.code ?? -1;
          const reason = res.status?.message || (code === grpc.status.OK ? 'OK' : String(code));
          resolve({ outcome: code === grpc.status.OK ? 'allow' : code === grpc.status.PERMISSION_DENIED ? 'deny' : 'error', reason });
        });
      });
    },
    async close() {
      for (const c of clients) c.close();
    },
  };
}

export interface TlsTargetOptions {
  /** CA certificate(s) (PEM) that sign the terminator's server certificate. */
  ca?: string;
  /** Skip verification of the terminator's certificate (named: it weakens the test). */
  dangerInsecure?: boolean;
  timeoutMs: number;
}

/**
 * Through a TLS terminator: GET `url` with the device's certificate and key, a new TLS
 * handshake per request (no agent, no session reuse), SNI = the fleet's endpoint. The
 * answer is read by {@link terminatorAnswer}; a handshake the terminator ends with a TLS
 * alert is a deny (Envoy's network filter with `send_tls_alert_on_denial` refuses that way).
 */
export function tlsTarget(url: string, options: TlsTargetOptions): Target {
  const target = new URL(url);
  if (target.protocol !== 'https:') throw new Error(`--tls-url must be https://, got ${url}`);
  return {
    name: 'tls',
    send(device, sni) {
      if (device.privateKeyPem === undefined) return Promise.resolve({ outcome: 'error', reason: 'device has no privateKeyPem' });
      return new Promise<Answer>((resolve) => {
        const req = https.request(
          {
            host: target.hostname,
            port: target.port === '' ? 443 : Number(target.port),
            path: `${target.pathname}${target.search}`,
            method: 'GET',
            agent: false,
            servername: sni,
            headers: { host: sni, connection: 'close' },
            cert: device.certificatePem,
            key: device.privateKeyPem,
            ...(options.ca === undefined ? {} : { ca: options.ca }),
            rejectUnauthorized: options.dangerInsecure !== true,
            timeout: options.timeoutMs,
          },
          (res) => {
            let head = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              if (head.length < TERMINATOR_PAGE_BYTES) head += chunk.slice(0, TERMINATOR_PAGE_BYTES - head.length);
            });
            res.on('end', () => resolve(terminatorAnswer(res.statusCode ?? 0, res.headers['x-certgate-reason'], head)));
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (err) => {
          const cause = causeOf(err);
          // A TLS alert from the terminator (Envoy's network filter with
          // send_tls_alert_on_denial, a certificate the terminator refused): a refusal.
          // Resets and timeouts are errors: a crashed terminator resets too.
          const refused = /_ALERT_/.test(cause);
          resolve({ outcome: refused ? 'deny' : 'error', reason: cause });
        });
        req.end();
      });
    },
    async close() {},
  };
}

/** How much of an answer's body is read to recognise NGINX's own refusal pages. */
const TERMINATOR_PAGE_BYTES = 4096;

/**
 * NGINX refuses a client certificate itself, before any auth_request, when it fails its own
 * checks (expired or not yet valid even under `ssl_verify_client optional_no_ca`; none sent
 * under `ssl_verify_client on`): its internal 495/496 go to the client as a 400 with these
 * pages (https://nginx.org/en/docs/http/ngx_http_ssl_module.html#errors). A refusal of the
 * device, so a deny, not a failure of the run.
 */
const NGINX_CERTIFICATE_REFUSALS = ['The SSL certificate error', 'No required SSL certificate was sent'] as const;

/**
 * A terminator's HTTP answer: 2xx allow; 401/403 deny; NGINX's 400 certificate refusal
 * deny; 5xx unavailable (NGINX answers 500 when auth_request fails: certgate unreachable or
 * `unavailable`); anything else an error (never an allow).
 */
export function terminatorAnswer(status: number, certgateReason: string | string[] | undefined, body: string): Answer {
  const reason = typeof certgateReason === 'string' ? certgateReason : `HTTP ${status}`;
  if (status >= 200 && status < 300) return { outcome: 'allow', reason };
  if (status === 401 || status === 403) return { outcome: 'deny', reason };
  if (status === 400) {
    const refusal = NGINX_CERTIFICATE_REFUSALS.find((page) => body.includes(page));
    if (refusal !== undefined) return { outcome: 'deny', reason: `HTTP 400 ${refusal.replace(/^The /, '')}` };
  }
  if (status >= 500) return { outcome: 'unavailable', reason };
  return { outcome: 'error', reason };
}

/** A target as data, so generator processes (`--workers`) can each open their own. */
export type TargetSpec =
  | { kind: 'http'; url: string; door: HttpDoor }
  | { kind: 'grpc'; address: string; shape: GrpcShape }
  | { kind: 'tls'; url: string; ca?: string; dangerInsecure?: boolean };

/** Open the target a spec names, with this many connections and a per-request timeout. */
export function openTarget(spec: TargetSpec, connections: number, timeoutMs: number): Target {
  switch (spec.kind) {
    case 'http':
      return httpDoorTarget(spec.url, spec.door, connections);
    case 'grpc':
      return grpcTarget(spec.address, spec.shape, Math.min(connections, 8), timeoutMs);
    case 'tls':
      return tlsTarget(spec.url, {
        timeoutMs,
        ...(spec.ca === undefined ? {} : { ca: spec.ca }),
        ...(spec.dangerInsecure ? { dangerInsecure: true } : {}),
      });
  }
}
