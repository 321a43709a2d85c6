/**
 * The admin API's HTTP edge: request ids, body limits, SigV4, routing, JSON in and out,
 * and AWS error responses (spec 1). Handlers never see HTTP details.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
// branch keys: key scope, rate limit, audit log.
import { isReadOperation, readOnlyRefusal } from './access.js';
import { runAudited } from './audit.js';
import { throttled, type KeyRateLimiter } from './throttle.js';
import { RegistryError, type Credential, type Registry } from '../registry/types.js';
import { AwsError, fromRegistryError, invalid } from './errors.js';
import { matchRoute, type Route } from './router.js';
import { verifySigV4Body, verifySigV4Headers } from './sigv4.js';
import type { ApiRequest } from './validate.js';
import { CHANGES_PATH, changeCursor, streamChanges } from './changeFeed.js';

/**
 * Largest request body accepted. RegisterCACertificate is the largest input: two PEMs
 * of up to 65536 chars each plus a 10240-char template (spec 4.3, 8), about 141 KiB
 * before JSON escaping; 256 KiB leaves room for escaping and tags.
 */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;

/** A log sink (pino-compatible subset). */
export interface AdminLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface HttpEdgeOptions {
  registry: Registry;
  routes: readonly Route[];
  region: string;
  logger?: AdminLogger;
  maxBodyBytes?: number;
  /** Clock for SigV4 skew checks (tests). */
  now?: () => number;
  /** Per-access-key rate limit (branch keys); absent = none. */
  rateLimiter?: KeyRateLimiter;
  /** Told of every answered request: operation (`unknown` before routing), result (`ok` or the AWS error type), seconds (branch observe). */
  onRequest?: (operation: string, result: string, seconds: number) => void;
}

function send(res: http.ServerResponse, status: number, body: Record<string, unknown> | undefined, errorType?: string): void {
  if (errorType !== undefined) res.setHeader('x-amzn-ErrorType', errorType);
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0' });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, error: AwsError): void {
  send(res, error.status, { message: error.message, __type: error.errorType, ...error.extra }, error.errorType);
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerMap(req: http.IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

function parseJsonBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** An INACTIVE key is refused as AWS refuses one, saying why (its holder proved the secret). */
function checkKeyActive(caller: Credential): void {
  if (caller.status !== 'ACTIVE') {
    throw new AwsError('UnrecognizedClientException', `The security token included in the request is invalid: access key ${caller.accessKeyId} is inactive.`);
  }
}

/** Build the request listener of the admin server. */
export function createRequestListener(options: HttpEdgeOptions): http.RequestListener {
  const limit = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const now = options.now ?? Date.now;
  return (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const started = Date.now();
    const startedPrecise = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    let operation = 'unknown';

    const handle = async (): Promise<void> => {
      const headers = headerMap(req);
      let credential: Credential | null = null;
      // Everything the headers alone can refuse (unsigned, unknown key, expired, wrong
      // region) is refused before a byte of the body is read: an unauthenticated client
      // must not make the server hold its body. The unread body is discarded as it
      // arrives (never buffered) and the connection closed after the answer.
      const claim = await verifySigV4Headers(
        { method, rawPath, rawQuery, headers },
        async (accessKeyId) => {
          credential = await options.registry.getCredential(accessKeyId);
          return credential?.secretAccessKey ?? null;
        },
        now(),
      );
      const refused = !claim.ok
        ? new AwsError(claim.errorType, claim.message)
        : claim.claim.region !== options.region
          ? new AwsError(
              'InvalidSignatureException',
              `Credential should be scoped to a valid region, not '${claim.claim.region}'. This server serves '${options.region}'.`,
            )
          : undefined;
      if (refused !== undefined || !claim.ok) {
        res.setHeader('connection', 'close');
        req.resume();
        throw refused;
      }
      let raw: Buffer;
      // A route may take a larger body (CRL uploads); the limit is known from the path alone.
      const routeLimit = matchRoute(options.routes, method, rawPath)?.route.maxBodyBytes ?? limit;
      try {
        raw = await readBody(req, routeLimit);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          throw invalid(`The request body exceeds the limit of ${routeLimit} bytes.`);
        }
        throw err;
      }
      const auth = verifySigV4Body({ method, rawPath, rawQuery, headers, body: raw }, claim.claim);
      if (!auth.ok) throw new AwsError(auth.errorType, auth.message);
      // The region was checked with the headers, before the body was read.
      const caller = credential as Credential | null;
      const accountId = caller?.accountId;
      if (caller === null || accountId === undefined) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      checkKeyActive(caller);
      const turn = options.rateLimiter?.take(caller.accessKeyId);
      if (turn !== undefined && !turn.ok) {
        res.setHeader('retry-after', String(Math.ceil(turn.retryAfterMs / 1000)));
        throw throttled(caller.accessKeyId, turn.retryAfterMs);
      }
      if (method === 'GET' && rawPath === CHANGES_PATH) {
        operation = 'StreamChanges';
        const cursor = changeCursor(new URLSearchParams(rawQuery), req.headers);
        await streamChanges(options.registry, accountId, cursor, req, res);
        return;
      }
      const match = matchRoute(options.routes, method, rawPath);
      if (!match) throw new AwsError('UnknownOperationException', `No operation matches ${method} ${rawPath}.`);
      const { route, params } = match;
      operation = route.operation;
      // A write, refused or not, is in the audit log before the answer leaves (audit.ts).
      const output = await runAudited(options.registry, { accountId, accessKeyId: caller.accessKeyId, operation, params, requestId }, async (audit) => {
        if (caller.scope === 'READ_ONLY' && !isReadOperation(route.operation)) throw readOnlyRefusal(caller.accessKeyId, route.operation);
        const request: ApiRequest = {
          accountId,
          params,
          query: new URLSearchParams(rawQuery),
          body: route.rawBody === true ? {} : parseJsonBody(raw),
          headers,
          ...(audit ? { audit } : {}),
          ...(route.rawBody === true ? { raw } : {}),
        };
        return route.handler(request);
      });
      send(res, 200, output);
    };

    handle()
      .catch((err: unknown) => {
        if (err instanceof AwsError) return sendError(res, err);
        if (err instanceof RegistryError) return sendError(res, fromRegistryError(err));
        options.logger?.error({ err, requestId, operation }, 'admin API operation failed');
        return sendError(res, new AwsError('InternalFailureException', `Internal failure (request ${requestId}).`));
      })
      .finally(() => {
        const errorType = res.getHeader('x-amzn-ErrorType');
        options.onRequest?.(operation, typeof errorType === 'string' ? errorType : 'ok', (performance.now() - startedPrecise) / 1000);
        options.logger?.info(
          { requestId, method, path: rawPath, operation, status: res.statusCode, durationMs: Date.now() - started },
          'admin request',
        );
      });
  };
}
