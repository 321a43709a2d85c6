/**
 * The decision: `authorize(sni, certChain)` → {@link Decision}, AWS IoT's connect-time
 * rules (spec 6.2–6.4, 7.1). It is protocol-free; the front doors in `ts/ingress/` turn
 * requests into calls and decisions into answers.
 *
 * Order of work, cheapest first, and why:
 *   1. decode and bound the chain (limits); hash the leaf (its certificateId) and the
 *      chain (the verification-cache key);
 *   2. SNI → account, then the certificate's registration **in that account** — read
 *      fresh from the registry on every call (no status cache: revocation is immediate);
 *   3. status; then for a certificate registered without a CA its validity and algorithm
 *      (parsed once per cached chain), for a CA-registered one `verifyChain` against that
 *      CA (validity, algorithm, signature), from the cache or run inline / on the pool
 *      (placement.ts); after a pool hop the status is read again so that an allow always
 *      reflects a status read after all the waiting;
 *   4. JITR for unknown certificates whose issuer is an auto-registering CA.
 * Every failure on the way is a deny with its own reason; nothing throws out of here.
 */
import { AWS_SIGNATURE_ALGORITHMS } from '../engine/algorithms.js';
import { allowsClientAuth } from '../engine/clientAuth.js';
import type { Engine, CertificateInfo } from '../engine/types.js';
import { RegistryError, type Account, type CaCertificateRecord, type CertificateMode, type CertificateStanding, type RegistryReader } from '../registry/types.js';
import { canonicalHost } from '../registry/endpoints.js';
import { ChainMemo, type ChainResult, type PresentedChain } from './chain.js';
import type { AuthzLimits } from './limits.js';
import type { Reason } from './reasons.js';
import type { CachedChain, CrlLink, VerifyCache } from './verifyCache.js';
import { placeVerification, type Placement } from './placement.js';
import { Verifier, VerifierFailure } from './verifier.js';
import { autoRegisters, type Jitr } from './jitr.js';
import { StageClock, type Stage } from './stages.js';
import { ConfigCache } from './configCache.js';
import { Anchors, type Anchor, type AnchorResult } from './anchors.js';
import { Deadlines } from './deadline.js';
import type { Shedder } from './shedding.js';
import { CaCrls, type CrlState } from './crls.js';

/**
 * The answer. Plain data: it crosses process and protocol boundaries unchanged. Allow
 * answers are frozen and may be shared between requests.
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
  /** Decoded presented chains remembered by their exact text (0 = off). Default {@link CHAIN_MEMO_SIZE}. */
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
 * sends the same text, and base64-decoding plus hashing it cost ~2 µs per decision
 * (a cached decision is now ~1.8 µs in all). Only texts of up to {@link CHAIN_MEMO_MAX_CHARS} are kept, so the memo holds
 * at most ~4 MB of text per process.
 */
export const CHAIN_MEMO_SIZE = 1024;
export const CHAIN_MEMO_MAX_CHARS = 4096;

/** The registry's synchronous reads, when it has them (see RegistryReader.accountForHostSync). */
interface SyncReads {
  host: (host: string) => Account | null;
  standing: (accountId: string, certificateId: string) => CertificateStanding | null;
  ca: (accountId: string, caCertificateId: string) => CaCertificateRecord | null;
}

/** Thrown inside a decision to stop with a reason; never escapes `authorize`. */
class Deny {
  constructor(
    readonly reason: Reason,
    readonly message?: string,
    /** The registration the deny is about, when one was found. */
    readonly record?: CertificateStanding,
  ) {}
}

/** What a decision in progress has learnt, for the metrics and a deadline answer. */
interface Probe {
  cacheHit: boolean;
  certificateId: string | null;
}

interface Context {
  readonly chain: PresentedChain;
  readonly entry: CachedChain;
  /** Epoch seconds (validity). */
  readonly now: number;
  /** Epoch milliseconds, the same instant (configuration caches). */
  readonly nowMs: number;
  readonly stages: StageClock;
  readonly deadline: number;
  /** The client id the device connected with (MQTT CONNECT), when its door passed one. */
  readonly clientId: string | null;
  /** Whether the routed account binds the client id to an attached thing (set by #route). */
  bindClientId: boolean;
}

export class Authorizer {
  readonly #o: Required<Omit<AuthorizerOptions, 'jitr' | 'observer' | 'shedder'>> & Pick<AuthorizerOptions, 'jitr' | 'observer' | 'shedder'>;
  readonly #routes: ConfigCache<Account | null>;
  readonly #anchors: Anchors;
  readonly #crls: CaCrls;
  readonly #deadlines: Deadlines<Decision>;
  readonly #chains: ChainMemo;
  readonly #now: SyncReads | undefined;

  constructor(options: AuthorizerOptions) {
    this.#o = { clock: Date.now, configCacheMs: 1000, chainMemoSize: CHAIN_MEMO_SIZE, dangerAllowExpiredCrl: false, ...options };
    this.#deadlines = new Deadlines(this.#o.limits.deadlineMs);
    this.#routes = new ConfigCache(this.#o.configCacheMs);
    this.#anchors = new Anchors(this.#o.registry, this.#o.engine, this.#o.configCacheMs);
    this.#crls = new CaCrls(this.#o.registry, this.#o.engine, this.#o.configCacheMs);
    this.#chains = new ChainMemo(this.#o.limits, this.#o.chainMemoSize, CHAIN_MEMO_MAX_CHARS);
    const { registry: r } = this.#o;
    this.#now =
      r.accountForHostSync && r.getCertificateStandingSync && r.getCaCertificateSync
        ? { host: r.accountForHostSync.bind(r), standing: r.getCertificateStandingSync.bind(r), ca: r.getCaCertificateSync.bind(r) }
        : undefined;
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
   * itself when {@link authorizeNow} could give it, else a promise of it. For the front
   * doors' hot path.
   */
  decide(
    sni: string | null | undefined,
    certChain: readonly (string | Uint8Array)[],
    door = 'api',
    clientId: string | null = null,
    requestId?: string,
  ): Decision | Promise<Decision> {
    const shedder = this.#o.shedder;
    if (shedder === undefined) {
      return this.authorizeNow(sni, certChain, door, clientId, requestId) ?? this.#authorizeFully(sni, certChain, door, clientId, requestId);
    }
    const refusal = shedder.refusal();
    if (refusal !== undefined) return this.#overloaded(sni, door, refusal, requestId);
    return this.authorizeNow(sni, certChain, door, clientId, requestId) ?? shedder.track(this.#authorizeFully(sni, certChain, door, clientId, requestId));
  }

  /** The refusal of a shed request: decided without reading anything. */
  #overloaded(sni: string | null | undefined, door: string, message: string, requestId: string | undefined): Decision {
    const decision = deny('OVERLOADED', null, message);
    this.#o.observer?.decided({ door, sni: normaliseSni(sni), decision, seconds: 0, stages: new Map(), cacheHit: false, requestId });
    return decision;
  }

  /**
   * The allow for a request whose every input is already at hand, decided synchronously
   * (no `await`, so no deadline is needed); undefined when anything is missing.
   * {@link decide} and {@link authorize} try it first. Only what is a pure function of
   * the bytes, or configuration within its TTL, is reused; the standing (status, things)
   * is read from the registry as always.
   */
  authorizeNow(
    sni: string | null | undefined,
    certChain: readonly (string | Uint8Array)[],
    door = 'api',
    clientId: string | null = null,
    requestId?: string,
  ): Decision | undefined {
    const reads = this.#now;
    if (reads === undefined) return undefined;
    const started = performance.now();
    const stages = new StageClock();
    stages.start('parse');
    const read = this.#chains.read(certChain);
    if (!read.ok) return undefined;
    const nowMs = this.#o.clock();
    const now = Math.floor(nowMs / 1000);
    const entry = this.#o.cache.get(read.chain.key, now);
    stages.stop();
    const host = normaliseSni(sni);
    if (entry === undefined || host === null) return undefined;
    const since = performance.now();
    let standing: CertificateStanding | null;
    let anchor: AnchorResult | undefined;
    let bindClientId = false;
    try {
      const account = this.#routes.getSync(host, nowMs, () => reads.host(host));
      if (account === null) return undefined;
      bindClientId = account.bindClientIdToThing;
      standing = reads.standing(account.accountId, entry.certificateId);
      const caId = standing?.caCertificateId ?? null;
      if (standing !== null && caId !== null) anchor = this.#anchors.getSync(standing.accountId, caId, nowMs, reads.ca);
    } catch {
      // The full path reads again and denies with the failure's reason if it recurs.
      return undefined;
    }
    stages.since('registry', since);
    // Only an allow is decided here; every refusal is left to the full path, which
    // explains it (and runs JITR re-emission for PENDING_ACTIVATION).
    if (standing === null || standing.status !== 'ACTIVE') return undefined;
    if (bindClientId && clientIdRefusal(standing, clientId) !== undefined) return undefined;
    const caId = standing.caCertificateId;
    if (caId === null) {
      if (entry.leaf === undefined || leafRefusal(entry.leaf, now) !== undefined || !allowsClientAuth(entry.leaf)) return undefined;
    } else if (anchor === undefined || !anchor.ok || !this.#o.cache.isVerified(entry, caId, now)) {
      return undefined;
    } else if (!this.#crlsAllowNow(standing.accountId, entry.crlLinks.get(caId), nowMs, now)) {
      // Unknown CRL state, or a refusal: the full path reads and explains it.
      return undefined;
    }
    const decision = allow(standing);
    this.#o.observer?.decided({ door, sni: host, decision, seconds: (performance.now() - started) / 1000, stages: stages.totals(), cacheHit: true, requestId });
    return decision;
  }

  async #authorizeFully(
    sni: string | null | undefined,
    certChain: readonly (string | Uint8Array)[],
    door: string,
    clientId: string | null,
    requestId: string | undefined,
  ): Promise<Decision> {
    const stages = new StageClock();
    const started = performance.now();
    const probe: Probe = { cacheHit: false, certificateId: null };
    const { deadlineMs } = this.#o.limits;
    const work = this.#decide(sni, certChain, stages, started + deadlineMs, probe, clientId);
    const decision = await this.#deadlines.race(work, started, () =>
      deny('DEADLINE_EXCEEDED', probe.certificateId, `decision exceeded deadlineMs=${deadlineMs}`),
    );
    this.#o.observer?.decided({
      door,
      sni: normaliseSni(sni),
      decision,
      seconds: (performance.now() - started) / 1000,
      stages: stages.totals(),
      cacheHit: probe.cacheHit,
      requestId,
    });
    return decision;
  }

  async #decide(
    sni: string | null | undefined,
    certChain: readonly (string | Uint8Array)[],
    stages: StageClock,
    deadline: number,
    probe: Probe,
    clientId: string | null,
  ): Promise<Decision> {
    let certificateId: string | null = null;
    try {
      stages.start('parse');
      const read: ChainResult = this.#chains.read(certChain);
      if (!read.ok) throw new Deny(read.reason, read.message);
      const nowMs = this.#o.clock();
      const now = Math.floor(nowMs / 1000);
      const cached = this.#o.cache.get(read.chain.key, now);
      probe.cacheHit = cached !== undefined;
      const entry = cached ?? this.#o.cache.remember(read.chain.key, read.chain.leafId);
      stages.stop();
      certificateId = entry.certificateId;
      probe.certificateId = certificateId;
      const ctx: Context = { chain: read.chain, entry, now, nowMs, stages, deadline, clientId, bindClientId: false };
      const record = await this.#route(normaliseSni(sni), ctx);
      return await this.#finish(record, ctx);
    } catch (err) {
      stages.stop();
      if (err instanceof Deny) return deny(err.reason, certificateId, err.message, err.record);
      if (err instanceof VerifierFailure) return deny(err.reason, certificateId, err.message);
      return deny('REGISTRY_ERROR', certificateId, err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * The parsed leaf, parsed once per cached chain and only when needed: registrations
   * without a CA (validity and algorithm are all there is to check), unknown certificates
   * (MALFORMED_CERTIFICATE or JITR), and explaining a failed verification. A CA-registered
   * leaf is parsed by `verifyChain` itself, which checks the same rules.
   */
  #leaf(ctx: Context): CertificateInfo {
    if (ctx.entry.leaf !== undefined) return ctx.entry.leaf;
    ctx.stages.start('parse');
    const parsed = this.#inspect(ctx.chain.leaf);
    ctx.stages.stop();
    if (!parsed.ok) throw new Deny('MALFORMED_CERTIFICATE', `${parsed.code}: ${parsed.message}`);
    this.#o.cache.setLeaf(ctx.entry, parsed);
    return parsed;
  }

  /** Step 4: the registration the decision is about, or a Deny (after JITR if it applies). */
  async #route(sni: string | null, ctx: Context): Promise<CertificateStanding> {
    const { registry } = this.#o;
    const id = ctx.entry.certificateId;
    if (sni === null) {
      // Spec 6.3: without SNI only the certificate's one DEFAULT-mode registration can be
      // routed (SNI_ONLY registrations in other accounts need SNI and do not make it
      // ambiguous: registry/rules.ts); JITR needs SNI (spec 6.3 last point).
      const found = await ctx.stages.time('registry', () => registry.findCertificateRegistrations(id));
      if (found.length === 0) {
        checkLeaf(this.#leaf(ctx), ctx.now);
        throw new Deny('CERTIFICATE_NOT_REGISTERED', 'no SNI and no account holds the certificate');
      }
      const [only, ...more] = found.filter((r) => r.certificateMode === 'DEFAULT');
      if (only === undefined) throw new Deny('SNI_REQUIRED', `SNI_ONLY certificate without SNI (registered in ${found.length} account(s))`);
      if (more.length > 0) throw new Deny('SNI_REQUIRED', `registered in DEFAULT mode in ${more.length + 1} accounts`);
      const standing = await ctx.stages.time('registry', () => registry.getCertificateStanding(only.accountId, id));
      if (standing === null) throw new Deny('CERTIFICATE_NOT_REGISTERED', 'deleted while deciding');
      const owner = await ctx.stages.time('registry', () => registry.getAccount(only.accountId));
      ctx.bindClientId = owner?.bindClientIdToThing ?? false;
      return standing;
    }
    // Awaited steps are timed by hand (not StageClock.time): one async wrapper less each.
    const since = performance.now();
    let account = this.#routes.peek(sni, ctx.nowMs);
    if (account === undefined) account = await this.#routes.get(sni, ctx.nowMs, () => registry.accountForHost(sni));
    if (account === null) {
      ctx.stages.since('registry', since);
      throw new Deny('UNKNOWN_SNI', `no account serves "${sni}"`);
    }
    ctx.bindClientId = account.bindClientIdToThing;
    const record = await registry.getCertificateStanding(account.accountId, id);
    ctx.stages.since('registry', since);
    if (record !== null) return record;
    checkLeaf(this.#leaf(ctx), ctx.now);
    await this.#justInTime(account.accountId, ctx);
    throw new Deny('CERTIFICATE_NOT_REGISTERED', 'the certificate is not registered in the account');
  }

  /** Step 5: status, then the leaf or chain rules, then status again after a pool hop. */
  async #finish(found: CertificateStanding, ctx: Context): Promise<Decision> {
    const standing = await this.#finishChecks(found, ctx);
    if (ctx.bindClientId) {
      const refusal = clientIdRefusal(standing, ctx.clientId);
      if (refusal !== undefined) throw new Deny('CLIENT_ID_NOT_ATTACHED_THING', refusal, standing);
    }
    return allow(standing);
  }

  /** Status, then the leaf or chain rules; the standing an allow would be made from. */
  async #finishChecks(found: CertificateStanding, ctx: Context): Promise<CertificateStanding> {
    let record = found;
    if (record.status !== 'ACTIVE') await this.#refuseStatus(record, ctx);
    const caId = record.caCertificateId;
    if (caId === null) {
      // Registered without a CA: no chain is evaluated (AWS semantics, spec 6.4), but the
      // leaf must allow client authentication, as verifyChain requires of CA-registered ones.
      const leaf = this.#leaf(ctx);
      checkLeaf(leaf, ctx.now);
      if (!allowsClientAuth(leaf)) throw new Deny('CLIENT_AUTH_NOT_PERMITTED', `extendedKeyUsage ${(leaf.extendedKeyUsage ?? []).join(',')}`, record);
    } else {
      // The registering CA must still exist even when the chain's verification is cached:
      // a deleted CA denies in every process alike (after the config-cache TTL).
      const { accountId } = record;
      const anchor =
        this.#anchors.peek(accountId, caId, ctx.nowMs) ??
        (await ctx.stages.time('registry', () => this.#anchors.get(accountId, caId, ctx.nowMs)));
      if (!anchor.ok) throw new Deny('CA_NOT_FOUND', anchor.message, record);
      const links = ctx.entry.crlLinks.get(caId);
      if (links !== undefined && this.#o.cache.isVerified(ctx.entry, caId, ctx.now)) {
        await this.#checkCrls(links, record, ctx);
        return record;
      }
      const placement = await this.#verify(ctx, anchor.anchor, record);
      await this.#checkCrls(ctx.entry.crlLinks.get(caId) ?? [], record, ctx);
      if (placement === 'pool') {
        const fresh = await ctx.stages.time('registry', () => this.#o.registry.getCertificateStanding(record.accountId, record.certificateId));
        if (fresh === null) throw new Deny('CERTIFICATE_NOT_REGISTERED', 'deleted while verifying');
        record = fresh;
        if (record.status !== 'ACTIVE') await this.#refuseStatus(record, ctx);
      }
    }
    return record;
  }

  /**
   * Verify the chain against one registered CA, caching success. A failure is explained
   * with the leaf's own rule when it is the leaf's fault (expired, algorithm, garbage),
   * else CHAIN_VERIFICATION_FAILED with the engine's code. Returns where it ran.
   */
  async #verify(ctx: Context, anchor: Anchor, record?: CertificateStanding): Promise<Placement> {
    const placement = placeVerification(
      this.#o.engine.name,
      anchor.publicKey,
      1 + ctx.chain.intermediates.length,
      this.#o.inlineBudgetUs,
      this.#o.verifier.hasPool,
    );
    const input = {
      leaf: ctx.chain.leaf,
      intermediates: [...ctx.chain.intermediates],
      anchors: [anchor.der],
      at: ctx.now,
      eku: 'client' as const,
    };
    const stage: Stage = placement === 'pool' ? 'verify_pool' : 'verify_inline';
    const outcome = await ctx.stages.time(stage, () => this.#o.verifier.verify(input, placement, ctx.deadline - performance.now()));
    if (!outcome.ok) {
      checkLeaf(this.#leaf(ctx), ctx.now);
      throw new Deny('CHAIN_VERIFICATION_FAILED', `${outcome.code}: ${outcome.message}`, record);
    }
    this.#o.cache.markVerified(ctx.entry, anchor.certificateId, outcome.notAfter);
    ctx.entry.crlLinks.set(anchor.certificateId, this.#crlLinks(ctx, outcome.path));
    return placement;
  }

  /**
   * For each certificate of a verified path (leaf first) below the anchor: its issuer's
   * certificateId and its own serial (branch crl). Serials come from the parsed leaf and
   * parsed presented intermediates, matched to the path by certificateId.
   */
  #crlLinks(ctx: Context, path: readonly string[]): CrlLink[] {
    const serials = new Map<string, string>([[ctx.entry.certificateId, this.#leaf(ctx).serialNumber]]);
    if (path.length > 2) {
      for (const der of ctx.chain.intermediates) {
        const parsed = this.#inspect(der);
        if (parsed.ok) serials.set(parsed.certificateId, parsed.serialNumber);
      }
    }
    const links: CrlLink[] = [];
    for (let i = 0; i + 1 < path.length; i++) {
      const serial = serials.get(path[i] ?? '');
      // The engine verified exactly these certificates, so each is one of the inputs.
      if (serial === undefined) throw new VerifierFailure('ENGINE_ERROR', `verified path names ${path[i]}, which was not presented`);
      links.push({ issuerId: path[i + 1] ?? '', serial });
    }
    return links;
  }

  /**
   * Every link of the path against its issuer's current CRL, when the issuer is a CA
   * registered in the account that has one (branch crl): RFC 5280 6.3
   * (https://www.rfc-editor.org/rfc/rfc5280#section-6.3), with the stored CRL verified
   * when it was written.
   */
  async #checkCrls(links: readonly CrlLink[], record: CertificateStanding, ctx: Context): Promise<void> {
    for (const link of links) {
      const state =
        this.#crls.peek(record.accountId, link.issuerId, ctx.nowMs) ??
        (await ctx.stages.time('registry', () => this.#crls.get(record.accountId, link.issuerId, ctx.nowMs)));
      const refusal = crlRefusal(state, link.serial, ctx.now, this.#o.dangerAllowExpiredCrl);
      if (refusal !== undefined) throw new Deny(refusal, crlMessage(refusal, state, link), record);
    }
  }

  /** Whether the synchronous path may allow: every link's CRL state is known without an await, and clean. */
  #crlsAllowNow(accountId: string, links: readonly CrlLink[] | undefined, nowMs: number, now: number): boolean {
    if (links === undefined) return false;
    for (const link of links) {
      let state: CrlState | undefined;
      try {
        state = this.#crls.getSync(accountId, link.issuerId, nowMs);
      } catch {
        // The full path reads again and denies with the failure's reason if it recurs.
        return false;
      }
      if (state === undefined || crlRefusal(state, link.serial, now, this.#o.dangerAllowExpiredCrl) !== undefined) return false;
    }
    return true;
  }

  /** A non-ACTIVE status: re-emit JITR for a pending certificate, then deny. */
  async #refuseStatus(record: CertificateStanding, ctx: Context): Promise<never> {
    switch (record.status) {
      case 'REVOKED':
        throw new Deny('CERTIFICATE_REVOKED', undefined, record);
      case 'PENDING_TRANSFER':
        throw new Deny('CERTIFICATE_PENDING_TRANSFER', undefined, record);
      case 'PENDING_ACTIVATION': {
        // Spec 7.1: each later connect while still PENDING_ACTIVATION republishes the event.
        const caId = record.caCertificateId;
        const jitr = this.#o.jitr;
        if (caId !== null && jitr !== undefined) {
          const ca = await ctx.stages.time('registry', () => this.#o.registry.getCaCertificate(record.accountId, caId));
          if (ca !== null && autoRegisters(ca)) await ctx.stages.time('registry', () => jitr.reemit(record.accountId, record.certificateId, caId));
        }
        throw new Deny('CERTIFICATE_PENDING_ACTIVATION', undefined, record);
      }
      default:
        throw new Deny('CERTIFICATE_INACTIVE', `status ${record.status}`, record);
    }
  }

  /**
   * Step 6: find an ACTIVE auto-registering CA of the account whose subject is the
   * leaf's issuer (or, with intermediates presented, the last intermediate's issuer) and
   * that the chain verifies against; register and deny with JITR_REGISTERED. Returns
   * normally when JITR does not apply.
   */
  async #justInTime(accountId: string, ctx: Context): Promise<void> {
    const jitr = this.#o.jitr;
    if (jitr === undefined) return;
    const issuer = this.#topIssuer(ctx);
    if (issuer === null) return;
    const cas = await ctx.stages.time('registry', () => this.#o.registry.findCaCertificatesBySubject(accountId, issuer));
    for (const ca of cas) {
      if (!autoRegisters(ca)) continue;
      const anchor = this.#anchors.fromRecord(ca);
      if (!anchor.ok) continue;
      try {
        await this.#verify(ctx, anchor.anchor);
      } catch (err) {
        // A candidate that does not verify is just not the issuer; try the next one.
        if (err instanceof Deny) continue;
        throw err;
      }
      const leaf = this.#leaf(ctx);
      try {
        await ctx.stages.time('registry', () =>
          jitr.register({ certificateId: leaf.certificateId, der: ctx.chain.leaf, notBefore: leaf.notBefore, notAfter: leaf.notAfter }, ca),
        );
      } catch (err) {
        // The multi-account rule (registry/rules.ts) refuses JITR like any other path.
        if (err instanceof RegistryError && err.code === 'ALREADY_EXISTS') throw new Deny('CERTIFICATE_NOT_REGISTERED', `JITR refused: ${err.message}`);
        throw err;
      }
      throw new Deny('JITR_REGISTERED', `registered as PENDING_ACTIVATION under CA ${ca.certificateId}`, {
        accountId,
        certificateId: leaf.certificateId,
        status: 'PENDING_ACTIVATION',
        certificateMode: ca.certificateMode,
        caCertificateId: ca.certificateId,
        things: [],
      });
    }
  }

  #topIssuer(ctx: Context): string | null {
    const top = ctx.chain.intermediates.at(-1);
    if (top === undefined) return this.#leaf(ctx).issuer;
    const parsed = this.#inspect(top);
    return parsed.ok ? parsed.issuer : null;
  }

  /** The engine's parse; a throw (a bug, never a refusal) fails closed as ENGINE_ERROR. */
  #inspect(der: Uint8Array): ReturnType<Engine['inspect']> {
    try {
      return this.#o.engine.inspect(der);
    } catch (err) {
      throw new VerifierFailure('ENGINE_ERROR', `engine inspect threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The CRL verdict on one serial (branch crl): listed beats stale; a stale list denies unless allowed. */
function crlRefusal(state: CrlState, serial: string, now: number, allowExpired: boolean): Reason | undefined {
  if (!state.ok) return 'CRL_UNUSABLE';
  const view = state.view;
  if (view === null) return undefined;
  if (view.serials.has(serial)) return 'CERTIFICATE_REVOKED_BY_CA';
  if (!allowExpired && view.nextUpdate !== null && now > view.nextUpdate) return 'CRL_EXPIRED';
  return undefined;
}

function crlMessage(reason: Reason, state: CrlState, link: CrlLink): string {
  if (!state.ok) return state.message;
  if (reason === 'CRL_EXPIRED') return `CRL of CA ${link.issuerId} passed its nextUpdate at ${state.view?.nextUpdate ?? '?'}`;
  return `serial ${link.serial} is on the CRL of CA ${link.issuerId}`;
}

/** Step 3: validity window and algorithm (cached or fresh, always against `now`). */
function leafRefusal(leaf: CertificateInfo, now: number): Reason | undefined {
  if (!AWS_SIGNATURE_ALGORITHMS.has(leaf.signatureAlgorithm)) return 'UNSUPPORTED_SIGNATURE_ALGORITHM';
  if (now < leaf.notBefore) return 'CERTIFICATE_NOT_YET_VALID';
  if (now > leaf.notAfter) return 'CERTIFICATE_EXPIRED';
  return undefined;
}

/**
 * The client id rule when the account binds it (AWS IoT's `iot:Connection.Thing.IsAttached`,
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html): the
 * client id must name a thing attached to the certificate. Why not, or undefined.
 */
function clientIdRefusal(standing: CertificateStanding, clientId: string | null): string | undefined {
  if (clientId === null || clientId === '') return 'the account binds the client id to a thing, and no client id was given';
  if (!standing.things.includes(clientId)) return `client id "${clientId}" is not a thing attached to the certificate`;
  return undefined;
}

function checkLeaf(leaf: CertificateInfo, now: number): void {
  const refusal = leafRefusal(leaf, now);
  if (refusal === 'UNSUPPORTED_SIGNATURE_ALGORITHM') throw new Deny(refusal, leaf.signatureAlgorithm);
  if (refusal !== undefined) throw new Deny(refusal);
}

/**
 * Allow answers by the standing they were made from. A registry that reuses a standing
 * object while nothing changed (SQLite, committedReads.ts) then gets the same frozen
 * answer back, and the doors can reuse its encoding (ts/ingress/http.ts).
 */
const allows = new WeakMap<CertificateStanding, Decision>();

/** The allow answer for an ACTIVE registration, with the certificate's things. */
function allow(record: CertificateStanding): Decision {
  let decision = allows.get(record);
  if (decision === undefined) {
    decision = Object.freeze({
      allow: true,
      reason: 'CERTIFICATE_ACTIVE',
      certificateId: record.certificateId,
      accountId: record.accountId,
      certificateMode: record.certificateMode,
      things: Object.freeze([...record.things]) as string[],
    });
    allows.set(record, decision);
  }
  return decision;
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

function deny(reason: Reason, certificateId: string | null, message?: string, record?: CertificateStanding): Decision {
  const d: Decision = {
    allow: false,
    reason,
    certificateId,
    accountId: record?.accountId ?? null,
    certificateMode: record?.certificateMode ?? null,
    things: [],
  };
  if (message !== undefined) d.message = message;
  return d;
}
