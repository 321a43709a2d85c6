/**
 * The presented chain: what a client sent, decoded to DER, bounded by the limits and
 * keyed by a hash. Only {@link readChain} builds a {@link PresentedChain}, so every chain
 * reaching the decision has passed the length and size limits.
 */
import crypto from 'node:crypto';
import type { AuthzLimits } from './limits.js';
import type { Reason } from './reasons.js';
import { TextMemo } from '../fastpath/index.js';

/** A decoded chain, leaf first. */
export interface PresentedChain {
  readonly leaf: Buffer;
  readonly intermediates: readonly Buffer[];
  /** The leaf's certificateId: lowercase hex SHA-256 of its DER (AWS IoT's id). */
  readonly leafId: string;
  /**
   * The verification cache key: the leafId for a lone leaf, else hex SHA-256 over every
   * certificate, length-prefixed.
   */
  readonly key: string;
}

export type ChainResult = { ok: true; chain: PresentedChain } | { ok: false; reason: Reason; message: string };

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/**
 * Split PEM text (one or several `CERTIFICATE` blocks) into DER buffers. Text with no
 * block at all is an error; so is a block whose body is not base64.
 *
 * A block is BEGIN, a body without '-', END (what the regular expression
 * `BEGIN([^-]*)END` matches, scanning on after a BEGIN that does not start a block);
 * written with indexOf because the matchAll iterator and its match arrays cost more
 * than the search on this per-request path.
 */
export function pemToDers(text: string): Buffer[] | string {
  const ders: Buffer[] = [];
  let from = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, from);
    if (begin === -1) break;
    const bodyStart = begin + BEGIN.length;
    const dash = text.indexOf('-', bodyStart);
    if (dash === -1 || !text.startsWith(END, dash)) {
      from = begin + 1;
      continue;
    }
    const body = text.slice(bodyStart, dash);
    if (!BASE64_BODY.test(body)) return 'a PEM block contains characters outside base64';
    ders.push(Buffer.from(body, 'base64'));
    from = dash + END.length;
  }
  if (ders.length === 0) return 'no "-----BEGIN CERTIFICATE-----" block found';
  return ders;
}

/**
 * Build a chain from what a front door extracted: PEM strings (each may hold several
 * blocks) or DER bytes, leaf first. An empty list is `NO_CERTIFICATE`.
 */
export function readChain(parts: readonly (string | Uint8Array)[], limits: AuthzLimits): ChainResult {
  const ders: Buffer[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      const decoded = pemToDers(part);
      if (typeof decoded === 'string') return { ok: false, reason: 'MALFORMED_CERTIFICATE', message: decoded };
      ders.push(...decoded);
    } else {
      ders.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    }
    // Checked inside the loop so a hostile bundle stops being decoded early.
    if (ders.length > limits.maxChainLength) {
      return {
        ok: false,
        reason: 'CHAIN_TOO_LONG',
        message: `more than maxChainLength=${limits.maxChainLength} certificates presented`,
      };
    }
  }
  const [leaf, ...intermediates] = ders;
  if (leaf === undefined) return { ok: false, reason: 'NO_CERTIFICATE', message: 'no client certificate presented' };
  for (const der of ders) {
    if (der.length === 0) return { ok: false, reason: 'MALFORMED_CERTIFICATE', message: 'an empty certificate was presented' };
    if (der.length > limits.maxCertificateBytes) {
      return {
        ok: false,
        reason: 'CERTIFICATE_TOO_LARGE',
        message: `a certificate of ${der.length} bytes exceeds maxCertificateBytes=${limits.maxCertificateBytes}`,
      };
    }
  }
  const leafId = sha256Hex(leaf);
  return { ok: true, chain: { leaf, intermediates, leafId, key: intermediates.length === 0 ? leafId : chainKey(ders) } };
}

/**
 * Lowercase hex SHA-256. `crypto.hash` (Node ≥ 20.12) is one-shot, without a Hash
 * object: ~0.3 µs less per call than createHash; older Node 20 lacks it.
 */
const sha256Hex: (data: Buffer) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

function chainKey(ders: readonly Buffer[]): string {
  const hash = crypto.createHash('sha256');
  // A length prefix per certificate keeps [A,B] and [AB] apart.
  const prefix = Buffer.alloc(4);
  for (const der of ders) {
    prefix.writeUInt32BE(der.length, 0);
    hash.update(prefix);
    hash.update(der);
  }
  return hash.digest('hex');
}

/**
 * A chain remembered by its text ({@link ChainMemo}): its ids, and the text it decodes
 * from. The DER is decoded again only when something needs it — a verification the cache
 * does not vouch for, a parse of the leaf — which a warm device's decision never does, so
 * a memo sized for a fleet keeps no DER (~0.5–1 KB less per device). The text passed
 * {@link readChain} (limits included) when it was first read, and decoding is a pure
 * function of it.
 */
class TextChain implements PresentedChain {
  readonly #text: string;

  constructor(
    text: string,
    readonly leafId: string,
    readonly key: string,
  ) {
    this.#text = text;
    Object.freeze(this);
  }

  get leaf(): Buffer {
    return this.#ders()[0] as Buffer;
  }

  get intermediates(): readonly Buffer[] {
    return this.#ders().slice(1);
  }

  #ders(): Buffer[] {
    const ders = pemToDers(this.#text);
    // Cannot happen: the same text decoded when it was remembered.
    if (typeof ders === 'string') throw new Error(`a remembered chain no longer decodes: ${ders}`);
    return ders;
  }
}

/**
 * {@link readChain} with a bounded memo of successful reads of single-text chains (a
 * device reconnecting presents the same PEM; NGINX and Envoy send the chain as one
 * text), found by a short probe and confirmed by the whole text ({@link TextMemo}).
 * {@link read} only looks; the decision calls {@link remember} once it knows the chain
 * is a repeat (its verification was cached: ts/fastpath/index.ts, "Remembered on second
 * sight"), so a device seen once costs the memo nothing. Refusals are never remembered.
 * A remembered text reads as one shared frozen {@link TextChain} (ids, DER decoded on
 * demand).
 */
export class ChainMemo {
  readonly #limits: AuthzLimits;
  readonly #memo: TextMemo<ChainResult>;

  constructor(limits: AuthzLimits, max: number, maxChars: number) {
    this.#limits = limits;
    this.#memo = new TextMemo(max, maxChars);
  }

  read(parts: readonly (string | Uint8Array)[]): ChainResult {
    const text = parts.length === 1 ? parts[0] : undefined;
    if (typeof text !== 'string') return readChain(parts, this.#limits);
    return this.#memo.get(text) ?? readChain(parts, this.#limits);
  }

  /** Remember `chain`, which {@link read} returned for `parts`, unless it came from the memo. */
  remember(parts: readonly (string | Uint8Array)[], chain: PresentedChain): void {
    const text = parts.length === 1 ? parts[0] : undefined;
    if (typeof text !== 'string' || chain instanceof TextChain) return;
    this.#memo.set(text, Object.freeze({ ok: true, chain: new TextChain(text, chain.leafId, chain.key) }));
  }
}
