/**
 * Builds an Authorizer over a test world with the real engine (inline, optionally a real
 * pool) and a fixed clock, recording every decision event.
 */
import { Authorizer, type AuthzRegistry, type DecisionEvent } from '../../ts/authz/decision.js';
import { Jitr } from '../../ts/authz/jitr.js';
import type { DecisionReads } from '../../ts/authz/reads.js';
import { DEFAULT_LIMITS, type AuthzLimits } from '../../ts/authz/limits.js';
import { DEFAULT_INLINE_BUDGET_US } from '../../ts/authz/placement.js';
import { Verifier } from '../../ts/authz/verifier.js';
import { VerifyCache } from '../../ts/authz/verifyCache.js';
import { loadEngine } from '../../ts/engine/load.js';
import type { EnginePool } from '../../ts/engine/pool.js';
import type { Engine, EngineName } from '../../ts/engine/types.js';
import { DATES } from './pki.js';
import type { World } from './world.js';

export interface TestAuthorizer {
  authorizer: Authorizer;
  events: DecisionEvent[];
  cache: VerifyCache;
}

export interface TestAuthorizerOptions {
  engine?: EngineName | Engine;
  pool?: EnginePool;
  limits?: Partial<AuthzLimits>;
  cacheSize?: number;
  inlineBudgetUs?: number;
  registry?: AuthzRegistry;
  /** Epoch seconds; default DATES.now. */
  now?: number;
  jitr?: boolean;
  /** Jitr's reemitIntervalMs (default 0: every attempt). */
  jitrReemitIntervalMs?: number;
  /** Default 0 here (read every time), so tests see registry changes at once. */
  configCacheMs?: number;
  /** Epoch milliseconds; overrides `now`. */
  clock?: () => number;
  /** AuthorizerOptions.dangerAllowExpiredCrl (branch crl). */
  dangerAllowExpiredCrl?: boolean;
  /** AuthorizerOptions.fastPath (default true). */
  fastPath?: boolean;
  /** AuthorizerOptions.reads (a fleet view, ts/view/). */
  reads?: DecisionReads;
  /** AuthorizerOptions.chainMemoSize (default: the verification cache's size). */
  chainMemoSize?: number;
  /** Keep a chain in the verification cache from its first sight (no doorkeeper). */
  admitOnFirstSight?: boolean;
}

export function testAuthorizer(world: World, o: TestAuthorizerOptions = {}): TestAuthorizer {
  const engine = typeof o.engine === 'object' ? o.engine : loadEngine(o.engine ?? 'native');
  const cache = new VerifyCache(o.cacheSize ?? 100, { admitOnFirstSight: o.admitOnFirstSight ?? false });
  const events: DecisionEvent[] = [];
  const clock = o.clock ?? (() => (o.now ?? DATES.now) * 1000);
  const authorizer = new Authorizer({
    registry: o.registry ?? world.registry,
    engine,
    verifier: new Verifier(engine, o.pool),
    cache,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    inlineBudgetUs: o.inlineBudgetUs ?? DEFAULT_INLINE_BUDGET_US,
    clock,
    configCacheMs: o.configCacheMs ?? 0,
    ...(o.dangerAllowExpiredCrl === undefined ? {} : { dangerAllowExpiredCrl: o.dangerAllowExpiredCrl }),
    ...(o.fastPath === undefined ? {} : { fastPath: o.fastPath }),
    ...(o.reads === undefined ? {} : { reads: o.reads }),
    ...(o.chainMemoSize === undefined ? {} : { chainMemoSize: o.chainMemoSize }),
    ...(o.jitr === false ? {} : { jitr: new Jitr(world.registry, clock, undefined, o.jitrReemitIntervalMs ?? 0) }),
    observer: { decided: (e) => events.push(e) },
  });
  return { authorizer, events, cache };
}
