/**
 * The decision's rules, in the one order they run (the model is rustls-webpki's
 * `src/verify_cert.rs`: one path, each rule a small named function headed by its
 * reference). Each rule reads what earlier rules learnt from the {@link Attempt}, adds
 * what it learns, and answers `undefined` (passed) or a {@link Refusal} — plain data,
 * never an exception — now or, when it had to wait on the registry or the pool, as a
 * promise ({@link Step}). Over a registry that reads synchronously (SQLite) a decision
 * whose chain verification is cached, or runs inline, completes without a promise.
 *
 *  1. {@link decodeChain}            limits, PEM/DER decoding, the leaf's certificateId
 *  2. {@link routeToAccount}         SNI → account; without SNI the one DEFAULT registration
 *  3. {@link readRegistration}       the registration in that account, read fresh; JITR on a miss
 *  4. {@link requireActiveStatus}    ACTIVE only (PENDING_ACTIVATION re-emits JITR)
 *  5. {@link checkLeafWithoutCa}     a CA-less registration: validity, algorithm, clientAuth
 *  6. {@link requireRegisteredCa}    the registering CA still exists
 *  7. {@link verifyChainToCa}        the chain verifies to that CA (cached, inline or pool)
 *  8. {@link checkCrls}              no certificate of the path is on its issuer's CRL
 *  9. {@link rereadAfterPool}        after a pool hop, the status is read again
 * 10. {@link requireAttachedThing}   the client id names an attached thing, when bound
 * 11. {@link requireCurrentView}     what was read is current (a fleet view's lease holds)
 *
 * Errors (a registry that cannot be read, an engine that throws) are turned into
 * refusals by {@link runRules}; nothing escapes it.
 */
import { AWS_SIGNATURE_ALGORITHMS } from '../engine/algorithms.js';
import { allowsClientAuth } from '../engine/clientAuth.js';
import type { CertificateInfo, Engine } from '../engine/types.js';
import { RegistryError, type Account, type CertificateStanding, type RegistryReader } from '../registry/types.js';
import type { Anchor, AnchorResult, Anchors } from './anchors.js';
import type { ChainMemo, PresentedChain } from './chain.js';
import type { ConfigCache } from './configCache.js';
import type { CaCrls, CrlState } from './crls.js';
import { autoRegisters, type Jitr } from './jitr.js';
import { placeVerification, type Placement } from './placement.js';
import type { DecisionReads } from './reads.js';
import type { Reason } from './reasons.js';
import type { StageClock, Stage } from './stages.js';
import { andThen, type Step } from './step.js';
import { VerifierFailure, type Verifier } from './verifier.js';
import type { CachedChain, CrlLink, VerifyCache } from './verifyCache.js';

/** Why a decision refuses. Data: returned, never thrown. */
export class Refusal {
  constructor(
    readonly reason: Reason,
    readonly message?: string,
    /** The registration the refusal is about, when one was found. */
    readonly standing?: CertificateStanding,
  ) {}
}

/** What the rules decide with: fixed for the authorizer's life. */
export interface RuleSetting {
  readonly registry: RegistryReader;
  readonly reads: DecisionReads;
  readonly engine: Engine;
  readonly verifier: Verifier;
  readonly cache: VerifyCache;
  readonly chains: ChainMemo;
  readonly routes: ConfigCache<Account | null>;
  readonly anchors: Anchors;
  readonly crls: CaCrls;
  readonly jitr: Jitr | undefined;
  readonly inlineBudgetUs: number;
  readonly dangerAllowExpiredCrl: boolean;
}

/** One decision in progress: its inputs, and what the rules have learnt so far. */
export class Attempt {
  /** The decoded chain ({@link decodeChain}). */
  chain!: PresentedChain;
  /** The verification-cache entry of the chain ({@link decodeChain}). */
  entry!: CachedChain;
  /** Whether the chain was in the verification cache. */
  cacheHit = false;
  /**
   * Whether the chain was met before: in the verification cache, or its second sight (the
   * cache's doorkeeper, ts/authz/doorkeeper.ts). What is worth remembering for the warm
   * path is decided by this (ts/fastpath/index.ts, "Remembered on second sight").
   */
  seenBefore = false;
  /** The leaf's certificateId, once decoded (also for a deadline answer). */
  certificateId: string | null = null;
  /** The routed account ({@link routeToAccount}); null without SNI until a registration is found. */
  account: Account | null = null;
  /** The registration the decision is about ({@link readRegistration}). */
  standing: CertificateStanding | null = null;
  /** The registering CA as a verification anchor ({@link requireRegisteredCa}). */
  anchor: Anchor | null = null;
  /** Where the chain was verified in this attempt; null when the cache vouched for it. */
  placement: Placement | null = null;
  /** Epoch seconds, the same instant as `nowMs` (validity). */
  readonly now: number;

  constructor(
    readonly certChain: readonly (string | Uint8Array)[],
    /** Normalised SNI (decision.ts normaliseSni); null when none was sent. */
    readonly sni: string | null,
    /** The client id the device connected with (MQTT CONNECT), when its door passed one. */
    readonly clientId: string | null,
    /** Epoch milliseconds (configuration caches). */
    readonly nowMs: number,
    readonly stages: StageClock,
    /** `performance.now()` when the decision started ({@link requireCurrentView}). */
    readonly started: number,
    /** `performance.now()` by which the decision must be answered. */
    readonly deadline: number,
  ) {
    this.now = Math.floor(nowMs / 1000);
  }
}

type Rule = (s: RuleSetting, a: Attempt) => Step<Refusal | undefined>;

/** The rules, in order. */
const RULES: readonly Rule[] = [
  decodeChain,
  routeToAccount,
  readRegistration,
  requireActiveStatus,
  checkLeafWithoutCa,
  requireRegisteredCa,
  verifyChainToCa,
  checkCrls,
  rereadAfterPool,
  requireAttachedThing,
  requireCurrentView,
];

/**
 * Run the rules from `from` on: the first refusal, or undefined when every rule passed
 * (the attempt's `standing` is then the registration to allow). A value when no rule
 * had to wait.
 */
export function runRules(s: RuleSetting, a: Attempt, from = 0): Step<Refusal | undefined> {
  for (let i = from; i < RULES.length; i++) {
    let verdict: Step<Refusal | undefined>;
    try {
      verdict = (RULES[i] as Rule)(s, a);
    } catch (err) {
      return refusalOf(err);
    }
    if (verdict instanceof Promise) {
      return verdict.then((v) => (v === undefined ? runRules(s, a, i + 1) : v), refusalOf);
    }
    if (verdict !== undefined) return verdict;
  }
  return undefined;
}

/** A failure on the way: the verifier names its reason, anything else is the registry's. */
function refusalOf(err: unknown): Refusal {
  if (err instanceof VerifierFailure) return new Refusal(err.reason, err.message);
  return new Refusal('REGISTRY_ERROR', err instanceof Error ? err.message : String(err));
}

/** Time a step that may wait under `stage`. */
function timed<T>(a: Attempt, stage: Stage, step: () => Step<T>): Step<T> {
  const since = performance.now();
  const result = step();
  if (!(result instanceof Promise)) {
    a.stages.since(stage, since);
    return result;
  }
  return result.finally(() => a.stages.since(stage, since));
}

// ---- 1. the presented chain ----

/**
 * Decode the presented chain within the limits (maxChainLength, maxCertificateBytes:
 * limits.ts) — PEM as RFC 7468 section 2 (https://www.rfc-editor.org/rfc/rfc7468#section-2),
 * DER certificates as RFC 5280 section 4.1 (https://www.rfc-editor.org/rfc/rfc5280#section-4.1) —
 * and find its verification-cache entry; the leaf's certificateId is the SHA-256 of its
 * DER, as AWS IoT computes it.
 */
function decodeChain(s: RuleSetting, a: Attempt): Refusal | undefined {
  a.stages.start('parse');
  const read = s.chains.read(a.certChain);
  if (!read.ok) {
    a.stages.stop();
    return new Refusal(read.reason, read.message);
  }
  const cached = s.cache.get(read.chain.key, a.now);
  a.cacheHit = cached !== undefined;
  a.seenBefore = a.cacheHit || s.cache.admits(read.chain.key);
  // Second sight: only a chain met before is worth remembering by its text (ts/fastpath/index.ts).
  if (a.seenBefore) s.chains.remember(a.certChain, read.chain);
  a.entry = cached ?? s.cache.remember(read.chain.key, read.chain.leafId, a.seenBefore);
  a.chain = read.chain;
  a.certificateId = a.entry.certificateId;
  a.stages.stop();
  return undefined;
}

// ---- 2–3. which registration ----

/**
 * The account the connection is for. With SNI: the account whose data endpoint or
 * custom domain it names (https://docs.aws.amazon.com/iot/latest/developerguide/iot-custom-endpoints-configurable.html),
 * else UNKNOWN_SNI. Without SNI: the certificate's one DEFAULT-mode registration
 * (certificateMode, https://docs.aws.amazon.com/iot/latest/apireference/API_CertificateDescription.html):
 * SNI_ONLY registrations need SNI and do not make it ambiguous; JITR needs SNI.
 */
function routeToAccount(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  const host = a.sni;
  if (host === null) return routeWithoutSni(s, a);
  // A routing still in the config cache is not a registry read: neither timed nor awaited.
  const cached = s.routes.peek(host, a.nowMs);
  if (cached !== undefined) return routed(a, host, cached);
  return timed(a, 'registry', () =>
    andThen(
      s.routes.get(host, a.nowMs, () => s.reads.account(host)),
      (account) => routed(a, host, account),
    ),
  );
}

function routed(a: Attempt, host: string, account: Account | null): Refusal | undefined {
  if (account === null) return new Refusal('UNKNOWN_SNI', `no account serves "${host}"`);
  a.account = account;
  return undefined;
}

async function routeWithoutSni(s: RuleSetting, a: Attempt): Promise<Refusal | undefined> {
  const id = a.entry.certificateId;
  const found = await timed(a, 'registry', () => s.registry.findCertificateRegistrations(id));
  if (found.length === 0)
    return leafOrElse(s, a, () => new Refusal('CERTIFICATE_NOT_REGISTERED', 'no SNI and no account holds the certificate'));
  const [only, ...more] = found.filter((r) => r.certificateMode === 'DEFAULT');
  if (only === undefined) return new Refusal('SNI_REQUIRED', `SNI_ONLY certificate without SNI (registered in ${found.length} account(s))`);
  if (more.length > 0) return new Refusal('SNI_REQUIRED', `registered in DEFAULT mode in ${more.length + 1} accounts`);
  const standing = await timed(a, 'registry', () => s.reads.standing(only.accountId, id, a.seenBefore));
  if (standing === null) return new Refusal('CERTIFICATE_NOT_REGISTERED', 'deleted while deciding');
  a.standing = standing;
  a.account = await timed(a, 'registry', () => s.registry.getAccount(only.accountId));
  return undefined;
}

/**
 * The certificate's registration in the routed account, read fresh on every decision
 * (no status cache: revocation is immediate). An unknown certificate is checked as a
 * leaf (a broken or expired one is refused for that), then offered to JITR
 * (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html),
 * else CERTIFICATE_NOT_REGISTERED.
 */
function readRegistration(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  if (a.standing !== null) return undefined;
  const accountId = (a.account as Account).accountId;
  const since = performance.now();
  const read = s.reads.standing(accountId, a.entry.certificateId, a.seenBefore);
  if (!(read instanceof Promise)) {
    a.stages.since('registry', since);
    return registered(s, a, accountId, read);
  }
  return read.then((standing) => {
    a.stages.since('registry', since);
    return registered(s, a, accountId, standing);
  });
}

function registered(s: RuleSetting, a: Attempt, accountId: string, standing: CertificateStanding | null): Step<Refusal | undefined> {
  if (standing !== null) {
    a.standing = standing;
    return undefined;
  }
  return leafOrElse(s, a, () =>
    andThen(
      justInTime(s, a, accountId),
      (jitr) => jitr ?? new Refusal('CERTIFICATE_NOT_REGISTERED', 'the certificate is not registered in the account'),
    ),
  );
}

// ---- 4. status ----

/**
 * Only an ACTIVE certificate connects (certificate statuses:
 * https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html). A
 * PENDING_ACTIVATION certificate of an auto-registering CA has its registration event
 * published again on each attempt
 * (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html).
 */
function requireActiveStatus(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  const standing = a.standing as CertificateStanding;
  return standing.status === 'ACTIVE' ? undefined : refuseStatus(s, a, standing);
}

function refuseStatus(s: RuleSetting, a: Attempt, standing: CertificateStanding): Step<Refusal> {
  switch (standing.status) {
    case 'REVOKED':
      return new Refusal('CERTIFICATE_REVOKED', undefined, standing);
    case 'PENDING_TRANSFER':
      return new Refusal('CERTIFICATE_PENDING_TRANSFER', undefined, standing);
    case 'PENDING_ACTIVATION':
      return reemitPending(s, a, standing).then(() => new Refusal('CERTIFICATE_PENDING_ACTIVATION', undefined, standing));
    default:
      return new Refusal('CERTIFICATE_INACTIVE', `status ${standing.status}`, standing);
  }
}

async function reemitPending(s: RuleSetting, a: Attempt, standing: CertificateStanding): Promise<void> {
  const caId = standing.caCertificateId;
  const jitr = s.jitr;
  if (caId === null || jitr === undefined) return;
  const ca = await timed(a, 'registry', () => s.registry.getCaCertificate(standing.accountId, caId));
  if (ca !== null && autoRegisters(ca)) await timed(a, 'registry', () => jitr.reemit(standing.accountId, standing.certificateId, caId));
}

// ---- 5. a registration without a CA ----

/**
 * Registered without a CA (RegisterCertificateWithoutCA,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificateWithoutCA.html):
 * no chain is evaluated, but the leaf must be within its validity (RFC 5280 section
 * 4.1.2.5, https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5), signed with an
 * algorithm AWS IoT accepts (https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html),
 * and allow client authentication (RFC 5280 section 4.2.1.12,
 * https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12), as verifyChain requires of a
 * CA-registered one.
 */
function checkLeafWithoutCa(s: RuleSetting, a: Attempt): Refusal | undefined {
  const standing = a.standing as CertificateStanding;
  if (standing.caCertificateId !== null) return undefined;
  const leaf = leafOf(s, a);
  if (leaf instanceof Refusal) return leaf;
  const refusal = leafRefusal(leaf, a.now);
  if (refusal !== undefined) return refusal;
  if (!allowsClientAuth(leaf))
    return new Refusal('CLIENT_AUTH_NOT_PERMITTED', `extendedKeyUsage ${(leaf.extendedKeyUsage ?? []).join(',')}`, standing);
  return undefined;
}

// ---- 6–8. a registration under a CA ----

/**
 * The CA the certificate was registered with must still be registered
 * (RegisterCertificate, https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificate.html),
 * even when the chain's verification is cached: a deleted CA denies in every process
 * alike (after the config-cache TTL).
 */
function requireRegisteredCa(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  const standing = a.standing as CertificateStanding;
  const caId = standing.caCertificateId;
  if (caId === null) return undefined;
  const cached = s.anchors.peek(standing.accountId, caId, a.nowMs);
  if (cached !== undefined) return anchored(a, standing, cached);
  return andThen(
    timed(a, 'registry', () => s.anchors.get(standing.accountId, caId, a.nowMs)),
    (result) => anchored(a, standing, result),
  );
}

function anchored(a: Attempt, standing: CertificateStanding, result: AnchorResult): Refusal | undefined {
  if (!result.ok) return new Refusal('CA_NOT_FOUND', result.message, standing);
  a.anchor = result.anchor;
  return undefined;
}

/**
 * The presented chain verifies to the registering CA: RFC 5280 section 6.1 path
 * validation (https://www.rfc-editor.org/rfc/rfc5280#section-6.1) by the engine's
 * `verifyChain` — signatures, validity, algorithms, CA constraints, clientAuth. A
 * verification is cached with its CRL links until the earliest notAfter on the path.
 */
function verifyChainToCa(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  const anchor = a.anchor;
  if (anchor === null) return undefined;
  const standing = a.standing as CertificateStanding;
  if (a.entry.crlLinks.has(anchor.certificateId) && s.cache.isVerified(a.entry, anchor.certificateId, a.now)) return undefined;
  return verifyAgainst(s, a, anchor, standing);
}

/**
 * Verify the chain against one anchor, remembering success. A failure is explained with
 * the leaf's own rule when it is the leaf's fault (expired, algorithm, garbage), else
 * CHAIN_VERIFICATION_FAILED with the engine's code.
 */
function verifyAgainst(s: RuleSetting, a: Attempt, anchor: Anchor, standing?: CertificateStanding): Step<Refusal | undefined> {
  const placement = placeVerification(
    s.engine.name,
    anchor.publicKey,
    1 + a.chain.intermediates.length,
    s.inlineBudgetUs,
    s.verifier.hasPool,
  );
  const input = { leaf: a.chain.leaf, intermediates: [...a.chain.intermediates], anchors: [anchor.der], at: a.now, eku: 'client' as const };
  const stage: Stage = placement === 'pool' ? 'verify_pool' : 'verify_inline';
  const outcome = timed(a, stage, () => s.verifier.verify(input, placement, a.deadline - performance.now()));
  return andThen(outcome, (verified) => {
    if (!verified.ok)
      return leafOrElse(s, a, () => new Refusal('CHAIN_VERIFICATION_FAILED', `${verified.code}: ${verified.message}`, standing));
    s.cache.markVerified(a.entry, anchor.certificateId, verified.notAfter);
    const links = crlLinks(verified.path, verified.serials);
    if (links instanceof Refusal) return links;
    a.entry.crlLinks.set(anchor.certificateId, links);
    a.placement = placement;
    return undefined;
  });
}

/**
 * For each certificate of a verified path (leaf first) below the anchor: its issuer's
 * certificateId and its own serial, both as the engine's verifyChain reported them
 * (`path` and `serials` run in step), so no certificate is parsed again for its serial.
 */
function crlLinks(path: readonly string[], serials: readonly string[]): CrlLink[] | Refusal {
  const links: CrlLink[] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const serial = serials[i];
    if (serial === undefined) return new Refusal('ENGINE_ERROR', `verifyChain named no serial for ${path[i]}`);
    links.push({ issuerId: path[i + 1] ?? '', serial });
  }
  return links;
}

/**
 * Every link of the verified path against its issuer's current CRL, when the issuer is
 * a CA registered in the account that has one: RFC 5280 section 6.3
 * (https://www.rfc-editor.org/rfc/rfc5280#section-6.3), with the stored CRL verified
 * when it was written. A listed serial refuses whatever the registry status; a CRL past
 * its nextUpdate refuses unless `--danger-allow-expired-crl`.
 */
function checkCrls(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  const anchor = a.anchor;
  if (anchor === null) return undefined;
  return checkLinks(s, a, a.standing as CertificateStanding, a.entry.crlLinks.get(anchor.certificateId) ?? [], 0);
}

function checkLinks(
  s: RuleSetting,
  a: Attempt,
  standing: CertificateStanding,
  links: readonly CrlLink[],
  from: number,
): Step<Refusal | undefined> {
  for (let i = from; i < links.length; i++) {
    const link = links[i] as CrlLink;
    const known = s.crls.peek(standing.accountId, link.issuerId, a.nowMs);
    const state = known ?? timed(a, 'registry', () => s.crls.state(standing.accountId, link.issuerId, a.nowMs));
    if (state instanceof Promise) {
      return state.then((st) => crlVerdict(s, a, st, link, standing) ?? checkLinks(s, a, standing, links, i + 1));
    }
    const refusal = crlVerdict(s, a, state, link, standing);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

function crlVerdict(s: RuleSetting, a: Attempt, state: CrlState, link: CrlLink, standing: CertificateStanding): Refusal | undefined {
  if (!state.ok) return new Refusal('CRL_UNUSABLE', state.message, standing);
  const view = state.view;
  if (view === null) return undefined;
  if (view.serials.has(link.serial))
    return new Refusal('CERTIFICATE_REVOKED_BY_CA', `serial ${link.serial} is on the CRL of CA ${link.issuerId}`, standing);
  if (!s.dangerAllowExpiredCrl && view.nextUpdate !== null && a.now > view.nextUpdate) {
    return new Refusal('CRL_EXPIRED', `CRL of CA ${link.issuerId} passed its nextUpdate at ${view.nextUpdate}`, standing);
  }
  return undefined;
}

// ---- 9. after waiting ----

/**
 * After a verification on the pool (the only long wait), the registration is read again
 * so that an allow always reflects a status read after all the waiting: a revoke that
 * landed meanwhile refuses.
 */
function rereadAfterPool(s: RuleSetting, a: Attempt): Step<Refusal | undefined> {
  if (a.placement !== 'pool') return undefined;
  const before = a.standing as CertificateStanding;
  return timed(a, 'registry', () =>
    andThen(s.reads.standing(before.accountId, before.certificateId, a.seenBefore), (fresh) => {
      if (fresh === null) return new Refusal('CERTIFICATE_NOT_REGISTERED', 'deleted while verifying');
      a.standing = fresh;
      return fresh.status === 'ACTIVE' ? undefined : refuseStatus(s, a, fresh);
    }),
  );
}

// ---- 10. the client id ----

/**
 * When the account binds the client id to a thing (AWS IoT's
 * `iot:Connection.Thing.IsAttached`,
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html): the
 * client id must name a thing attached to the certificate.
 */
function requireAttachedThing(_s: RuleSetting, a: Attempt): Refusal | undefined {
  if (a.account?.bindClientIdToThing !== true) return undefined;
  const standing = a.standing as CertificateStanding;
  const clientId = a.clientId;
  if (clientId === null || clientId === '') {
    return new Refusal('CLIENT_ID_NOT_ATTACHED_THING', 'the account binds the client id to a thing, and no client id was given', standing);
  }
  if (!standing.things.includes(clientId)) {
    return new Refusal('CLIENT_ID_NOT_ATTACHED_THING', `client id "${clientId}" is not a thing attached to the certificate`, standing);
  }
  return undefined;
}

// ---- 11. the view is current ----

/**
 * Right before an allow: everything the decision read must reflect every lowering write
 * (revoke, deactivation, delete, detach, CA or CRL change) whose API call had returned
 * when the decision started. Reads straight from a registry always do; a fleet
 * sidecar's local view does only while its lease holds (ts/view/index.ts, the issue's
 * "revocation reaches every sidecar before the API call returns"). A lapsed lease
 * refuses REGISTRY_STALE (503 / UNAVAILABLE) until the view has caught up. Only allows
 * are checked: a refusal read from a stale view is still a refusal (fail closed).
 */
function requireCurrentView(s: RuleSetting, a: Attempt): Refusal | undefined {
  const stale = s.reads.stale(a.started);
  return stale === null ? undefined : new Refusal('REGISTRY_STALE', stale, a.standing ?? undefined);
}

// ---- JITR ----

/**
 * Just-in-time registration (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html):
 * find an ACTIVE auto-registering CA of the account whose subject is the leaf's issuer
 * (or, with intermediates presented, the last intermediate's issuer) and that the chain
 * verifies against; register the leaf as PENDING_ACTIVATION and refuse with
 * JITR_REGISTERED. Undefined when JITR does not apply.
 */
function justInTime(s: RuleSetting, a: Attempt, accountId: string): Step<Refusal | undefined> {
  const jitr = s.jitr;
  if (jitr === undefined) return undefined;
  const issuer = topIssuer(s, a);
  if (issuer === null) return undefined;
  return registerJustInTime(s, a, accountId, jitr, issuer);
}

async function registerJustInTime(s: RuleSetting, a: Attempt, accountId: string, jitr: Jitr, issuer: string): Promise<Refusal | undefined> {
  const cas = await timed(a, 'registry', () => s.registry.findCaCertificatesBySubject(accountId, issuer));
  for (const ca of cas) {
    if (!autoRegisters(ca)) continue;
    const anchor = s.anchors.fromRecord(ca);
    if (!anchor.ok) continue;
    // A candidate that does not verify is just not the issuer; try the next one.
    if ((await verifyAgainst(s, a, anchor.anchor)) !== undefined) continue;
    const leaf = leafOf(s, a);
    if (leaf instanceof Refusal) return leaf;
    try {
      await timed(a, 'registry', () =>
        jitr.register({ certificateId: leaf.certificateId, der: a.chain.leaf, notBefore: leaf.notBefore, notAfter: leaf.notAfter }, ca),
      );
    } catch (err) {
      // The multi-account rule refuses JITR like any other registration.
      if (err instanceof RegistryError && err.code === 'ALREADY_EXISTS')
        return new Refusal('CERTIFICATE_NOT_REGISTERED', `JITR refused: ${err.message}`);
      throw err;
    }
    return new Refusal('JITR_REGISTERED', `registered as PENDING_ACTIVATION under CA ${ca.certificateId}`, {
      accountId,
      certificateId: leaf.certificateId,
      status: 'PENDING_ACTIVATION',
      certificateMode: ca.certificateMode,
      caCertificateId: ca.certificateId,
      things: [],
    });
  }
  return undefined;
}

function topIssuer(s: RuleSetting, a: Attempt): string | null {
  const top = a.chain.intermediates.at(-1);
  if (top === undefined) {
    const leaf = leafOf(s, a);
    return leaf instanceof Refusal ? null : leaf.issuer;
  }
  const parsed = inspect(s, top);
  return parsed.ok ? parsed.issuer : null;
}

// ---- the leaf ----

/**
 * The parsed leaf, parsed once per cached chain and only when needed: registrations
 * without a CA, unknown certificates (MALFORMED_CERTIFICATE or JITR), and
 * explaining a failed verification. A CA-registered leaf is parsed by `verifyChain`
 * itself, which checks the same rules.
 */
function leafOf(s: RuleSetting, a: Attempt): CertificateInfo | Refusal {
  if (a.entry.leaf !== undefined) return a.entry.leaf;
  a.stages.start('parse');
  const parsed = inspect(s, a.chain.leaf);
  a.stages.stop();
  if (!parsed.ok) return new Refusal('MALFORMED_CERTIFICATE', `${parsed.code}: ${parsed.message}`);
  s.cache.setLeaf(a.entry, parsed);
  return parsed;
}

/** The leaf's own refusal (malformed, algorithm, validity) if it has one, else `otherwise()`. */
function leafOrElse(s: RuleSetting, a: Attempt, otherwise: () => Step<Refusal | undefined>): Step<Refusal | undefined> {
  const leaf = leafOf(s, a);
  if (leaf instanceof Refusal) return leaf;
  return leafRefusal(leaf, a.now) ?? otherwise();
}

/**
 * The leaf's signature algorithm is one AWS IoT accepts
 * (https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html), and
 * `now` is within its validity (RFC 5280 section 4.1.2.5,
 * https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5).
 */
function leafRefusal(leaf: CertificateInfo, now: number): Refusal | undefined {
  if (!AWS_SIGNATURE_ALGORITHMS.has(leaf.signatureAlgorithm))
    return new Refusal('UNSUPPORTED_SIGNATURE_ALGORITHM', leaf.signatureAlgorithm);
  if (now < leaf.notBefore) return new Refusal('CERTIFICATE_NOT_YET_VALID');
  if (now > leaf.notAfter) return new Refusal('CERTIFICATE_EXPIRED');
  return undefined;
}

/** The engine's parse; a throw (a bug, never a refusal) fails closed as ENGINE_ERROR. */
function inspect(s: RuleSetting, der: Uint8Array): ReturnType<Engine['inspect']> {
  try {
    return s.engine.inspect(der);
  } catch (err) {
    throw new VerifierFailure('ENGINE_ERROR', `engine inspect threw: ${err instanceof Error ? err.message : String(err)}`);
  }
}
