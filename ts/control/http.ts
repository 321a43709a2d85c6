/**
 * The admin API's HTTP edge, on fastify: request ids, body limits, SigV4, routing, JSON
 * in and out, and AWS error responses (one error handler). Handlers never see HTTP details.
 *
 * A request passes these steps; each may refuse with an `AwsError`, answered by
 * {@link answerError} as `x-amzn-ErrorType` + `{message, __type}`:
 * 1. `onRequest`: SigV4 as far as the headers alone can tell (unsigned, unknown key,
 *    expired, wrong region), before a byte of the body is read: an unauthenticated client
 *    must not make the server hold its body. The unread body is discarded as it arrives
 *    and the connection closed after the answer.
 * 2. fastify's body reader: the raw bytes whatever the content type (SigV4 signs the
 *    bytes, not their parse), within the route's body limit.
 * 3. `preHandler`: SigV4 over the body, the key's status, its rate limit.
 * 4. the route: JSON parsed here, the operation run inside the audit log (audit.ts).
 * fastify's router matches the still-encoded path segments and decodes the parameters,
 * so an encoded `/` inside an ARN stays inside its segment; a trailing slash is
 * significant, as it is for AWS (`/certificate-providers/`).
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
  type HTTPMethods,
} from 'fastify';
// branch keys: key scope, rate limit, audit log.
import { isReadOperation, readOnlyRefusal } from './access.js';
import { runAudited } from './audit.js';
import { throttled, type KeyRateLimiter } from './throttle.js';
import { RegistryError, type Credential, type Registry } from '../registry/types.js';
import { AwsError, fromRegistryError, invalid } from './errors.js';
import type { Route } from './router.js';
import { verifySigV4Body, verifySigV4Headers, type SigV4Claim } from './sigv4.js';
import type { ApiRequest } from './validate.js';
import { CHANGES_PATH, changeCursor, streamChanges } from './changeFeed.js';

/**
 * Largest request body accepted. RegisterCACertificate is the largest input: two PEMs
 * of up to 65536 chars each plus a 10240-char template (https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html), about 141 KiB
 * before JSON escaping; 256 KiB leaves room for escaping and tags.
 */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;

/**
 * fastify routes no path parameter longer than 100 characters by default, but a thing
 * name of 128 characters percent-encoded is 384 and an encoded ARN longer: routing puts
 * no length limit of its own (this is above anything Node's request-line limit,
 * `--max-header-size`, lets through); each operation validates its parameters.
 */
const ROUTER_MAX_PARAM_CHARS = 65_536;

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
  /** Creates the node:http or node:https server (admission limits, TLS, the dashboard in front). */
  serverFactory: FastifyServerFactory;
}

/** What a request has proven so far, carried from one step to the next. */
interface Caller {
  /** Every check before the operation passed: from then on logs and metrics name the operation. */
  admitted: boolean;
  claim: SigV4Claim | undefined;
  credential: Credential | null;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** The AWS operation name (logs, metrics). */
    operation?: string;
  }
}

function headerMap(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
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
    throw new AwsError(
      'UnrecognizedClientException',
      `The security token included in the request is invalid: access key ${caller.accessKeyId} is inactive.`,
    );
  }
}

function unknownOperation(request: FastifyRequest): AwsError {
  return new AwsError('UnknownOperationException', `No operation matches ${request.method} ${request.caller?.rawPath ?? request.url}.`);
}

/** Answer `body` as JSON (`application/json; charset=utf-8`); `undefined` is an empty 200 (operations without output). */
function sendJson(reply: FastifyReply, status: number, body: Record<string, unknown> | undefined): FastifyReply {
  return body === undefined ? reply.code(status).header('content-length', '0').send() : reply.code(status).send(body);
}

/** The AWS error a failure becomes; `undefined` for an internal failure (logged, then answered 500). */
function awsErrorOf(err: unknown, request: FastifyRequest): AwsError | undefined {
  if (err instanceof AwsError) return err;
  if (err instanceof RegistryError) return fromRegistryError(err);
  const code = (err as Partial<FastifyError>).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return invalid(`The request body exceeds the limit of ${request.routeOptions.bodyLimit} bytes.`);
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return invalid('The request body does not have the length its content-length header declares.');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return invalid('The content-type header is not a valid media type.');
  if (code === 'FST_ERR_BAD_URL') return invalid(`The path ${JSON.stringify(request.url.slice(0, 80))} is not valid percent-encoding.`);
  return undefined;
}

/** Build the admin API (ready: its `server` may listen). */
export async function createAdminApp(options: HttpEdgeOptions): Promise<FastifyInstance> {
  const limit = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const now = options.now ?? Date.now;

  /** Answer `err` as AWS does; an unexpected failure is logged and answered 500 without detail. */
  const answerError = (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    let error = awsErrorOf(err, request);
    if (error === undefined) {
      options.logger?.error(
        { err, requestId: request.id, operation: request.routeOptions.config.operation ?? 'unknown' },
        'admin API operation failed',
      );
      error = new AwsError('InternalFailureException', `Internal failure (request ${request.id}).`);
    }
    // A body left unread (refused from the headers, or over the limit) must not be parsed as the next request.
    if ((err as Partial<FastifyError>).code === 'FST_ERR_CTP_BODY_TOO_LARGE') reply.header('connection', 'close');
    reply.raw.setHeader('x-amzn-ErrorType', error.errorType);
    return sendJson(reply, error.status, { message: error.message, __type: error.errorType, ...error.extra });
  };

  /** Stamp the request id and report the request (metrics, log) once its response is done. */
  const track = (request: FastifyRequest, reply: FastifyReply): void => {
    // Set on the raw response so the name keeps AWS's spelling (fastify lower-cases its own).
    reply.raw.setHeader('x-amzn-RequestId', request.id);
    const started = Date.now();
    const startedPrecise = performance.now();
    reply.raw.once('close', () => {
      // Requests refused before their operation (SigV4, key status, rate limit, no route) count as `unknown`.
      const operation = request.caller?.admitted === true ? (request.routeOptions.config.operation ?? 'unknown') : 'unknown';
      const errorType = reply.raw.getHeader('x-amzn-ErrorType');
      options.onRequest?.(operation, typeof errorType === 'string' ? errorType : 'ok', (performance.now() - startedPrecise) / 1000);
      options.logger?.info(
        {
          requestId: request.id,
          method: request.method,
          path: request.caller?.rawPath ?? request.url,
          operation,
          status: reply.raw.statusCode,
          durationMs: Date.now() - started,
        },
        'admin request',
      );
    });
  };

  const app = Fastify({
    serverFactory: options.serverFactory,
    logger: false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: limit,
    routerOptions: { maxParamLength: ROUTER_MAX_PARAM_CHARS },
    exposeHeadRoutes: false,
    return503OnClosing: false,
    frameworkErrors: (err, request, reply) => {
      track(request, reply);
      void answerError(err, request, reply);
    },
  });
  app.decorateRequest('caller', null);
  // SigV4 signs the bytes: every body arrives as a Buffer, whatever its content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((err, request, reply) => {
    // Answers itself and returns nothing: a returned reply would be awaited as a thenable.
    answerError(err, request, reply);
  });

  app.addHook('onRequest', async (request, reply) => {
    track(request, reply);
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const caller: Caller = {
      admitted: false,
      claim: undefined,
      credential: null,
      rawPath: q === -1 ? url : url.slice(0, q),
      rawQuery: q === -1 ? '' : url.slice(q + 1),
      headers: headerMap(request),
    };
    request.caller = caller;
    const claim = await verifySigV4Headers(
      { method: request.method, rawPath: caller.rawPath, rawQuery: caller.rawQuery, headers: caller.headers },
      async (accessKeyId) => {
        caller.credential = await options.registry.getCredential(accessKeyId);
        return caller.credential?.secretAccessKey ?? null;
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
      reply.header('connection', 'close');
      request.raw.resume();
      throw refused;
    }
    caller.claim = claim.claim;
  });

  app.addHook('preHandler', async (request, reply) => {
    const caller = request.caller;
    if (caller?.claim === undefined) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const auth = verifySigV4Body(
      { method: request.method, rawPath: caller.rawPath, rawQuery: caller.rawQuery, headers: caller.headers, body },
      caller.claim,
    );
    if (!auth.ok) throw new AwsError(auth.errorType, auth.message);
    // The region was checked with the headers, before the body was read.
    const credential = caller.credential;
    if (credential === null) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    checkKeyActive(credential);
    const turn = options.rateLimiter?.take(credential.accessKeyId);
    if (turn !== undefined && !turn.ok) {
      reply.header('retry-after', String(Math.ceil(turn.retryAfterMs / 1000)));
      throw throttled(credential.accessKeyId, turn.retryAfterMs);
    }
    caller.admitted = true;
  });

  app.setNotFoundHandler(async (request) => {
    throw unknownOperation(request);
  });

  app.get(CHANGES_PATH, { config: { operation: 'StreamChanges' } }, async (request, reply) => {
    const credential = request.caller?.credential;
    if (credential == null) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    const cursor = changeCursor(new URLSearchParams(request.caller?.rawQuery), request.headers);
    reply.hijack();
    await streamChanges(options.registry, credential.accountId, cursor, request.raw, reply.raw);
  });

  for (const route of options.routes) {
    app.route({
      method: route.method as HTTPMethods,
      // `{name}` in the AWS model's templates is `:name` in fastify's.
      url: route.template.replace(/\{([^}]+)\}/g, ':$1'),
      bodyLimit: route.maxBodyBytes ?? limit,
      config: { operation: route.operation },
      handler: async (request, reply) => {
        const caller = request.caller;
        const credential = caller?.credential;
        if (caller == null || credential == null)
          throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const params = request.params as Record<string, string>;
        // fastify's router lets a parameter match an empty segment (`/certificates/`); no AWS operation has one.
        if (Object.values(params).includes('')) throw unknownOperation(request);
        // A write, refused or not, is in the audit log before the answer leaves (audit.ts).
        const output = await runAudited(
          options.registry,
          {
            accountId: credential.accountId,
            accessKeyId: credential.accessKeyId,
            operation: route.operation,
            params,
            requestId: request.id,
          },
          async (audit) => {
            if (credential.scope === 'READ_ONLY' && !isReadOperation(route.operation))
              throw readOnlyRefusal(credential.accessKeyId, route.operation);
            const apiRequest: ApiRequest = {
              accountId: credential.accountId,
              params,
              query: new URLSearchParams(caller.rawQuery),
              body: route.rawBody === true ? {} : parseJsonBody(raw),
              headers: caller.headers,
              ...(audit ? { audit } : {}),
              ...(route.rawBody === true ? { raw } : {}),
            };
            return route.handler(apiRequest);
          },
        );
        return sendJson(reply, 200, output);
      },
    });
  }
  await app.ready();
  return app;
}
