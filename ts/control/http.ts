/**
 * The admin API's HTTP edge: request ids, body limits, SigV4, routing, JSON in and out,
 * and AWS error responses (spec 1). Handlers never see HTTP details.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { RegistryError, type Credential, type Registry } from '../registry/types.js';
import { AwsError, fromRegistryError, invalid } from './errors.js';
import { matchRoute, type Route } from './router.js';
import { verifySigV4 } from './sigv4.js';
import type { ApiRequest } from './validate.js';

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

/** Build the request listener of the admin server. */
export function createRequestListener(options: HttpEdgeOptions): http.RequestListener {
  const limit = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const now = options.now ?? Date.now;
  return (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const started = Date.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    let operation = 'unknown';

    const handle = async (): Promise<void> => {
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
      const headers = headerMap(req);
      let credential: Credential | null = null;
      const auth = await verifySigV4(
        { method, rawPath, rawQuery, headers, body: raw },
        async (accessKeyId) => {
          credential = await options.registry.getCredential(accessKeyId);
          return credential?.secretAccessKey ?? null;
        },
        now(),
      );
      if (!auth.ok) throw new AwsError(auth.errorType, auth.message);
      if (auth.region !== options.region) {
        throw new AwsError(
          'InvalidSignatureException',
          `Credential should be scoped to a valid region, not '${auth.region}'. This server serves '${options.region}'.`,
        );
      }
      const accountId = (credential as Credential | null)?.accountId;
      if (accountId === undefined) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      const match = matchRoute(options.routes, method, rawPath);
      if (!match) throw new AwsError('UnknownOperationException', `No operation matches ${method} ${rawPath}.`);
      operation = match.route.operation;
      const request: ApiRequest = {
        accountId,
        params: match.params,
        query: new URLSearchParams(rawQuery),
        body: match.route.rawBody === true ? {} : parseJsonBody(raw),
        headers,
      };
      if (match.route.rawBody === true) request.raw = raw;
      const output = await match.route.handler(request);
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
        options.logger?.info(
          { requestId, method, path: rawPath, operation, status: res.statusCode, ms: Date.now() - started },
          'admin request',
        );
      });
  };
}
