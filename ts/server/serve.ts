/**
 * `certgate serve`: one process per core with node:cluster (OpenSSL-backed parsing and
 * the event loop scale across processes, not threads: performance-baselines.md), or a
 * single in-process node with `--processes 1`.
 *
 * The primary forks the workers, logs the ports they actually bound (port 0 picks a free
 * port; cluster workers share one listening socket per port), replaces a worker that
 * dies, aggregates `/metrics` across workers, and runs the one webhook deliverer.
 * SIGTERM/SIGINT drain gracefully: stop accepting, finish in-flight requests, exit.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import pino, { type Logger } from 'pino';
import { WebhookDeliverer } from '../authz/webhooks.js';
import { isPostgresUrl, openRegistry } from '../registry/open.js';
import { isLoopback, type ServeConfig } from './config.js';
import { startNode, type NodePorts, type RunningNode } from './node.js';

/** IPC messages between primary and workers. */
type ToPrimary = { type: 'certgate:listening'; ports: NodePorts } | { type: 'certgate:metrics'; id: number };
type ToWorker = { type: 'certgate:metrics'; id: number; body: string; contentType: string } | { type: 'certgate:shutdown' };

/** What the primary logs once every worker listens (tests and scripts parse it). */
export interface ListeningLine {
  admin: string;
  authz: string;
  grpc: string;
  processes: number;
}

export function createLogger(config: ServeConfig): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}

/** Run until a signal; resolves after a graceful shutdown. */
export async function serve(config: ServeConfig, logger: Logger = createLogger(config)): Promise<void> {
  if (cluster.isPrimary && !isLoopback(config.host)) {
    // Allowed (a sidecar in its own network namespace needs it), but never silently. A
    // plain admin API here needed --danger-plain-admin (config.ts).
    logger.warn(
      { host: config.host, adminTls: config.adminTls !== undefined },
      config.adminTls === undefined
        ? 'listening beyond loopback with --danger-plain-admin: the admin API speaks plain HTTP to the network; the authorizer is reachable too; restrict access'
        : 'listening beyond loopback: the admin API (HTTPS) and the authorizer are reachable from the network; restrict access',
    );
  }
  if (config.processes === 1) return serveInProcess(config, logger);
  if (cluster.isPrimary) return servePrimary(config, logger);
  return serveWorker(config, logger);
}

/** Whether `host` only accepts connections from this machine (defined in config.ts). */
export { isLoopback };

function listeningLine(config: ServeConfig, ports: NodePorts): ListeningLine {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { admin: `${config.adminTls === undefined ? 'http' : 'https'}://${host}:${ports.admin}`, authz: `http://${host}:${ports.authz}`, grpc: `${host}:${ports.grpc}`, processes: config.processes };
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

function deliverer(config: ServeConfig, logger: Logger): { deliverer: WebhookDeliverer; close: () => Promise<void> } | undefined {
  if (config.webhooks.length === 0) return undefined;
  const registry = openRegistry({ path: config.db });
  const d = new WebhookDeliverer({
    registry,
    urls: config.webhooks,
    // Next to a SQLite file; for a PostgreSQL registry, in the working directory.
    stateFile: isPostgresUrl(config.db) ? 'certgate-webhooks.json' : `${config.db}.webhooks.json`,
    onError: (url, event, error) => logger.warn({ url, sequence: event.sequence, error }, 'webhook delivery failed; will retry'),
  });
  d.start();
  return {
    deliverer: d,
    close: async () => {
      await d.stop();
      await registry.close();
    },
  };
}

async function serveInProcess(config: ServeConfig, logger: Logger): Promise<void> {
  const hooks = deliverer(config, logger);
  const node = await startNode(config, logger, { onEvent: () => hooks?.deliverer.notify() });
  logger.info(listeningLine(config, node.ports), 'listening');
  const signal = await untilSignal();
  logger.info({ signal }, 'shutting down');
  await node.close();
  await hooks?.close();
}

async function servePrimary(config: ServeConfig, logger: Logger): Promise<void> {
  const hooks = deliverer(config, logger);
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let announced = false;
  const listening = new Map<number, NodePorts>();

  cluster.on('message', (worker: Worker, message: ToPrimary) => {
    if (message.type === 'certgate:listening') {
      listening.set(worker.id, message.ports);
      if (!announced && listening.size === config.processes) {
        announced = true;
        const workers = Object.values(cluster.workers ?? {}).map((w) => w?.process.pid);
        logger.info({ ...listeningLine(config, message.ports), workers }, 'listening');
      } else if (announced) {
        logger.info({ worker: worker.process.pid }, 'replacement server process listening');
      }
    } else if (message.type === 'certgate:metrics') {
      aggregator.clusterMetrics().then(
        (body) => worker.send({ type: 'certgate:metrics', id: message.id, body, contentType: aggregator.contentType } satisfies ToWorker),
        (err: unknown) => logger.warn({ err }, 'metrics aggregation failed'),
      );
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, 'server process died; starting a replacement');
    cluster.fork();
  });
  for (let i = 0; i < config.processes; i++) cluster.fork();

  const signal = await untilSignal();
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          const kill = setTimeout(() => w.kill('SIGKILL'), 10_000);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          w.send({ type: 'certgate:shutdown' } satisfies ToWorker);
        }),
    ),
  );
  await hooks?.close();
}

async function serveWorker(config: ServeConfig, logger: Logger): Promise<void> {
  // Constructing one registers prom-client's worker-side reply to the primary's scrape;
  // the instance itself is not needed.
  void new AggregatorRegistry();
  let next = 0;
  const pending = new Map<number, (m: { body: string; contentType: string }) => void>();
  const askPrimary = () =>
    new Promise<{ body: string; contentType: string }>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      process.send?.({ type: 'certgate:metrics', id } satisfies ToPrimary);
    });
  let node: RunningNode | undefined;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      void (async () => {
        await node?.close();
        resolve();
      })();
    };
    process.on('message', (message: ToWorker) => {
      if (message.type === 'certgate:shutdown') stop();
      else if (message.type === 'certgate:metrics') {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      }
    });
    // The primary coordinates shutdown; a signal sent to the whole group is ignored here.
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', stop);
  });
  node = await startNode(config, logger, { metrics: askPrimary });
  AggregatorRegistry.setRegistries([node.metrics.registry]);
  process.send?.({ type: 'certgate:listening', ports: node.ports } satisfies ToPrimary);
  await stopped;
  process.exit(0);
}
