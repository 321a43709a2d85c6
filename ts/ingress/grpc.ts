/**
 * Envoy gRPC ext_authz: `envoy.service.auth.v3.Authorization/Check`
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/external_auth.proto),
 * for the HTTP filter and the network (TCP) filter alike.
 *
 * In: `attributes.source.certificate` (URL-encoded leaf PEM, needs
 * `include_peer_certificate`), SNI from `attributes.tls_session.sni` (needs
 * `include_tls_session`) or `attributes.destination.service` (network filter), and the
 * full chain, when a filter put it there, from `metadata_context` namespace
 * {@link CHAIN_METADATA_NAMESPACE} key `chain` (URL-encoded PEM, leaf first).
 * Out: allow = status OK + upstream headers + dynamic metadata; deny = a successful RPC
 * with status PERMISSION_DENIED and a 403 `denied_response`; unavailable = the RPC
 * fails with UNAVAILABLE, which Envoy counts as an error and (with the default
 * `failure_mode_allow: false`) refuses — Envoy's way to tell outages from denials.
 */
import * as grpc from '@grpc/grpc-js';
import type { Authorizer, Decision } from '../authz/decision.js';
import type { AuthzLimits } from '../authz/limits.js';
import { reasonKind, type Reason } from '../authz/reasons.js';
import { DECISION_HEADERS, decisionHeaderList } from './answer.js';
import { escapedChain, escapedPemMemo, rememberingDecoded, RequestError, type RequestErrorHook } from './requestError.js';
import type { TextMemo } from '../fastpath/index.js';
import { ReflectionService } from '@grpc/reflection';
import * as protoLoader from '@grpc/proto-loader';
import { asciiSni } from './sni.js';
import { authorizationService, grpcPackageDefinition, HEALTH_PROTO, healthIncludeDir } from './envoyProtos.js';
import { EncodedAnswers } from '../fastpath/index.js';
import type { GrpcHealth } from './grpcHealth.js';
import { clientIdOf, type AuthzInput } from './doors.js';
import { requestStartMs } from '../authz/shedding.js';

/** Dynamic-metadata namespace from which a chain is read (e.g. set by a Lua filter). */
export const CHAIN_METADATA_NAMESPACE = 'certgate.client_certificate';

/**
 * Dynamic-metadata namespace (key `client_id`) from which the device's client id is read
 * for the client id binding, when a filter earlier in the chain put it there and the
 * ext_authz filter forwards it (`metadata_context_namespaces`).
 */
export const CLIENT_ID_METADATA_NAMESPACE = 'certgate.client';

// The subset of CheckRequest we read, as proto-loader (defaults: true) produces it:
// absent messages are null, absent strings ''.
interface StructValue {
  stringValue?: string;
}
interface Struct {
  fields?: Record<string, StructValue>;
}
interface Peer {
  certificate?: string;
  service?: string;
}
export interface CheckRequest {
  attributes?: {
    source?: Peer | null;
    destination?: Peer | null;
    tls_session?: { sni?: string } | null;
    metadata_context?: { filter_metadata?: Record<string, Struct> } | null;
    request?: {
      time?: { seconds?: string; nanos?: number } | null;
      http?: { id?: string; headers?: Record<string, string> | null } | null;
    } | null;
  } | null;
}

/** Door name for metrics: which Envoy filter shape sent the check. */
function doorOf(req: CheckRequest): string {
  return req.attributes?.request?.http ? 'envoy_grpc_http' : 'envoy_grpc_network';
}

/**
 * The request id of the HTTP request Envoy checks (HTTP filter only): its `x-request-id`
 * header, else `attributes.request.http.id` (Envoy's own stream id). Envoy lower-cases
 * header names in a CheckRequest. The network filter has no request, so no id.
 */
function requestIdOf(req: CheckRequest): string | undefined {
  const http = req.attributes?.request?.http;
  if (!http) return undefined;
  return http.headers?.['x-request-id'] || http.id || undefined;
}

/**
 * When the proxy received the checked request (epoch ms): the stamp in `header` among its
 * headers, else `attributes.request.time` ("the timestamp when the proxy receives the
 * first byte of the request",
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/attribute_context.proto);
 * undefined when neither is there (the network filter sends no request). A time in the
 * future (clock skew) counts as now.
 */
export function arrivedAtMs(req: CheckRequest, header: string, nowMs: number = Date.now()): number | undefined {
  const request = req.attributes?.request;
  const stamped = requestStartMs(request?.http?.headers?.[header], nowMs);
  if (stamped !== undefined) return stamped;
  const time = request?.time;
  if (!time) return undefined;
  const ms = Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6;
  return ms > 0 ? Math.min(ms, nowMs) : undefined;
}

/** Extract `authorize` arguments; throws RequestError for unreadable input. */
export function checkInput(req: CheckRequest, limits: AuthzLimits, decodedPems?: TextMemo<string>): AuthzInput {
  const a = req.attributes;
  const sni = asciiSni(a?.tls_session?.sni || a?.destination?.service || null);
  const chainValue = a?.metadata_context?.filter_metadata?.[CHAIN_METADATA_NAMESPACE]?.fields?.chain?.stringValue;
  const encoded = chainValue || a?.source?.certificate || '';
  if (encoded.length > limits.maxHeaderBytes) {
    throw new RequestError('HEADER_TOO_LARGE', 431, `certificate field exceeds maxHeaderBytes=${limits.maxHeaderBytes}`);
  }
  const clientId = clientIdOf(a?.metadata_context?.filter_metadata?.[CLIENT_ID_METADATA_NAMESPACE]?.fields?.client_id?.stringValue);
  const { chain, escaped } = escapedChain(encoded, decodedPems);
  return { sni, chain, clientId, escaped };
}

function struct(values: Record<string, string>): { fields: Record<string, { stringValue: string }> } {
  // Struct values must be camelCase (`stringValue`) even with keepCase (observed with
  // @grpc/proto-loader 0.8).
  const fields: Record<string, { stringValue: string }> = {};
  for (const [k, v] of Object.entries(values)) fields[k] = { stringValue: v };
  return { fields };
}

function metadata(decision: Decision): Record<string, string> {
  const m: Record<string, string> = { reason: decision.reason };
  if (decision.certificateId !== null) m.certificate_id = decision.certificateId;
  if (decision.accountId !== null) m.account_id = decision.accountId;
  if (decision.certificateMode !== null) m.certificate_mode = decision.certificateMode;
  if (decision.things.length > 0) m.thing_name = decision.things.join(',');
  return m;
}

/** The CheckResponse for a decision whose reason is an allow or a deny. */
export function checkResponse(decision: Decision): Record<string, unknown> {
  const list = decisionHeaderList(decision);
  const set = new Set<string>();
  const options: { header: { key: string; value: string }; append_action: string }[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const key = list[i] as string;
    set.add(key);
    options.push({ header: { key, value: list[i + 1] as string }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  if (decision.allow) {
    // Strip client-sent copies of any decision header we did not set, so upstream can
    // trust every x-certgate-* header it sees.
    const remove = Object.values(DECISION_HEADERS).filter((h) => !set.has(h));
    return {
      status: { code: grpc.status.OK, message: '' },
      ok_response: { headers: options, headers_to_remove: remove },
      dynamic_metadata: struct(metadata(decision)),
    };
  }
  // Envoy sends denied_response to the device: no reason, no account there. The reason
  // travels in dynamic_metadata (Envoy's access log) and the status message.
  return {
    status: { code: grpc.status.PERMISSION_DENIED, message: decision.reason },
    denied_response: {
      status: { code: 'Forbidden' },
      body: JSON.stringify({ allow: false }),
    },
    dynamic_metadata: struct(metadata(decision)),
  };
}

function denial(reason: Reason, message: string): Decision {
  return { allow: false, reason, certificateId: null, accountId: null, certificateMode: null, things: [], message };
}

export interface AuthzGrpcOptions {
  authorizer: Authorizer;
  limits: AuthzLimits;
  onRequestError?: RequestErrorHook;
  /** `grpc.health.v1.Health` for probes and Envoy health checks (grpcHealth.ts). */
  health?: GrpcHealth;
  /** The warm-path machinery (ts/fastpath/): each distinct answer encoded once. Default true. */
  fastPath?: boolean;
  /**
   * `--request-start-header` (lower case): when set, the proxy's arrival time is trusted —
   * that header among the checked request's headers, else Envoy's
   * `attributes.request.time` — and a check older than `--shed-after-ms` is shed.
   */
  requestStartHeader?: string | undefined;
}

/**
 * Create (not bind) a gRPC server with the Authorization service, gRPC health (when given)
 * and server reflection (v1 and v1alpha, for grpcurl; it describes only these public
 * protos: https://github.com/grpc/grpc/blob/master/doc/server-reflection.md).
 */
export function createAuthzGrpcServer(options: AuthzGrpcOptions): grpc.Server {
  const server = new grpc.Server({
    // A CheckRequest carries a few KB of headers and one certificate; bound it like a body.
    'grpc.max_receive_message_length': options.limits.maxBodyBytes,
  });
  const service = authorizationService().service;
  const encodeCheck = service.Check?.responseSerialize;
  if (encodeCheck === undefined) throw new Error('the Authorization service has no Check method');
  const fastPath = options.fastPath ?? true;
  const answers = new EncodedAnswers(checkResponse, (value) => encodeCheck(value), undefined, fastPath);
  const decodedPems = fastPath ? escapedPemMemo() : undefined;
  server.addService(answers.wrap(service, 'Check'), {
    Check: (call: grpc.ServerUnaryCall<CheckRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const reply = (decision: Decision) => {
        const answer = answerOf(answers, decision);
        callback(answer.error, answer.response);
      };
      // Only a bug lands here; still answer, and never with an allow.
      const internal = (err: unknown) =>
        callback({ code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) });
      let decided: Decision | Promise<Decision>;
      try {
        decided = check(options, decodedPems, call.request);
      } catch (err) {
        internal(err);
        return;
      }
      // A cached allow is decided, and answered, synchronously (Authorizer.decide).
      if (decided instanceof Promise) decided.then(reply, internal);
      else reply(decided);
    },
  });
  options.health?.addToServer(server);
  addLazyReflection(server);
  return server;
}

type ReflectionHandlers = Record<string, grpc.UntypedHandleCall>;

/** The services (v1, v1alpha) a ReflectionService over `pkg` would add, with their handlers. */
function reflectionServices(pkg: protoLoader.PackageDefinition): { definition: grpc.ServiceDefinition; handlers: ReflectionHandlers }[] {
  const services: { definition: grpc.ServiceDefinition; handlers: ReflectionHandlers }[] = [];
  new ReflectionService(pkg).addToServer({
    addService: (definition, handlers) => services.push({ definition, handlers: handlers as ReflectionHandlers }),
  });
  return services;
}

/**
 * Server reflection, built on its first use: indexing Envoy's ~400 proto files takes
 * 0.6–1.8 s of CPU here, which no process should pay at start-up or in front of a
 * decision. The service definitions (cheap) come from a ReflectionService over the small
 * health proto; their handlers delegate to the full one, made when a client first asks.
 */
function addLazyReflection(server: grpc.Server): void {
  let full: ReturnType<typeof reflectionServices> | undefined;
  reflectionServices(protoLoader.loadSync(HEALTH_PROTO, { includeDirs: [healthIncludeDir()] })).forEach(({ definition }, index) => {
    const handlers: ReflectionHandlers = {};
    for (const method of Object.keys(definition)) {
      handlers[method] = ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
        full ??= reflectionServices(grpcPackageDefinition());
        const handler = full[index]?.handlers[method] as grpc.handleBidiStreamingCall<unknown, unknown> | undefined;
        if (handler === undefined) call.destroy(new Error(`reflection method ${method} is missing`));
        else handler(call);
      }) as grpc.UntypedHandleCall;
    }
    server.addService(definition, handlers);
  });
}

/** The decision for one CheckRequest; unreadable input is refused like a deny. */
function check(o: AuthzGrpcOptions, decodedPems: TextMemo<string> | undefined, req: CheckRequest): Decision | Promise<Decision> {
  const door = doorOf(req);
  if (o.requestStartHeader !== undefined) {
    const shed = o.authorizer.admit(door, requestIdOf(req), arrivedAtMs(req, o.requestStartHeader));
    if (shed !== undefined) return shed;
  }
  try {
    const input = checkInput(req, o.limits, decodedPems);
    const decided = o.authorizer.decide(input.sni, input.chain, door, input.clientId, requestIdOf(req), o.requestStartHeader !== undefined);
    return rememberingDecoded(decodedPems, input, decided);
  } catch (err) {
    if (!(err instanceof RequestError)) throw err;
    o.onRequestError?.(door, err, requestIdOf(req));
    return denial(err.reason, err.message);
  }
}

/** A decision as the Check answer: UNAVAILABLE for our own failures, else the CheckResponse. */
function answerOf(answers: EncodedAnswers, decision: Decision): { error: grpc.ServiceError | null; response?: Record<string, unknown> } {
  if (reasonKind(decision.reason) === 'unavailable') {
    const md = new grpc.Metadata();
    md.set(DECISION_HEADERS.reason, decision.reason);
    const error = Object.assign(new Error(decision.reason), {
      code: grpc.status.UNAVAILABLE,
      details: `${decision.reason}: ${decision.message ?? ''}`,
      metadata: md,
    });
    return { error };
  }
  return { error: null, response: answers.response(decision) };
}
