/**
 * `certgate serve`: one process per core with node:cluster (OpenSSL-backed parsing and
 * the event loop scale across processes, not threads, as measured on the 2-core machine), or a
 * single in-process node with `--processes 1`.
 *
 * The primary forks the workers, logs the ports they actually bound (port 0 picks a free
 * port; cluster workers share one listening socket per port), replaces a worker that
 * dies, aggregates `/metrics` across workers (clusterMetrics.ts; on `--metrics-port` it
 * serves them itself), and runs the one webhook deliverer and the one CRL refresher
 * (`--crl-refresh`; it forwards the refresh state to the workers for their `/readyz`).
 * SIGTERM/SIGINT drain gracefully: stop accepting, finish in-flight requests, exit.
 *
 * Failures are loud, never a process that runs without ports (docs/authorizer.md
 * "Processes and failures"):
 * - a start-up failure (busy port, unreadable registry, …) of any process stops the
 *   service and exits {@link EXIT.failed} with the first process's error;
 * - a worker that dies is replaced; when {@link REPLACEMENT_ATTEMPTS} replacements in a
 *   row fail to start, the service drains the remaining workers and exits
 *   {@link EXIT.serviceDown}: a supervisor (systemd, Kubernetes) restarts it or alerts,
 *   instead of a service left silently at reduced capacity.
 */
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter, once } from 'node:events';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { Registry } from 'prom-client';
import { registerWebhookMetrics } from '../metrics/webhookMetrics.js';
import { VERSION } from '../version.js';
import { readCursors, WebhookDeliverer } from '../authz/webhooks.js';
import { CrlRefresher, readyDetailOf, type CrlRefreshReadyDetail } from '../crl/refresh.js';
import { loadEngine } from '../engine/load.js';
import { serverV8Flags } from './v8Flags.js';
import { registerCrlRefreshMetrics } from '../metrics/crlRefreshMetrics.js';
import { CliError, EXIT } from '../cli/output.js';
import { isPostgresUrl, openRegistry } from '../registry/open.js';
import { PgDeliveryLease } from '../registry/postgres/deliveryLease.js';
import {
  ClusterMetrics,
  METRICS_CACHE_MS,
  METRICS_WAIT_MS,
  type CollectReply,
  type CollectRequest,
  type Exposition,
  type MetricsFormat,
} from './clusterMetrics.js';
import { isLoopback, type ServeConfig } from './config.js';
import { createMetricsServer } from './metricsServer.js';
import { closeHttp, listenHttp, startNode, type NodePorts, type RunningNode } from './node.js';

/**
 * Replacements of a dead worker tried in a row before the service is taken down. A
 * replacement that cannot start has hit something that will not pass by itself (the
 * registry file replaced or unreadable, resources exhausted); three tries, spaced by
 * {@link REPLACEMENT_BACKOFF_MS} × the failures so far, ride out a momentary one.
 */
export const REPLACEMENT_ATTEMPTS = 3;
export const REPLACEMENT_BACKOFF_MS = 250;

/** IPC messages between primary and workers. */
type ToPrimary =
  | { type: 'certgate:listening'; ports: NodePorts }
  | { type: 'certgate:start-failed'; error: string }
  | { type: 'certgate:metrics'; id: number; format: MetricsFormat }
  | CollectReply;
type ToWorker =
  | { type: 'certgate:metrics'; id: number; body: string; contentType: string }
  | { type: 'certgate:shutdown' }
  | { type: 'certgate:crl-refresh'; detail: CrlRefreshReadyDetail }
  | CollectRequest;

/** What the primary logs once every worker listens (tests and scripts parse it). */
export interface ListeningLine {
  admin: string;
  authz: string;
  grpc: string;
  /** Where `/metrics` is served: the authorizer port, or `--metrics-port`. */
  metrics: string;
  processes: number;
}

/**
 * The service's logger. Every line carries `service`, `version` and `pid`, its level as a
 * word (`"level":"info"`) and an ISO-8601 UTC time (`"time":"2026-12-02T04:50:00.123Z"`),
 * as log collectors (Loki, Elasticsearch, CloudWatch) expect. `pretty` renders the same
 * lines for a person at a terminal (pino-pretty, in-process).
 */
export function createLogger(config: Pick<ServeConfig, 'logLevel' | 'logFormat'>, destination?: NodeJS.WritableStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'certgate', version: VERSION, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (config.logFormat === 'pretty') {
    return pino(
      options,
      pretty({
        destination: destination ?? 1,
        colorize: destination === undefined && process.stdout.isTTY,
        translateTime: 'SYS:standard',
        ignore: 'service,version',
      }),
    );
  }
  return destination === undefined ? pino(options) : pino(options, destination);
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
  return {
    admin: `${config.adminTls === undefined ? 'http' : 'https'}://${host}:${ports.admin}`,
    authz: `http://${host}:${ports.authz}`,
    grpc: `${host}:${ports.grpc}`,
    metrics: `http://${host}:${ports.metrics ?? ports.authz}/metrics`,
    processes: config.processes,
  };
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

/** Where a service on a PostgreSQL registry kept its webhook cursors before they moved into the database. */
const LEGACY_CURSOR_FILE = 'certgate-webhooks.json';

/**
 * The webhook deliverer of this service. On SQLite it always delivers, its cursors in a
 * file next to the database. On PostgreSQL it delivers only while it holds the fleet's
 * delivery lock, its cursors in the database (ts/registry/postgres/deliveryLease.ts), so
 * a fleet of hosts on one registry delivers each event once (at least once).
 */
function deliverer(config: ServeConfig, logger: Logger): { deliverer: WebhookDeliverer; close: () => Promise<void> } | undefined {
  if (config.webhooks.length === 0) return undefined;
  const registry = openRegistry({ path: config.db });
  let d: WebhookDeliverer | undefined;
  const lease = isPostgresUrl(config.db)
    ? new PgDeliveryLease({
        connectionString: config.db,
        // Before fleet delivery each host kept its cursors here (its working directory).
        seed: readCursors(LEGACY_CURSOR_FILE),
        onChange: (held) => {
          logger.info(
            { deliverer: held },
            held ? "this service now delivers the fleet's webhook events" : 'lost the webhook delivery lock; another service delivers',
          );
          if (held) d?.notify();
        },
      })
    : undefined;
  d = new WebhookDeliverer({
    registry,
    urls: config.webhooks,
    ...(lease === undefined ? { stateFile: `${config.db}.webhooks.json` } : { cursors: lease, lease }),
    onError: (url, event, error) => logger.warn({ url, sequence: event.sequence, error }, 'webhook delivery failed; will retry'),
    onRoundError: (error) =>
      logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'webhook delivery round failed; will retry'),
  });
  lease?.start();
  d.start();
  const running = d;
  return {
    deliverer: running,
    close: async () => {
      await running.stop();
      await lease?.stop();
      await registry.close();
    },
  };
}

/** The one CRL refresher of the service, when `--crl-refresh` is on. */
function crlRefresher(
  config: ServeConfig,
  logger: Logger,
  onRound?: (detail: CrlRefreshReadyDetail) => void,
): { refresher: CrlRefresher; close: () => Promise<void> } | undefined {
  if (config.crlRefreshSeconds === 0) return undefined;
  const registry = openRegistry({
    path: config.db,
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpointDomain === undefined ? {} : { endpointDomain: config.endpointDomain }),
    ...(config.masterKey === undefined ? {} : { masterKey: config.masterKey }),
  });
  const refresher = new CrlRefresher({
    registry,
    engine: loadEngine(config.engine),
    intervalMs: config.crlRefreshSeconds * 1000,
    onRoundError: (error) =>
      logger.error(
        { error: error instanceof Error ? error.message : String(error) },
        'CRL refresh round failed; retrying at the next interval',
      ),
    onError: (s) =>
      logger.warn(
        { accountId: s.accountId, caCertificateId: s.caCertificateId, url: s.url, code: s.lastError?.code, error: s.lastError?.message },
        'CRL refresh failed; the last good CRL stays in force',
      ),
    ...(onRound === undefined ? {} : { onRound: (stats) => onRound(readyDetailOf(stats)) }),
  });
  refresher.start();
  return {
    refresher,
    close: async () => {
      await refresher.stop();
      await registry.close();
    },
  };
}

async function serveInProcess(config: ServeConfig, logger: Logger): Promise<void> {
  const hooks = deliverer(config, logger);
  const crl = crlRefresher(config, logger);
  let node: RunningNode;
  try {
    node = await startNode(config, logger, {
      onEvent: () => hooks?.deliverer.notify(),
      ...(crl === undefined ? {} : { readyDetail: () => ({ ...readyDetailOf(crl.refresher.stats()) }) }),
    });
  } catch (err) {
    await crl?.close();
    await hooks?.close();
    throw err;
  }
  if (hooks !== undefined) registerWebhookMetrics(hooks.deliverer, [node.metrics.registry]);
  if (crl !== undefined) registerCrlRefreshMetrics(crl.refresher, [node.metrics.registry]);
  logger.info(listeningLine(config, node.ports), 'listening');
  const signal = await untilSignal();
  logger.info({ signal }, 'shutting down');
  await node.close();
  await crl?.close();
  await hooks?.close();
}

async function servePrimary(config: ServeConfig, logger: Logger): Promise<void> {
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...serverV8Flags(config.engine, process.env)] });
  const hooks = deliverer(config, logger);
  // The refresh state reaches every listening worker after each round (and a worker when
  // it starts listening), so any of them answers /readyz with it.
  let crlDetail: CrlRefreshReadyDetail | undefined;
  const tellWorker = (w: Worker | undefined) => {
    if (crlDetail !== undefined && w !== undefined && w.isConnected())
      w.send({ type: 'certgate:crl-refresh', detail: crlDetail } satisfies ToWorker);
  };
  const crl = crlRefresher(config, logger, (detail) => {
    crlDetail = detail;
    for (const id of listening.keys()) tellWorker(cluster.workers?.[id]);
  });
  let stopping = false;
  let announced = false;
  let failedReplacements = 0;
  const listening = new Map<number, NodePorts>();
  const startErrors = new Map<number, string>();
  // The primary's own metrics (webhook delivery runs here), added to the workers'.
  const local = new Registry();
  if (hooks !== undefined) registerWebhookMetrics(hooks.deliverer, [local]);
  if (crl !== undefined) registerCrlRefreshMetrics(crl.refresher, [local]);
  const metrics = new ClusterMetrics({
    workers: () => [...listening.keys()].map((id) => cluster.workers?.[id]).filter((w): w is Worker => w !== undefined),
    local,
  });
  const failures = new EventEmitter();
  const failed = once(failures, 'fatal').then(([error]) => error as CliError);
  const fatal = (error: CliError) => {
    if (!stopping) failures.emit('fatal', error);
    stopping = true;
  };

  // The primary serves --metrics-port itself: scrapes never reach a worker's event loop.
  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = createMetricsServer((format) => metrics.exposition(format), config.admission);
    try {
      metricsPort = await listenHttp(metricsServer, config.metricsPort, config.host);
    } catch (err) {
      await crl?.close();
      await hooks?.close();
      throw new CliError(
        `start-up failed: metrics port ${config.metricsPort}: ${err instanceof Error ? err.message : String(err)}`,
        EXIT.failed,
      );
    }
  }

  cluster.on('message', (worker: Worker, message: ToPrimary) => {
    switch (message.type) {
      case 'certgate:listening':
        listening.set(worker.id, message.ports);
        tellWorker(worker);
        if (!announced && listening.size === config.processes) {
          announced = true;
          const workers = Object.values(cluster.workers ?? {}).map((w) => w?.process.pid);
          const ports = metricsPort === undefined ? message.ports : { ...message.ports, metrics: metricsPort };
          logger.info({ ...listeningLine(config, ports), workers }, 'listening');
        } else if (announced) {
          failedReplacements = 0;
          logger.info({ worker: worker.process.pid }, 'replacement server process listening');
        }
        break;
      case 'certgate:start-failed':
        startErrors.set(worker.id, message.error);
        break;
      case 'certgate:metrics':
        // Always answered: the aggregate waits at most METRICS_WAIT_MS per worker.
        void metrics.exposition(message.format).then((m) => {
          if (worker.isConnected())
            worker.send({ type: 'certgate:metrics', id: message.id, body: m.body, contentType: m.contentType } satisfies ToWorker);
        });
        break;
      case 'certgate:collected':
        metrics.reply(worker.id, message);
        break;
    }
  });
  // A message to a process whose channel is closing (it is exiting: a failed start, a
  // crash) fails with EPIPE or ERR_IPC_CHANNEL_CLOSED, reported as an 'error' event on its
  // Worker; unheard, that event would crash this process with exit 1 instead of the exit
  // the 'exit' handler below chooses. The 'exit' event follows and decides what it means.
  cluster.on('fork', (worker: Worker) => {
    worker.on('error', (err: Error) =>
      logger.debug({ worker: worker.process.pid, error: err.message }, 'message to a server process failed'),
    );
  });
  cluster.on('exit', (worker, code, signal) => {
    const wasListening = listening.delete(worker.id);
    metrics.forget(worker.id);
    if (stopping) return;
    const why = startErrors.get(worker.id) ?? `the process exited (${signal ?? `code ${code}`}) before listening`;
    if (!announced) {
      fatal(new CliError(`start-up failed: ${why}`, EXIT.failed));
      return;
    }
    if (wasListening) {
      logger.error({ worker: worker.process.pid, code, signal }, 'server process died; starting a replacement');
    } else {
      failedReplacements++;
      logger.error(
        { worker: worker.process.pid, error: why, attempt: failedReplacements, of: REPLACEMENT_ATTEMPTS },
        'replacement server process failed to start',
      );
      if (failedReplacements >= REPLACEMENT_ATTEMPTS) {
        fatal(
          new CliError(
            `${REPLACEMENT_ATTEMPTS} replacements of a dead server process failed to start in a row (last: ${why}); taking the service down`,
            EXIT.serviceDown,
          ),
        );
        return;
      }
    }
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, REPLACEMENT_BACKOFF_MS * failedReplacements);
  });
  for (let i = 0; i < config.processes; i++) cluster.fork();

  const outcome = await Promise.race([untilSignal().then((signal) => ({ signal })), failed.then((error) => ({ error }))]);
  stopping = true;
  if ('error' in outcome) logger.fatal({ error: outcome.error.message, exitCode: outcome.error.exitCode }, 'stopping the service');
  else logger.info({ signal: outcome.signal }, 'shutting down');
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
          // If the message cannot be delivered (the process is exiting), ask by signal.
          if (w.isConnected()) w.send({ type: 'certgate:shutdown' } satisfies ToWorker, (err) => err && w.kill('SIGTERM'));
          else w.kill('SIGTERM');
        }),
    ),
  );
  if (metricsServer !== undefined) await closeHttp(metricsServer);
  await crl?.close();
  await hooks?.close();
  if ('error' in outcome) throw outcome.error;
}

async function serveWorker(config: ServeConfig, logger: Logger): Promise<void> {
  let next = 0;
  const pending = new Map<number, (m: Exposition) => void>();
  // The primary always answers within METRICS_WAIT_MS; the extra second covers IPC and
  // aggregation, so a scrape never waits on a primary that cannot answer.
  const askPrimary = (format: MetricsFormat) =>
    new Promise<Exposition>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the supervising process did not send the aggregated metrics in time'));
      }, METRICS_WAIT_MS + 1000);
      pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      process.send?.({ type: 'certgate:metrics', id, format } satisfies ToPrimary);
    });
  // Scrapes reaching this worker within METRICS_CACHE_MS share one answer of the primary
  // (the aggregate is tens of KB; one IPC round trip per scrape would cost the decisions).
  const last = new Map<MetricsFormat, { at: number; exposition: Promise<Exposition> }>();
  const aggregate = (format: MetricsFormat) => {
    const now = performance.now();
    const cached = last.get(format);
    if (cached !== undefined && now - cached.at < METRICS_CACHE_MS) return cached.exposition;
    const exposition = askPrimary(format);
    const entry = { at: now, exposition };
    last.set(format, entry);
    exposition.catch(() => {
      if (last.get(format) === entry) last.delete(format);
    });
    return exposition;
  };
  let node: RunningNode | undefined;
  // The primary's CRL refresh state (none until its first round ends).
  let crlDetail: CrlRefreshReadyDetail | undefined;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      void (async () => {
        await node?.close();
        resolve();
      })();
    };
    process.on('message', (message: ToWorker) => {
      if (message.type === 'certgate:shutdown') stop();
      else if (message.type === 'certgate:crl-refresh') crlDetail = message.detail;
      else if (message.type === 'certgate:metrics') {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      } else if (message.type === 'certgate:collect') {
        const local = node === undefined ? Promise.resolve([]) : node.metrics.registry.getMetricsAsJSON();
        void local.then((metrics) => process.send?.({ type: 'certgate:collected', id: message.id, metrics } satisfies ToPrimary));
      }
    });
    // The primary coordinates shutdown; a signal sent to the whole group is ignored here.
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', stop);
  });
  try {
    node = await startNode(config, logger, {
      metrics: aggregate,
      metricsElsewhere: true,
      ...(config.crlRefreshSeconds === 0 ? {} : { readyDetail: () => ({ crlRefreshFailing: crlDetail?.crlRefreshFailing ?? [] }) }),
    });
  } catch (err) {
    // Tell the primary why, then leave: a worker that cannot serve must not linger
    // (its IPC channel would keep it alive without a port).
    const error = err instanceof Error ? err.message : String(err);
    process.send?.({ type: 'certgate:start-failed', error } satisfies ToPrimary, () => process.exit(EXIT.failed));
    return new Promise<void>(() => undefined);
  }
  process.send?.({ type: 'certgate:listening', ports: node.ports } satisfies ToPrimary);
  await stopped;
  process.exit(0);
}
