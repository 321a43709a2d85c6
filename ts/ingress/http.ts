/**
 * The authorizer's HTTP port (default 127.0.0.1:9441), on node:http rather than a
 * framework: it is the hot path, where every microsecond of routing is paid per
 * handshake (bench/README.md compares it with a bare node:http server). The admin API,
 * which is not on the hot path, runs on fastify (ts/control/http.ts).
 *
 * Routes:
 *   POST /v1/authorize          JSON door
 *   ANY  /v1/nginx/auth         NGINX auth_request door
 *   ANY  /v1/envoy/http[/...]   Envoy http_service door (path_prefix + original path)
 *   GET  /metrics /healthz /readyz
 */
import http from 'node:http';
import type { Authorizer, Decision } from '../authz/decision.js';
import type { AuthzLimits } from '../authz/limits.js';
import { decisionHeaderList, httpStatus } from './answer.js';
import { envoyHttpInput, jsonInput, nginxInput, type AuthzInput } from './doors.js';
import { escapedPemMemo, rememberingDecoded, RequestError, type RequestErrorHook } from './requestError.js';
import type { TextMemo } from '../fastpath/index.js';
import { PerDecision } from '../fastpath/index.js';
import { negotiate, type MetricsFormat } from '../metrics/exposition.js';
import { requestStartMs } from '../authz/shedding.js';
import { admissionServerOptions, capConnections, type AdmissionLimits } from '../server/admission.js';

/** The door paths, also used by the examples and the README. */
export const PATHS = {
  json: '/v1/authorize',
  nginx: '/v1/nginx/auth',
  envoyHttp: '/v1/envoy/http',
} as const;

export interface AuthzHttpOptions {
  authorizer: Authorizer;
  limits: AuthzLimits;
  /** Header carrying the SNI for the Envoy HTTP door, or `:authority` for the Host (no fallback: doors.ts). */
  envoySniHeader: string;
  /** `/metrics` in the negotiated format; undefined when it is served on its own port (`--metrics-port`). */
  metrics: ((format: MetricsFormat) => Promise<{ contentType: string; body: string }>) | undefined;
  /** Connection cap and header/request timeouts (ts/server/admission.ts). */
  admission: AdmissionLimits;
  /** Whether the process can serve decisions (registry readable, engine loaded). */
  ready: () => Promise<boolean>;
  /**
   * More of the `/readyz` body, without changing its status (branch crlrefresh: CAs whose
   * CRL refresh is failing; their last good CRL stays in force, docs/authorizer.md).
   */
  readyDetail?: () => Record<string, unknown>;
  /** Told when a door refuses a request before deciding (bad syntax, limits). */
  onRequestError?: RequestErrorHook;
  /** The warm-path machinery (ts/fastpath/): answers encoded once per shared decision. Default true. */
  fastPath?: boolean;
  /** Lower-cased name of the header with the proxy's request-start stamp (`--request-start-header`), or undefined. */
  requestStartHeader?: string | undefined;
}

/** The options with the server's answer encoder. */
interface Door extends AuthzHttpOptions {
  encode: (decision: Decision, quiet: boolean) => EncodedAnswer;
  /** Escaped certificates decoded by their text (the fast path), or undefined. */
  decodedPems: TextMemo<string> | undefined;
}

const JSON_TYPE = 'application/json';

/** Create (not start) the HTTP server. */
export function createAuthzHttpServer(options: AuthzHttpOptions): http.Server {
  // node:http rejects a request whose headers together exceed maxHeaderSize with its own
  // 431; leave room above maxHeaderBytes so our limit (with its reason) trips first.
  const serverOptions = { ...admissionServerOptions(options.admission), maxHeaderSize: options.limits.maxHeaderBytes + 16 * 1024 };
  const fastPath = options.fastPath ?? true;
  const o: Door = { ...options, encode: answerEncoder(fastPath), decodedPems: fastPath ? escapedPemMemo() : undefined };
  const server = http.createServer(serverOptions, (req, res) => {
    // Only a bug lands in onBug; still answer, and never with an allow.
    const onBug = (err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    };
    try {
      handle(o, req, res, onBug)?.catch(onBug);
    } catch (err) {
      onBug(err);
    }
  });
  // Proxies keep connections open for a long time; outlive their idle timeouts. (An idle
  // keep-alive connection is not subject to headersTimeout: its clock starts with the
  // next request's first byte; test/ingress/admission.test.ts.)
  server.keepAliveTimeout = 75_000;
  return capConnections(server, options.admission);
}

/**
 * Route one request. Returns a promise only when something is awaited (a decision that is
 * not at hand, readiness, metrics): a cached allow from the NGINX or Envoy door is
 * answered synchronously, and the JSON door answers from the callback that completes its
 * body (no promise per request; a failure after that goes to `onBug`).
 */
function handle(o: Door, req: http.IncomingMessage, res: http.ServerResponse, onBug: (err: unknown) => void): Promise<void> | undefined {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path === PATHS.json) {
    if (req.method !== 'POST') {
      // Refused like any unreadable request (same answer shape, counted in metrics).
      req.resume();
      refuse(o, 'json', req, res, new RequestError('BAD_REQUEST', 405, 'use POST'), ['allow', 'POST']);
      return undefined;
    }
    if (shed(o, 'json', req, res, false)) return undefined;
    readBody(req, o.limits.maxBodyBytes, (err, body) => {
      try {
        if (err !== undefined) refuse(o, 'json', req, res, err);
        else door(o, 'json', req, res, () => jsonInput(body as Buffer))?.catch(onBug);
      } catch (bug) {
        onBug(bug);
      }
    });
    return undefined;
  }
  if (path === PATHS.nginx) {
    if (shed(o, 'nginx', req, res, false)) return undefined;
    return door(o, 'nginx', req, res, () => nginxInput(req.headers, o.limits, o.decodedPems));
  }
  if (path === PATHS.envoyHttp || path.startsWith(`${PATHS.envoyHttp}/`)) {
    if (shed(o, 'envoy_http', req, res, true)) return undefined;
    return door(o, 'envoy_http', req, res, () => envoyHttpInput(req.headers, o.limits, o.envoySniHeader));
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 404, { error: 'not found' });
    return undefined;
  }
  switch (path) {
    case '/healthz':
      send(res, 200, { status: 'ok' });
      return undefined;
    case '/readyz':
      return o.ready().then(
        (ready) => send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...o.readyDetail?.() }),
        () => send(res, 503, { status: 'not ready' }),
      );
    case '/metrics':
      if (o.metrics === undefined) {
        send(res, 404, { error: 'metrics are served on the --metrics-port listener' });
        return undefined;
      }
      return o.metrics(negotiate(req.headers.accept)).then(
        (m) => {
          res.writeHead(200, { 'content-type': m.contentType });
          res.end(m.body);
        },
        (err: unknown) => send(res, 503, { error: err instanceof Error ? err.message : String(err) }),
      );
    default:
      send(res, 404, { error: 'not found' });
      return undefined;
  }
}

/** Read a door's input and answer its decision (the request was admitted: shed()); a promise only when the decision is awaited. */
function door(
  o: Door,
  name: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  read: () => AuthzInput,
): Promise<void> | undefined {
  const quiet = name === 'envoy_http';
  let input: AuthzInput;
  try {
    input = read();
  } catch (err) {
    refuse(o, name, req, res, err);
    return undefined;
  }
  const decided = o.authorizer.decide(input.sni, input.chain, name, input.clientId, requestIdOf(req.headers), true);
  const decision = rememberingDecoded(o.decodedPems, input, decided);
  if (decision instanceof Promise) return decision.then((d) => answer(o, res, d, quiet));
  answer(o, res, decision, quiet);
  return undefined;
}

/**
 * Shed the request before reading anything of it when the process is past capacity
 * (ts/authz/shedding.ts): answered `OVERLOADED` with the one pre-encoded refusal, its
 * body left unread (node:http discards it once the answer is sent, keeping the
 * connection usable). True when it was shed. A request admitted here is not judged again
 * when it is decided.
 */
function shed(o: Door, name: string, req: http.IncomingMessage, res: http.ServerResponse, quiet: boolean): boolean {
  const stamp = o.requestStartHeader === undefined ? undefined : requestStartMs(req.headers[o.requestStartHeader]);
  const refusal = o.authorizer.admit(name, requestIdOf(req.headers), stamp);
  if (refusal === undefined) return false;
  answer(o, res, refusal, quiet);
  return true;
}

/**
 * Answer an unreadable request (a RequestError) like a deny, with `headers` added;
 * anything else is a bug.
 */
function refuse(
  o: AuthzHttpOptions,
  name: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  err: unknown,
  headers: string[] = [],
): void {
  if (!(err instanceof RequestError)) throw err;
  o.onRequestError?.(name, err, requestIdOf(req.headers));
  send(res, err.status, { allow: false, reason: err.reason, message: err.message }, [...headers, 'x-certgate-reason', err.reason]);
}

/** The caller's `x-request-id` (Envoy sets one per request; NGINX forwards `$request_id` in the shipped example). */
function requestIdOf(headers: http.IncomingHttpHeaders): string | undefined {
  const id = headers['x-request-id'];
  return typeof id === 'string' ? id : undefined;
}

/**
 * `quiet`: the Envoy HTTP door, whose deny body Envoy hands to the device. The body then
 * says only `{"allow":false}`; the reason stays in the x-certgate-* headers, which the
 * proxy logs (dynamic_metadata_from_headers) and does not pass to the client
 * (allowed_client_headers, examples/envoy/http-service.json).
 */
function answer(o: Door, res: http.ServerResponse, decision: Decision, quiet: boolean): void {
  const { status, headers, body } = o.encode(decision, quiet);
  // Frozen: node:http only reads the list (a write would throw, not corrupt a shared answer).
  res.writeHead(status, headers as string[]);
  res.end(body);
}

export interface EncodedAnswer {
  status: number;
  /** Complete flat header list; never mutated (several responses may share it). */
  headers: readonly string[];
  body: string;
}

const QUIET_DENY_BODY = JSON.stringify({ allow: false });

/** A decision as an HTTP answer; `quiet` keeps a deny's body to `{"allow":false}`. */
function encode(decision: Decision, quiet: boolean): EncodedAnswer {
  const body = quiet ? QUIET_DENY_BODY : JSON.stringify(decision);
  const headers = decisionHeaderList(decision);
  headers.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(body)));
  return { status: httpStatus(decision.reason), headers: Object.freeze(headers), body };
}

/**
 * The answer encoder of one server. With the fast path on, each shared decision object
 * is encoded once (a device's allow is shared from its second decision on, while its
 * registration is unchanged: ts/fastpath/sharedAnswers.ts), so a warm request reuses the
 * body and header list; any other decision is encoded for its one answer.
 */
export function answerEncoder(fastPath: boolean): (decision: Decision, quiet: boolean) => EncodedAnswer {
  const loud = new PerDecision(fastPath, (d) => encode(d, false));
  const quiet = new PerDecision(fastPath, (d) => encode(d, true));
  return (decision, hush) => (hush && !decision.allow ? quiet : loud).get(decision);
}

/**
 * Read the body (at most `max` bytes), then call `done` once: with the body, or with a
 * RequestError (too large) or the stream's error. Callbacks rather than a promise: this
 * runs on every JSON request, and the promise, its microtask and closures were measurable
 * there (bench/README.md "A fleet's traffic"). Exported for the bench's json-floor
 * (bench/authzBaselines.ts), which reads bodies exactly this way.
 */
export function readBody(req: http.IncomingMessage, max: number, done: (err: unknown, body?: Buffer) => void): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    done(new RequestError('BODY_TOO_LARGE', 413, `body of ${declared} bytes exceeds maxBodyBytes=${max}`));
    return;
  }
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let size = 0;
  let settled = false;
  const settle = (err: unknown, body?: Buffer) => {
    if (settled) return;
    settled = true;
    done(err, body);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) {
      settle(new RequestError('BODY_TOO_LARGE', 413, `body exceeds maxBodyBytes=${max}`));
      req.removeAllListeners('data');
      req.resume();
      return;
    }
    if (first === undefined) first = chunk;
    else (more ??= [first]).push(chunk);
  });
  req.on('end', () => settle(undefined, more !== undefined ? Buffer.concat(more) : (first ?? Buffer.alloc(0))));
  req.on('error', (err) => settle(err));
}

/** Answer with JSON; `headers` is a flat `[name, value, ...]` list (taken over, appended to). */
function send(res: http.ServerResponse, status: number, payload: unknown, headers: string[] = []): void {
  const text = JSON.stringify(payload);
  headers.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(text)));
  res.writeHead(status, headers);
  res.end(text);
}
