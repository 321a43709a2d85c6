/**
 * The decision: `authorize(sni, certChain)` → {@link Decision}, AWS IoT's connect-time
 * rules. It is protocol-free; the front doors in `ts/ingress/` turn requests into calls
 * and decisions into answers.
 *
 * One path: the rules of rules.ts, in their one order, over the registry's reads
 * (reads.ts), each answering now or later ({@link Step}). A decision whose every read
 * answers synchronously (SQLite) and whose verification is cached or inline completes
 * without a promise and needs no deadline; one that waits (PostgreSQL, the pool, JITR)
 * races the per-request deadline. Either way the same rules decide; a refusal is data
 * (rules.ts `Refusal`) and nothing throws out of here. The registration is read fresh on
 * every decision, so revocation is immediate.
 */
import type { CertificateMode, CertificateStanding } from '../registry/types.js';
import { canonicalHost } from '../registry/endpoints.js';
import { ChainMemo } from './chain.js';
import type { AuthzLimits } from './limits.js';
import type { Reason } from './reasons.js';
import type { VerifyCache } from './verifyCache.js';
import type { Verifier } from './verifier.js';
import type { Jitr } from './jitr.js';
import { StageClock, type Stage } from './stages.js';
import { ConfigCache } from './configCache.js';
import { Anchors } from './anchors.js';
import { Deadlines } from './deadline.js';
import type { Shedder } from './shedding.js';
import { CaCrls } from './crls.js';
import { configChanges, decisionReads, type DecisionReads } from './reads.js';
import { Attempt, Refusal, runRules, type RuleSetting } from './rules.js';
import type { Step } from './step.js';
import { SharedAllows } from '../fastpath/index.js';
import type { Engine } from '../engine/types.js';
import type { RegistryReader } from '../registry/types.js';

/**
 * The answer. Plain data: it crosses process and protocol boundaries unchanged. A
 * frozen answer is shared between requests (ts/fastpath/sharedAnswers.ts `isShared`):
 * the allow of a certificate met before, and the shed answers.
 */
export interface Decision {
  allow: boolean;
  reason: Reason;
  certificateId: string | null;
  accountId: string | null;
  certificateMode: CertificateMode | null;
  /** Things attached to the certificate in the account (AWS principal → thing). */
  things: string[];
  /** A detail for logs (engine code, limit hit); never certificate contents. */
  message?: string;
}

/** What the registry must offer the authorizer. */
export type AuthzRegistry = RegistryReader;

/** One finished decision, as metrics and the decision log see it. */
export interface DecisionEvent {
  door: string;
  sni: string | null;
  decision: Decision;
  /** Whole decision, seconds. */
  seconds: number;
  stages: ReadonlyMap<Stage, number>;
  cacheHit: boolean;
  /** The caller's `x-request-id`, for the decision log; undefined when none was sent. */
  requestId?: string | undefined;
}

/** Told about every decision (metrics, decision log). */
export interface DecisionObserver {
  decided(event: DecisionEvent): void;
}

export interface AuthorizerOptions {
  registry: AuthzRegistry;
  /**
   * What the decision reads routing, standings, CAs and CRL metadata through. Default:
   * straight from `registry` (reads.ts `decisionReads`); a fleet sidecar on PostgreSQL
   * passes its local view (ts/view/fleetView.ts).
   */
  reads?: DecisionReads;
  engine: Engine;
  verifier: Verifier;
  cache: VerifyCache;
  limits: AuthzLimits;
  /** Verifications estimated above this many µs go to the pool (placement.ts). */
  inlineBudgetUs: number;
  /** Epoch milliseconds; tests pass a fixed clock. */
  clock?: () => number;
  jitr?: Jitr;
  observer?: DecisionObserver;
  /**
   * How long SNI routing and registered CA certificates may be reused (ms; 0 = read
   * every time). Status and thing names are never cached. Default 1000.
   */
  configCacheMs?: number;
  /**
   * The warm-path machinery (ts/fastpath/): decoded chains remembered by their text, one
   * shared allow per unchanged registration. Default true; `--no-fast-path` turns it off.
   */
  fastPath?: boolean;
  /**
   * Decoded presented chains remembered by their exact text (0 = off). Default: the
   * verification cache's capacity (`--verify-cache-size`), so a device whose
   * verification is remembered is not decoded and hashed again either.
   */
  chainMemoSize?: number;
  /** Load shedding (shedding.ts): past it every decision is `OVERLOADED`. Default: none. */
  shedder?: Shedder;
  /**
   * Keep using a CA's CRL past its nextUpdate instead of denying with CRL_EXPIRED
   * (`--danger-allow-expired-crl`). Default false: fail closed.
   */
  dangerAllowExpiredCrl?: boolean;
}

/**
 * Presented chains remembered decoded, by their exact PEM text: a device reconnecting
 * sends the same text, and base64-decoding plus hashing it cost ~2–4 µs per decision
 * (a cached decision is ~2–5 µs in all). Sized like the verification cache by default
 * (see `chainMemoSize`): a memo smaller than the set of devices a sidecar sees misses on
 * every request of a large fleet and churns the heap (100,000 devices cycling: 13 → 7 µs
 * of CPU per decision, bench/README.md "Cold path and warm 100,000"). Only
 * texts of up to {@link CHAIN_MEMO_MAX_CHARS} are kept. Memory: the text and the ids
 * (~0.9 KB per P-256 device; the DER is decoded again when needed: chain.ts TextChain).
 */
export const CHAIN_MEMO_MAX_CHARS = 4096;

export class Authorizer {
  /** What the rules decide with (rules.ts). */
  readonly #setting: RuleSetting;
  readonly #clock: () => number;
  readonly #deadlineMs: number;
  readonly #deadlines: Deadlines<Decision>;
  readonly #observer: DecisionObserver | undefined;
  readonly #shedder: Shedder | undefined;
  readonly #allows: SharedAllows;
  /** The last SNI normalised and its result (a sidecar serves one or a few names: one regular-expression replace less per decision). */
  #lastSni: string | null | undefined = null;
  #lastHost: string | null = null;
  /** The shed answers, one frozen object per cause (the shedder's refusal texts). */
  readonly #sheds = new Map<string, Decision>();

  constructor(options: AuthorizerOptions) {
    const configCacheMs = options.configCacheMs ?? 1000;
    const reads = options.reads ?? decisionReads(options.registry);
    this.#clock = options.clock ?? Date.now;
    this.#deadlineMs = options.limits.deadlineMs;
    this.#deadlines = new Deadlines(options.limits.deadlineMs);
    this.#observer = options.observer;
    this.#shedder = options.shedder;
    const fastPath = options.fastPath ?? true;
    this.#allows = new SharedAllows(fastPath, allow);
    this.#setting = {
      registry: options.registry,
      reads,
      engine: options.engine,
      verifier: options.verifier,
      cache: options.cache,
      chains: new ChainMemo(options.limits, fastPath ? (options.chainMemoSize ?? options.cache.capacity) : 0, CHAIN_MEMO_MAX_CHARS),
      routes: new ConfigCache(configCacheMs, undefined, configChanges(reads)),
      anchors: new Anchors(reads, options.engine, configCacheMs),
      crls: new CaCrls(options.registry, reads, options.engine, configCacheMs),
      jitr: options.jitr,
      inlineBudgetUs: options.inlineBudgetUs,
      dangerAllowExpiredCrl: options.dangerAllowExpiredCrl ?? false,
    };
  }

  /**
   * Decide for a presented chain (PEM strings or DER, leaf first) and an SNI (null or ''
   * when none was sent). `door` labels metrics and logs. Never rejects.
   */
  authorize(
    sni: string | null | undefined,
    certChain: readonly (string | Uint8Array)[],
    door = 'api',
    clientId: string | null = null,
    requestId?: string,
  ): Promise<Decision> {
    const decided = this.decide(sni, certChain, door, clientId, requestId);
    return decided instanceof Promise ? decided : Promise.resolve(decided);
  }

  /**
   * {@link authorize} without wrapping a synchronous answer in a promise: the decision
   * itself when no rule had to wait, else a promise of it. For the front doors.
   * `admitted`: the door already called {@link admit} for this request.
   */
  decide(
    sni: string | null | undefined,
    certChain: readonly (string | Uint8Array)[],
    door = 'api',
    clientId: string | null = null,
    requestId?: string,
    admitted = false,
  ): Step<Decision> {
    if (sni !== this.#lastSni) {
      this.#lastHost = normaliseSni(sni);
      this.#lastSni = sni;
    }
    const host = this.#lastHost;
    const shedder = this.#shedder;
    // `admitted`: the door already asked (admit()) when the request began, so one request
    // is judged once (its body may complete later in a busy turn).
    const shed = admitted ? undefined : this.#shed(host, door, requestId);
    if (shed !== undefined) return shed;
    const started = performance.now();
    const attempt = new Attempt(certChain, host, clientId, this.#clock(), new StageClock(), started, started + this.#deadlineMs);
    const verdict = runRules(this.#setting, attempt);
    if (!(verdict instanceof Promise)) return this.#decided(attempt, verdict, door, started, requestId);
    const work = verdict.then((v) => decisionOf(this.#allows, attempt, v));
    const answered = this.#deadlines
      .race(work, started, () =>
        deny(new Refusal('DEADLINE_EXCEEDED', `decision exceeded deadlineMs=${this.#deadlineMs}`), attempt.certificateId),
      )
      .then((decision) => this.#observed(attempt, decision, door, started, requestId));
    return shedder === undefined ? answered : shedder.track(answered);
  }

  /**
   * The `OVERLOADED` answer when the load shedder refuses a request now (shedding.ts),
   * else undefined. The front doors ask before reading a request's input, so a shed
   * costs neither parsing nor encoding: the answer is one shared object per cause, which
   * the doors encode once.
   */
  admit(door: string, requestId?: string, startedAtMs?: number): Decision | undefined {
    return this.#shed(null, door, requestId, startedAtMs);
  }

  #shed(sni: string | null, door: string, requestId: string | undefined, startedAtMs?: number): Decision | undefined {
    const refusal = this.#shedder?.refusal(startedAtMs);
    if (refusal === undefined) return undefined;
    // Shed: decided without reading anything.
    let decision = this.#sheds.get(refusal);
    if (decision === undefined) {
      decision = Object.freeze({ ...deny(new Refusal('OVERLOADED', refusal), null), things: Object.freeze<string[]>([]) as string[] });
      this.#sheds.set(refusal, decision);
    }
    this.#observer?.decided({ door, sni, decision, seconds: 0, stages: NO_STAGES, cacheHit: false, requestId });
    return decision;
  }

  #decided(attempt: Attempt, verdict: Refusal | undefined, door: string, started: number, requestId: string | undefined): Decision {
    return this.#observed(attempt, decisionOf(this.#allows, attempt, verdict), door, started, requestId);
  }

  #observed(attempt: Attempt, decision: Decision, door: string, started: number, requestId: string | undefined): Decision {
    this.#observer?.decided({
      door,
      sni: attempt.sni,
      decision,
      seconds: (performance.now() - started) / 1000,
      stages: attempt.stages.totals(),
      cacheHit: attempt.cacheHit,
      requestId,
    });
    return decision;
  }
}

const NO_STAGES: ReadonlyMap<Stage, number> = new Map();

/** The answer for a finished attempt: the allow when every rule passed, else the refusal. */
function decisionOf(allows: SharedAllows, attempt: Attempt, verdict: Refusal | undefined): Decision {
  if (verdict !== undefined) return deny(verdict, attempt.certificateId);
  return allows.get(attempt.standing as CertificateStanding, attempt.seenBefore);
}

/** The allow answer for an ACTIVE registration, with the certificate's things (SharedAllows freezes what it shares). */
function allow(record: CertificateStanding): Decision {
  return {
    allow: true,
    reason: 'CERTIFICATE_ACTIVE',
    certificateId: record.certificateId,
    accountId: record.accountId,
    certificateMode: record.certificateMode,
    things: [...record.things],
  };
}

/** Fold ASCII case, drop one trailing dot; empty means no SNI. */
export function normaliseSni(sni: string | null | undefined): string | null {
  // Only an absent or empty SNI is "no SNI". Anything else is a name to route, compared
  // case-insensitively without one trailing dot; a value that is not a host name (".",
  // blanks, surrounding spaces) routes nowhere (UNKNOWN_SNI) rather than to "no SNI".
  // Only ASCII letters are folded (RFC 6066 section 3: the HostName is ASCII, IDNs are
  // sent as A-labels, https://www.rfc-editor.org/rfc/rfc6066#section-3): Unicode case
  // folding would turn the Kelvin sign U+212A into "k" and route "\u212Aiosk.example.com"
  // as "kiosk.example.com". The front doors refuse non-ASCII SNI (ingress/sni.ts);
  // a caller of authorize() that sends one gets a name no account can hold.
  if (sni === null || sni === undefined || sni === '') return null;
  return canonicalHost(sni);
}

function deny(refusal: Refusal, certificateId: string | null): Decision {
  const standing = refusal.standing;
  const d: Decision = {
    allow: false,
    reason: refusal.reason,
    certificateId,
    accountId: standing?.accountId ?? null,
    certificateMode: standing?.certificateMode ?? null,
    things: [],
  };
  if (refusal.message !== undefined) d.message = refusal.message;
  return d;
}
