/**
 * An `Authorizer` wired as `certgate serve` wires one in each process (ts/server/node.ts
 * `startNode`), for the benches that time decisions in process (authzDecision.ts,
 * fleetDecision.ts, fleetSpread.ts): the engine's verifier, a verification cache, the default limits, the
 * one-second configuration cache, metrics and the decision log (allows sampled off, to
 * /dev/null) as its observers, and a shedder when asked for.
 *
 * Not `startNode` itself: that also binds the authorizer, gRPC and admin ports (their
 * servers and timers would share the CPU being measured), runs verifications on a pool
 * by default, and cannot size the decoded-chain memo (fleetDecision.ts BENCH_CHAIN_MEMO).
 * Left out here as well: the pool (every verification inline), JITR, the fleet view.
 *
 * `load` gives the modules of the tree under test: {@link sourceTree} (this checkout's
 * ts/, compiled by vite-node) or {@link builtTree} (a built checkout's dist/, for
 * before/after pairs), so every tree is wired alike by this one function.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type * as DecisionModule from '../ts/authz/decision.js';
import type * as LimitsModule from '../ts/authz/limits.js';
import type * as SheddingModule from '../ts/authz/shedding.js';
import type * as VerifierModule from '../ts/authz/verifier.js';
import type * as VerifyCacheModule from '../ts/authz/verifyCache.js';
import type * as EngineModule from '../ts/engine/load.js';
import type { Engine, EngineName } from '../ts/engine/types.js';
import type * as AuthzMetricsModule from '../ts/metrics/authzMetrics.js';
import type * as DecisionLogModule from '../ts/metrics/decisionLog.js';

/** A module of a tree by its path under ts/ (as `.js`, the way the sources import each other). */
export type TreeModules = (file: string) => Promise<unknown>;

/** This checkout's sources. */
export const sourceTree: TreeModules = (file) => import(`../ts/${file}`);

/** The compiled modules of a built checkout at `root` (its dist/). */
export const builtTree =
  (root: string): TreeModules =>
  (file) =>
    import(pathToFileURL(path.join(root, 'dist', file)).href);

export interface ServeWiring {
  registry: DecisionModule.AuthzRegistry;
  /** What decisions read through: a fleet view on PostgreSQL, as serve's; absent: the registry. */
  reads?: DecisionModule.AuthorizerOptions['reads'];
  engine: EngineName;
  /** `--deadline-ms`; absent: serve's default. */
  deadlineMs?: number;
  /** `--config-cache-ms`; default serve's, 1,000. */
  configCacheMs?: number;
  /** The decisions' clock (epoch ms); absent: Date.now. */
  clock?: () => number;
  /** `--verify-cache-size`; default serve's, 100,000. */
  verifyCacheSize?: number;
  /** Node process metrics (GC, event loop…) in the metrics registry, as serve has them; default true. */
  processMetrics?: boolean;
  /** `--shed-after-ms` of a shedder with serve's other defaults; absent: no shedder. */
  shedAfterMs?: number;
  /** The decoded-chain memo's size; absent: the tree's default. */
  chainMemoSize?: number;
}

export interface ServeAuthorizer {
  authorizer: DecisionModule.Authorizer;
  engine: Engine;
}

export async function serveAuthorizer(load: TreeModules, w: ServeWiring): Promise<ServeAuthorizer> {
  const { Authorizer } = (await load('authz/decision.js')) as typeof DecisionModule;
  const { DEFAULT_LIMITS } = (await load('authz/limits.js')) as typeof LimitsModule;
  const { Shedder, DEFAULT_SHEDDING } = (await load('authz/shedding.js')) as typeof SheddingModule;
  const { Verifier } = (await load('authz/verifier.js')) as typeof VerifierModule;
  const { VerifyCache } = (await load('authz/verifyCache.js')) as typeof VerifyCacheModule;
  const { loadEngine } = (await load('engine/load.js')) as typeof EngineModule;
  const { AuthzMetrics } = (await load('metrics/authzMetrics.js')) as typeof AuthzMetricsModule;
  const { DecisionLog, fanOut } = (await load('metrics/decisionLog.js')) as typeof DecisionLogModule;
  const engine = loadEngine(w.engine);
  const cache = new VerifyCache(w.verifyCacheSize ?? 100_000);
  const metrics = new AuthzMetrics({ cache, engine: w.engine, processMetrics: w.processMetrics ?? true });
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const authorizer = new Authorizer({
    registry: w.registry,
    ...(w.reads === undefined ? {} : { reads: w.reads }),
    engine,
    verifier: new Verifier(engine),
    cache,
    limits: w.deadlineMs === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, deadlineMs: w.deadlineMs },
    // No pool to place verifications on: every one runs inline whatever its estimate.
    inlineBudgetUs: 1000,
    configCacheMs: w.configCacheMs ?? 1000,
    ...(w.clock === undefined ? {} : { clock: w.clock }),
    observer: fanOut(metrics, new DecisionLog(logger, { allowSample: 0 })),
    ...(w.shedAfterMs === undefined ? {} : { shedder: new Shedder({ ...DEFAULT_SHEDDING, shedAfterMs: w.shedAfterMs }) }),
    fastPath: true,
    ...(w.chainMemoSize === undefined ? {} : { chainMemoSize: w.chainMemoSize }),
  });
  return { authorizer, engine };
}
