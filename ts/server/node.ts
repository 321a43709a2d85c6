/**
 * One serving process: registry + engine (+ pool) + authorizer + its three ports (admin
 * API, authorizer HTTP, Envoy gRPC).
 * `certgate serve` runs one of these in-process (`--processes 1`) or one per cluster
 * worker (cluster.ts); tests start it directly with port 0.
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
import { EnginePool } from '../engine/pool.js';
import { createAuthzGrpcServer } from '../ingress/grpc.js';
import { createAuthzHttpServer } from '../ingress/http.js';
import { AuthzMetrics } from '../metrics/authzMetrics.js';
import { DecisionLog, fanOut } from '../metrics/decisionLog.js';
import { openRegistry, settingsMismatch } from '../registry/open.js';
import type { Registry, RegistryEvent } from '../registry/types.js';
import { createAdminServer } from '../control/server.js';
import type { ServeConfig } from './config.js';

/** The ports a node actually listens on (port 0 resolved). */
export interface NodePorts {
  admin: number;
  authz: number;
  grpc: number;
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
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Told after this process appends a registry event (JITR). */
  onEvent?: (event: RegistryEvent) => void;
}

/** Start a serving process. */
export async function startNode(config: ServeConfig, logger: Logger, hooks: NodeHooks = {}): Promise<RunningNode> {
  // The SQLite opener creates the file's directory itself, owner-only (it holds secrets).
  const registry = openRegistry({
    path: config.db,
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpointDomain === undefined ? {} : { endpointDomain: config.endpointDomain }),
  });
  // Fail at start, not at the first request, when the registry cannot be read — or was
  // created for another region or endpoint domain than this configuration names (the
  // values are fixed at creation; a mismatch would route SNI differently than intended).
  const mismatch = settingsMismatch(config.db, await registry.settings(), config);
  if (mismatch !== undefined) {
    await registry.close();
    throw new Error(`${mismatch} (The environment variables CERTGATE_REGION and CERTGATE_ENDPOINT_DOMAIN count as the flags.)`);
  }
  const engine = loadEngine(config.engine);
  const pool = config.poolThreads > 0 ? new EnginePool({ engine: config.engine, threads: config.poolThreads, maxQueue: config.poolMaxQueue }) : undefined;
  const cache = new VerifyCache(config.verifyCacheSize);
  const metrics = new AuthzMetrics({ cache, ...(pool === undefined ? {} : { pool }) });
  const authorizer = new Authorizer({
    registry,
    engine,
    verifier: new Verifier(engine, pool),
    cache,
    limits: config.limits,
    inlineBudgetUs: config.inlineBudgetUs,
    configCacheMs: config.configCacheMs,
    dangerAllowExpiredCrl: config.dangerAllowExpiredCrl,
    jitr: new Jitr(registry, Date.now, hooks.onEvent, config.jitrReemitIntervalMs),
    observer: fanOut(metrics, new DecisionLog(logger.child({ component: 'decision' }), config.decisionLogSample)),
  });
  const onRequestError = (door: string, reason: Parameters<AuthzMetrics['requestError']>[1]) => metrics.requestError(door, reason);
  const http = createAuthzHttpServer({
    authorizer,
    limits: config.limits,
    envoySniHeader: config.envoySniHeader,
    metrics: hooks.metrics ?? (() => metrics.exposition()),
    // Ready when the registry answers a read.
    ready: async () => (await registry.accountForHost('readyz.invalid')) === null,
    onRequestError,
  });
  const grpcServer = createAuthzGrpcServer({ authorizer, limits: config.limits, onRequestError });
  const admin = await createAdminServer({ registry, engine, logger: logger.child({ component: 'admin' }) });
  try {
    const authzPort = await listenHttp(http, config.authzPort, config.host);
    const grpcPort = await bindGrpc(grpcServer, config.grpcPort, config.host);
    const adminPort = await listenHttp(admin, config.adminPort, config.host);
    const ports = { admin: adminPort, authz: authzPort, grpc: grpcPort };
    return {
      ports,
      registry,
      authorizer,
      metrics,
      async close() {
        await Promise.all([closeHttp(http), closeHttp(admin), closeGrpc(grpcServer)]);
        await pool?.close();
        await registry.close();
      },
    };
  } catch (err) {
    http.close();
    admin.close();
    grpcServer.forceShutdown();
    await pool?.close();
    await registry.close();
    throw err;
  }
}

function listenHttp(server: Server, port: number, host: string): Promise<number> {
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

function closeHttp(server: Server): Promise<void> {
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
