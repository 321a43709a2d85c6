/**
 * One serving process: registry + engine (+ pool) + authorizer + its three ports (admin
 * API, authorizer HTTP, Envoy gRPC).
 * `certgate serve` runs one of these in-process (`--processes 1`) or one per cluster
 * worker (node:cluster in serve.ts); tests start it directly with port 0.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Authorizer } from '../authz/decision.js';
import { Jitr } from '../authz/jitr.js';
import { Verifier } from '../authz/verifier.js';
import { VerifyCache } from '../authz/verifyCache.js';
import { loadEngine } from '../engine/load.js';
import { warmUpEngine } from '../engine/warmUp.js';
import { EnginePool } from '../engine/pool.js';
import { createAuthzGrpcServer } from '../ingress/grpc.js';
import { GrpcHealth } from '../ingress/grpcHealth.js';
import { createAuthzHttpServer } from '../ingress/http.js';
import type { RequestErrorHook } from '../ingress/requestError.js';
import { AuthzMetrics } from '../metrics/authzMetrics.js';
import { AdminMetrics } from '../metrics/adminMetrics.js';
import type { MetricsFormat } from '../metrics/exposition.js';
import { DecisionLog, fanOut } from '../metrics/decisionLog.js';
import { openRegistry, settingsMismatch } from '../registry/open.js';
import { PostgresRegistry } from '../registry/postgres/registry.js';
import { SqliteRegistry } from '../registry/sqlite/registry.js';
import type { FleetView } from '../view/fleetView.js';
import { ViewMetrics } from '../metrics/viewMetrics.js';
import type { Registry, RegistryEvent } from '../registry/types.js';
import { createAdminServer } from '../control/server.js';
import { Shedder } from '../authz/shedding.js';
import { createMetricsServer } from './metricsServer.js';
import { createDashboard } from '../dashboard/server.js';
import type { ServeConfig } from './config.js';

/** The ports a node actually listens on (port 0 resolved). */
export interface NodePorts {
  admin: number;
  authz: number;
  grpc: number;
  /** The `--metrics-port` listener of this process, when it has one. */
  metrics?: number;
}

export interface RunningNode {
  ports: NodePorts;
  registry: Registry;
  authorizer: Authorizer;
  metrics: AuthzMetrics;
  /** Stop accepting, finish in-flight requests, release everything. */
  close(): Promise<void>;
}

export interface NodeHooks {
  /** Replaces local `/metrics` (cluster workers ask the primary for the aggregate). */
  metrics?: (format: MetricsFormat) => Promise<{ contentType: string; body: string }>;
  /** `--metrics-port` is served by another process (the cluster primary): no metrics listener here. */
  metricsElsewhere?: boolean;
  /** More of the `/readyz` body (the CRL refresh state, from this process or the cluster primary). */
  readyDetail?: () => Record<string, unknown>;
  /** Told after this process appends a registry event (JITR). */
  onEvent?: (event: RegistryEvent) => void;
}

/** `step()` of start-up, closing the registry if it fails (the process will not serve). */
async function orClose<T>(registry: Registry, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await registry.close();
    throw err;
  }
}

/** Start a serving process. */
export async function startNode(config: ServeConfig, logger: Logger, hooks: NodeHooks = {}): Promise<RunningNode> {
  // The SQLite opener creates the file's directory itself, owner-only (it holds secrets).
  const registry = openRegistry({
    path: config.db,
    fastPath: config.fastPath,
    // The wal-index watch needs the native addon: only when the engine loads it anyway.
    watchWalIndex: config.fastPath && config.engine === 'native',
    // SQLite: every standing in memory, as a fleet sidecar holds them (ts/fastpath/standings.ts).
    standings: config.viewStandings,
    viewCacheSize: config.viewCacheSize,
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpointDomain === undefined ? {} : { endpointDomain: config.endpointDomain }),
    ...(config.masterKey === undefined ? {} : { masterKey: config.masterKey }),
    fleetLeaseMs: config.maxStalenessMs,
  });
  // Fail at start, not at the first request, when the registry cannot be read — or was
  // created for another region or endpoint domain than this configuration names (the
  // values are fixed at creation; a mismatch would route SNI differently than intended).
  const mismatch = await orClose(registry, async () => settingsMismatch(config.db, await registry.settings(), config));
  const sealedWith = await orClose(registry, () => registry.secretsKeyId());
  if (mismatch !== undefined) {
    await registry.close();
    throw new Error(`${mismatch} (The environment variables CERTGATE_REGION and CERTGATE_ENDPOINT_DOMAIN count as the flags.)`);
  }
  // Secrets at rest (docs/api.md): the authorizer never reads a secret, so it serves
  // either way; the admin API needs the key to verify SigV4 once secrets are encrypted.
  if (sealedWith !== null && config.masterKey === undefined) {
    logger.warn(
      { masterKeyId: sealedWith },
      "the registry's secrets are encrypted and no --master-key-file was given: the authorizer serves, the admin API answers ServiceUnavailableException",
    );
  } else if (sealedWith === null) {
    logger.warn("the registry's secrets (SigV4 secret keys, issuing CA key) are stored in clear: give --master-key-file to encrypt them");
  }
  // Fleet mode: on PostgreSQL every process decides from its own local view (ts/view/).
  let view: FleetView | undefined;
  const viewMetrics: { current?: ViewMetrics } = {};
  if (registry instanceof PostgresRegistry) {
    view = await orClose(registry, () =>
      registry.openFleetView({
        maxStalenessMs: config.maxStalenessMs,
        heartbeatMs: config.heartbeatMs,
        standings: config.viewStandings,
        cacheSize: config.viewCacheSize,
        onError: (error) =>
          logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'registry view: round failed; retrying'),
        onHeartbeat: (seconds) => viewMetrics.current?.heartbeat(seconds),
      }),
    );
    registry.observeFleetWaits((result) => viewMetrics.current?.fleetWait(result));
  }
  // SQLite with --view-standings all: every standing loaded before this process listens.
  if (registry instanceof SqliteRegistry) await orClose(registry, () => registry.loadStandings());
  const engine = loadEngine(config.engine);
  warmUpEngine(engine);
  const pool =
    config.poolThreads > 0
      ? new EnginePool({ engine: config.engine, threads: config.poolThreads, maxQueue: config.poolMaxQueue })
      : undefined;
  const cache = new VerifyCache(config.verifyCacheSize);
  const metrics = new AuthzMetrics({ cache, engine: config.engine, ...(pool === undefined ? {} : { pool }) });
  viewMetrics.current = new ViewMetrics(
    view,
    [metrics.registry],
    registry instanceof SqliteRegistry && registry.holdsStandings ? () => registry.standingsHeld : undefined,
  );
  const decisionLog = new DecisionLog(logger.child({ component: 'decision' }), { allowSample: config.decisionLogSample });
  const authorizer = new Authorizer({
    registry,
    ...(view === undefined ? {} : { reads: view }),
    engine,
    verifier: new Verifier(engine, pool),
    cache,
    limits: config.limits,
    inlineBudgetUs: config.inlineBudgetUs,
    configCacheMs: config.configCacheMs,
    dangerAllowExpiredCrl: config.dangerAllowExpiredCrl,
    jitr: new Jitr(registry, Date.now, hooks.onEvent, config.jitrReemitIntervalMs),
    observer: fanOut(metrics, decisionLog),
    shedder: new Shedder(config.shedding),
    fastPath: config.fastPath,
  });
  const onRequestError: RequestErrorHook = (door, error, requestId) => {
    metrics.requestError(door, error.reason);
    decisionLog.requestError(door, error.reason, error.message, requestId);
  };
  // Ready when the registry answers a read (HTTP /readyz and gRPC health alike); in fleet
  // mode, when the local view is confirmed current (the body says why not).
  const ready =
    view === undefined
      ? async () => (await registry.accountForHost('readyz.invalid')) === null
      : async () => view.stale(performance.now()) === null;
  const readyDetail = view === undefined ? hooks.readyDetail : () => ({ ...hooks.readyDetail?.(), registryView: viewDetail(view) });
  const health = new GrpcHealth(ready);
  const exposition = hooks.metrics ?? ((format: MetricsFormat) => metrics.exposition(format));
  const ownMetricsPort = config.metricsPort !== undefined && hooks.metricsElsewhere !== true;
  const metricsServer = ownMetricsPort ? createMetricsServer(exposition, config.admission) : undefined;
  const http = createAuthzHttpServer({
    authorizer,
    limits: config.limits,
    admission: config.admission,
    envoySniHeader: config.envoySniHeader,
    metrics: config.metricsPort === undefined ? exposition : undefined,
    ready,
    ...(readyDetail === undefined ? {} : { readyDetail }),
    onRequestError,
    fastPath: config.fastPath,
    requestStartHeader: config.shedding.requestStartHeader,
  });
  const grpcServer = createAuthzGrpcServer({
    authorizer,
    limits: config.limits,
    onRequestError,
    health,
    fastPath: config.fastPath,
    requestStartHeader: config.shedding.requestStartHeader,
  });
  // The live page reads the same exposition /metrics serves (the cluster aggregate in a cluster).
  const dashboard = config.dashboard ? createDashboard(() => exposition('prometheus')) : undefined;
  const adminMetrics = new AdminMetrics([metrics.registry]);
  const adminOptions = {
    registry,
    engine,
    logger: logger.child({ component: 'admin' }),
    admission: config.admission,
    adminRateLimit: config.adminRateLimit,
    ...(dashboard === undefined ? {} : { dashboard }),
    onRequest: (operation: string, result: string, seconds: number) => adminMetrics.observe(operation, result, seconds),
  };
  const admin: Server =
    config.adminTls === undefined
      ? await createAdminServer(adminOptions)
      : await createAdminServer({ ...adminOptions, tls: config.adminTls });
  try {
    const authzPort = await listenHttp(http, config.authzPort, config.host);
    const grpcPort = await bindGrpc(grpcServer, config.grpcPort, config.host);
    const adminPort = await listenHttp(admin, config.adminPort, config.host);
    const ports: NodePorts = { admin: adminPort, authz: authzPort, grpc: grpcPort };
    if (metricsServer !== undefined) ports.metrics = await listenHttp(metricsServer, config.metricsPort ?? 0, config.host);
    return {
      ports,
      registry,
      authorizer,
      metrics,
      async close() {
        // Health watchers hear NOT_SERVING before the port stops taking calls.
        health.drain();
        // Open event streams would hold the admin server's close() forever.
        dashboard?.close();
        await Promise.all([closeHttp(http), closeHttp(admin), closeGrpc(grpcServer), ...(metricsServer ? [closeHttp(metricsServer)] : [])]);
        await pool?.close();
        await view?.close();
        await registry.close();
      },
    };
  } catch (err) {
    http.close();
    dashboard?.close();
    admin.close();
    metricsServer?.close();
    grpcServer.forceShutdown();
    await pool?.close();
    await view?.close();
    await registry.close();
    throw err;
  }
}

/** The `/readyz` detail of a fleet view: whether it may allow, and why not. */
function viewDetail(view: FleetView): Record<string, unknown> {
  const stats = view.stats();
  return {
    current: view.stale(performance.now()) === null,
    stale: view.stale(performance.now()),
    applied: stats.applied,
    lagSequences: stats.lagSequences,
    leaseRemainingMs: Math.round(stats.leaseRemainingMs),
    connected: stats.connected,
    standings: stats.standings,
    standingsHeld: stats.cacheEntries,
    ...(stats.standings === 'all' ? { loads: stats.loads, loadSeconds: Math.round(stats.loadSeconds * 1000) / 1000 } : {}),
  };
}

export function listenHttp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function bindGrpc(server: grpc.Server, port: number, host: string): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections would hold close() open until they time out.
    server.closeIdleConnections();
  });
}

function closeGrpc(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), 5000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
