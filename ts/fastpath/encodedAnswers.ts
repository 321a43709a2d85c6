/**
 * CheckResponses encoded once per distinct answer. protobufjs (through proto-loader)
 * takes ~6.8 µs to encode one allow CheckResponse (headers, headers_to_remove, a dynamic
 * metadata Struct) against ~0.7 µs to build it (measured in-process, Node 20): on the
 * warm gRPC path that is as much as the decision itself. The response is a pure function
 * of the answer's fields (allow, reason, certificateId, accountId, certificateMode,
 * things: `checkResponse` reads nothing else), so equal answers share one frozen response
 * object and its encoded bytes. grpc-js copies the bytes into each frame
 * (`serializeMessage`), so sharing them is safe.
 *
 * What is remembered: the response of a shared decision (sharedAnswers.ts `isShared`),
 * found by the decision's identity, and refusals by their fields (a refused device that
 * retries gets the same answer). The allow of a certificate met for the first time is
 * built and encoded once and not remembered: it is not asked for again under that object.
 */
import { isShared } from './sharedAnswers.js';
import type * as grpc from '@grpc/grpc-js';
import type { Decision } from '../authz/decision.js';
import { deepFreeze } from '../deepFreeze.js';
import { LRUCache } from 'lru-cache';

/** Distinct answers remembered (least recently used dropped first): a fleet's working set, a few MB at most. */
export const ENCODED_ANSWERS_MAX = 10_000;

export class EncodedAnswers {
  readonly #build: (decision: Decision) => Record<string, unknown>;
  readonly #encode: (value: unknown) => Buffer;
  readonly #responses: LRUCache<string, Record<string, unknown>> | undefined;
  readonly #bytes = new WeakMap<object, Buffer>();
  /** Shared decisions (sharedAnswers.ts): found without building the key. */
  readonly #byDecision = new WeakMap<Decision, Record<string, unknown>>();
  readonly #enabled: boolean;

  /**
   * `build` makes the response for a decision; `encode` is the method's own serializer.
   * `enabled` false (the fast path off) builds and encodes every answer.
   */
  constructor(
    build: (decision: Decision) => Record<string, unknown>,
    encode: (value: unknown) => Buffer,
    max = ENCODED_ANSWERS_MAX,
    enabled = true,
  ) {
    this.#build = build;
    this.#encode = encode;
    // lru-cache needs max >= 1: a size of 0 keeps nothing (every answer built anew).
    this.#responses = max > 0 ? new LRUCache({ max }) : undefined;
    this.#enabled = enabled;
  }

  /** The response for `decision`; frozen (and shared) when remembered. */
  response(decision: Decision): Record<string, unknown> {
    if (!this.#enabled) return this.#build(decision);
    const shared = isShared(decision);
    if (shared) {
      const known = this.#byDecision.get(decision);
      if (known !== undefined) return known;
    } else if (decision.allow) {
      return this.#build(decision);
    }
    // Thing names are [a-zA-Z0-9:_-]+ and ids hex/digits: NUL cannot occur inside a field.
    const key = `${decision.allow}\u0000${decision.reason}\u0000${decision.certificateId}\u0000${decision.accountId}\u0000${decision.certificateMode}\u0000${decision.things.join('\u0000')}`;
    let response = this.#responses?.get(key);
    if (response === undefined) {
      response = deepFreeze(this.#build(decision));
      this.#responses?.set(key, response);
    }
    if (shared) this.#byDecision.set(decision, response);
    return response;
  }

  /** A serializer for the method definition: encoded bytes, reused for a shared (frozen) response. */
  readonly serialize = (value: unknown): Buffer => {
    if (!this.#enabled || typeof value !== 'object' || value === null || !Object.isFrozen(value)) return this.#encode(value);
    let bytes = this.#bytes.get(value);
    if (bytes === undefined) {
      bytes = this.#encode(value);
      this.#bytes.set(value, bytes);
    }
    return bytes;
  };

  /** `service` with `method`'s response serializer replaced by {@link serialize}. */
  wrap(service: grpc.ServiceDefinition, method: string): grpc.ServiceDefinition {
    const definition = service[method];
    if (definition === undefined) throw new Error(`the service has no method ${method}`);
    return { ...service, [method]: { ...definition, responseSerialize: this.serialize } };
  }
}
