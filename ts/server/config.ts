/**
 * `certgate serve` configuration: every setting is a flag with an environment-variable
 * equivalent (flags win) and a default. The option table below is the single list the
 * CLI registers, the README documents and `parseServeConfig` validates.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createSecureContext } from 'node:tls';
import { DEFAULT_LIMITS, type AuthzLimits } from '../authz/limits.js';
import { DEFAULT_ADMIN_RATE_LIMIT } from '../control/throttle.js';
import type { EngineName } from '../engine/types.js';
import { POOL_DEFAULTS } from '../engine/pool.js';
import { DEFAULT_INLINE_BUDGET_US } from '../authz/placement.js';
import { DEFAULT_SHEDDING, type SheddingLimits } from '../authz/shedding.js';
import { DEFAULT_ADMISSION, type AdmissionLimits } from './admission.js';
import { MasterKeyError, readMasterKeyFile, type MasterKey } from '../registry/secrets.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_STALENESS_MS, type ViewStandingsMode } from '../view/fleetView.js';
import { DEFAULT_VIEW_CACHE_SIZE } from '../view/standings.js';

export interface ServeConfig {
  db: string;
  host: string;
  adminPort: number;
  /** Admin API requests per second per access key and process; 0 = no limit (branch keys). */
  adminRateLimit: number;
  authzPort: number;
  grpcPort: number;
  /** Server processes (node:cluster); 1 serves in-process. */
  processes: number;
  engine: EngineName;
  /** Pool threads per process; 0 runs every verification inline. */
  poolThreads: number;
  poolMaxQueue: number;
  inlineBudgetUs: number;
  verifyCacheSize: number;
  configCacheMs: number;
  limits: AuthzLimits;
  envoySniHeader: string;
  /** Share of allows in the decision log (denies and unavailable decisions are always logged). */
  decisionLogSample: number;
  logLevel: string;
  /** branch observe: `json` (one JSON object a line) or `pretty` (pino-pretty, for a terminal). */
  logFormat: 'json' | 'pretty';
  webhooks: string[];
  /** Minimum ms between two JITR re-emissions for one pending certificate, per process (0 = every attempt). */
  jitrReemitIntervalMs: number;
  region: string | undefined;
  endpointDomain: string | undefined;
  /** Port of a `/metrics`-only listener (cluster: served by the primary); undefined = on the authorizer port. */
  metricsPort: number | undefined;
  /** Admission control of the HTTP ports (authorizer, admin, metrics). */
  admission: AdmissionLimits;
  /** Load shedding of the authorizer (ts/authz/shedding.ts). */
  shedding: SheddingLimits;
  /** branch secrets: the master key read from `--master-key-file` (docs/api.md "Secrets at rest"). */
  masterKey: MasterKey | undefined;
  /** branch secrets: certificate chain and key (PEM) the admin API serves HTTPS with; undefined: plain HTTP. */
  adminTls: { cert: Buffer; key: Buffer } | undefined;
  /** branch secrets: accept a plain-HTTP admin API on a non-loopback --host. */
  dangerPlainAdmin: boolean;
  /** Serve the live `GET /dashboard` page on the admin port (branch dashboard); `--no-dashboard` turns it off. */
  dashboard: boolean;
  /** The warm-path machinery (ts/fastpath/, branch decide); `--no-fast-path` turns it off. */
  fastPath: boolean;
  /** Keep using a CA's CRL past its nextUpdate instead of denying CRL_EXPIRED (branch crl). */
  dangerAllowExpiredCrl: boolean;
  /** Seconds between fetches of each ACTIVE CA's CRL distribution point; 0 = off (branch crlrefresh). */
  crlRefreshSeconds: number;
  /** Fleet mode (PostgreSQL, docs/fleet.md): the lease L, ms — allows stop this long after the view was last confirmed current. */
  maxStalenessMs: number;
  /** Fleet mode: ms between heartbeats (at most half of maxStalenessMs). */
  heartbeatMs: number;
  /** Fleet mode: which certificate standings each process holds: every registered one, or those it has seen (lru). */
  viewStandings: ViewStandingsMode;
  /** Fleet mode: `seen`, certificate standings held per process; `all`, standing objects kept materialised. */
  viewCacheSize: number;
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** One option: flag, environment variable, default (as text), help. */
export interface OptionSpec {
  key: string;
  flag: string;
  env: string;
  default?: string;
  help: string;
}

/** The options, in `--help` order. */
export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'db',
    flag: '--db <path|url>',
    env: 'CERTGATE_DB',
    default: 'data/certgate.db',
    help: 'SQLite registry file, or a postgres:// URL',
  },
  { key: 'host', flag: '--host <address>', env: 'CERTGATE_HOST', default: '127.0.0.1', help: 'address every port binds to' },
  {
    key: 'adminPort',
    flag: '--admin-port <n>',
    env: 'CERTGATE_ADMIN_PORT',
    default: '9440',
    help: 'AWS-IoT-compatible admin API port (0 = any free port)',
  },
  {
    key: 'adminRateLimit',
    flag: '--admin-rate-limit <n>',
    env: 'CERTGATE_ADMIN_RATE_LIMIT',
    default: String(DEFAULT_ADMIN_RATE_LIMIT),
    help: 'admin API requests per second per access key and process, beyond which ThrottlingException (HTTP 429) (0 = no limit)',
  },
  {
    key: 'authzPort',
    flag: '--authz-port <n>',
    env: 'CERTGATE_AUTHZ_PORT',
    default: '9441',
    help: 'authorizer HTTP port: JSON, NGINX, Envoy HTTP, /metrics, /healthz, /readyz',
  },
  { key: 'grpcPort', flag: '--grpc-port <n>', env: 'CERTGATE_GRPC_PORT', default: '9442', help: 'Envoy ext_authz gRPC port' },
  { key: 'processes', flag: '--processes <n>', env: 'CERTGATE_PROCESSES', help: 'server processes (default: one per core)' },
  { key: 'engine', flag: '--engine <name>', env: 'CERTGATE_ENGINE', default: 'native', help: 'verification engine: native or wasm' },
  {
    key: 'poolThreads',
    flag: '--pool-threads <n>',
    env: 'CERTGATE_POOL_THREADS',
    default: '1',
    help: 'worker threads per process for heavy verifications (0 = all inline)',
  },
  {
    key: 'poolMaxQueue',
    flag: '--pool-max-queue <n>',
    env: 'CERTGATE_POOL_MAX_QUEUE',
    default: String(POOL_DEFAULTS.maxQueue),
    help: 'queued verifications per process before QUEUE_FULL',
  },
  {
    key: 'inlineBudgetUs',
    flag: '--inline-budget-us <n>',
    env: 'CERTGATE_INLINE_BUDGET_US',
    default: String(DEFAULT_INLINE_BUDGET_US),
    help: 'verifications estimated above this many µs go to the pool',
  },
  {
    key: 'verifyCacheSize',
    flag: '--verify-cache-size <n>',
    env: 'CERTGATE_VERIFY_CACHE_SIZE',
    default: '100000',
    help: 'verified chains (and their decoded PEM texts) remembered per process, from their second sight on (~1.4 KB each with the text; 0 disables)',
  },
  {
    key: 'configCacheMs',
    flag: '--config-cache-ms <n>',
    env: 'CERTGATE_CONFIG_CACHE_MS',
    default: '1000',
    help: 'reuse SNI routing, registered CAs and their CRL ids this long (0 = read every time; status and thing names are never cached)',
  },
  {
    key: 'maxChainLength',
    flag: '--max-chain-length <n>',
    env: 'CERTGATE_MAX_CHAIN_LENGTH',
    default: String(DEFAULT_LIMITS.maxChainLength),
    help: 'certificates per presented chain',
  },
  {
    key: 'maxCertificateBytes',
    flag: '--max-certificate-bytes <n>',
    env: 'CERTGATE_MAX_CERTIFICATE_BYTES',
    default: String(DEFAULT_LIMITS.maxCertificateBytes),
    help: 'DER bytes per certificate',
  },
  {
    key: 'maxBodyBytes',
    flag: '--max-body-bytes <n>',
    env: 'CERTGATE_MAX_BODY_BYTES',
    default: String(DEFAULT_LIMITS.maxBodyBytes),
    help: 'JSON body / gRPC message bytes',
  },
  {
    key: 'maxHeaderBytes',
    flag: '--max-header-bytes <n>',
    env: 'CERTGATE_MAX_HEADER_BYTES',
    default: String(DEFAULT_LIMITS.maxHeaderBytes),
    help: 'bytes of one certificate header',
  },
  {
    key: 'deadlineMs',
    flag: '--deadline-ms <n>',
    env: 'CERTGATE_DEADLINE_MS',
    default: String(DEFAULT_LIMITS.deadlineMs),
    help: 'per-request decision deadline',
  },
  {
    key: 'envoySniHeader',
    flag: '--envoy-sni-header <name>',
    env: 'CERTGATE_ENVOY_SNI_HEADER',
    default: 'x-certgate-sni',
    help: 'header carrying SNI for the Envoy HTTP door (":authority" = take the Host; no fallback between them)',
  },
  {
    key: 'decisionLogSample',
    flag: '--decision-log-sample <ratio>',
    env: 'CERTGATE_DECISION_LOG_SAMPLE',
    default: '0.05',
    help: 'share of allow decisions logged (0..1); every deny and unavailable decision is logged',
  },
  { key: 'logLevel', flag: '--log-level <level>', env: 'CERTGATE_LOG_LEVEL', default: 'info', help: 'pino log level' },
  {
    key: 'logFormat',
    flag: '--log-format <format>',
    env: 'CERTGATE_LOG_FORMAT',
    default: 'json',
    help: 'json (one object a line, for collectors) or pretty (coloured, for a terminal)',
  },
  {
    key: 'webhooks',
    flag: '--webhook <url...>',
    env: 'CERTGATE_WEBHOOKS',
    help: 'URL(s) receiving registry events (env: comma-separated)',
  },
  {
    key: 'jitrReemitIntervalMs',
    flag: '--jitr-reemit-interval-ms <n>',
    env: 'CERTGATE_JITR_REEMIT_INTERVAL_MS',
    default: '0',
    help: 'space re-emitted JITR events of one pending certificate by this much per process (0 = every attempt, as AWS IoT does)',
  },
  {
    key: 'metricsPort',
    flag: '--metrics-port <n>',
    env: 'CERTGATE_METRICS_PORT',
    help: 'serve /metrics on this port instead of the authorizer port, from the supervising process, off the decision path (0 = any free port)',
  },
  {
    key: 'maxConnections',
    flag: '--max-connections <n>',
    env: 'CERTGATE_MAX_CONNECTIONS',
    default: String(DEFAULT_ADMISSION.maxConnections),
    help: 'open connections per HTTP port (authorizer, admin, metrics) per process; more are closed on accept',
  },
  {
    key: 'headersTimeoutMs',
    flag: '--headers-timeout-ms <n>',
    env: 'CERTGATE_HEADERS_TIMEOUT_MS',
    default: String(DEFAULT_ADMISSION.headersTimeoutMs),
    help: "time a client gets to send a request's headers (HTTP ports)",
  },
  {
    key: 'requestTimeoutMs',
    flag: '--request-timeout-ms <n>',
    env: 'CERTGATE_REQUEST_TIMEOUT_MS',
    default: String(DEFAULT_ADMISSION.requestTimeoutMs),
    help: 'time a client gets to send a whole request, body included (HTTP ports)',
  },
  {
    key: 'maxInFlight',
    flag: '--max-in-flight <n>',
    env: 'CERTGATE_MAX_IN_FLIGHT',
    default: String(DEFAULT_SHEDDING.maxInFlight),
    help: 'decisions in progress per process; more are refused at once with OVERLOADED (503 / UNAVAILABLE)',
  },
  {
    key: 'shedAfterMs',
    flag: '--shed-after-ms <n>',
    env: 'CERTGATE_SHED_AFTER_MS',
    default: String(DEFAULT_SHEDDING.shedAfterMs),
    help: 'refuse with OVERLOADED a request read this long into one busy event-loop turn, or whose --request-start-header stamp is older (0 = off)',
  },
  {
    key: 'requestStartHeader',
    flag: '--request-start-header <name>',
    env: 'CERTGATE_REQUEST_START_HEADER',
    help: "header in which the proxy stamps the request's arrival (X-Request-Start: t=<epoch s|ms|µs>); gRPC also takes Envoy's attributes.request.time; a stamp older than --shed-after-ms is shed (trusts the proxy's clock; default: not used)",
  },
  {
    key: 'region',
    flag: '--region <region>',
    env: 'CERTGATE_REGION',
    help: 'region of a newly created database (default us-east-1); an existing one created with another is refused',
  },
  {
    key: 'endpointDomain',
    flag: '--endpoint-domain <domain>',
    env: 'CERTGATE_ENDPOINT_DOMAIN',
    help: 'endpoint DNS suffix of a newly created database (default localhost); an existing one created with another is refused',
  },
  {
    key: 'adminTlsCert',
    flag: '--admin-tls-cert <file>',
    env: 'CERTGATE_ADMIN_TLS_CERT',
    help: 'serve the admin API over HTTPS with this PEM certificate chain (with --admin-tls-key)',
  },
  { key: 'adminTlsKey', flag: '--admin-tls-key <file>', env: 'CERTGATE_ADMIN_TLS_KEY', help: 'PEM private key of --admin-tls-cert' },
  {
    key: 'dangerPlainAdmin',
    flag: '--danger-plain-admin',
    env: 'CERTGATE_DANGER_PLAIN_ADMIN',
    help: 'DANGER: allow the admin API in plain HTTP on a non-loopback --host (SigV4-signed requests, readable and replayable for 5 minutes by anyone on the path)',
  },
  {
    key: 'masterKeyFile',
    flag: '--master-key-file <file>',
    env: 'CERTGATE_MASTER_KEY_FILE',
    help: "32 random bytes (raw or base64) encrypting the registry's secrets; a clear registry is encrypted in place. Without it an encrypted registry still authorizes, but the admin API cannot verify SigV4 (503)",
  },
  {
    key: 'dashboard',
    flag: '--no-dashboard',
    env: 'CERTGATE_NO_DASHBOARD',
    help: 'do not serve the live GET /dashboard page on the admin port (read-only metrics, no SigV4; docs/operations.md)',
  },
  {
    key: 'fastPath',
    flag: '--no-fast-path',
    env: 'CERTGATE_NO_FAST_PATH',
    help: 'decide without the warm-path machinery (ts/fastpath/: committed-reads memo, decoded-chain memo, shared encoded answers); the same decisions, more CPU per warm request',
  },
  {
    key: 'dangerAllowExpiredCrl',
    flag: '--danger-allow-expired-crl',
    env: 'CERTGATE_DANGER_ALLOW_EXPIRED_CRL',
    help: 'DANGER: keep allowing certificates of a CA whose CRL is past its nextUpdate (default: deny CRL_EXPIRED; a revocation published after that CRL goes unseen)',
  },
  {
    key: 'crlRefresh',
    flag: '--crl-refresh <seconds>',
    env: 'CERTGATE_CRL_REFRESH',
    default: '0',
    help: "fetch each ACTIVE CA's CRL from its certificate's http(s) CRL distribution point this often, verified like an upload; a failure keeps the last good CRL and shows in /metrics and /readyz (0 = off)",
  },
  {
    key: 'maxStaleness',
    flag: '--max-staleness <ms>',
    env: 'CERTGATE_MAX_STALENESS',
    default: String(DEFAULT_MAX_STALENESS_MS),
    help: 'PostgreSQL fleet mode: a process allows only while its local view was confirmed current within this many ms (then REGISTRY_STALE); a revoke waits at most this long for an unreachable sidecar (docs/fleet.md)',
  },
  {
    key: 'heartbeatMs',
    flag: '--heartbeat-ms <ms>',
    env: 'CERTGATE_HEARTBEAT_MS',
    default: String(DEFAULT_HEARTBEAT_MS),
    help: 'PostgreSQL fleet mode: how often each process renews its lease (at most half of --max-staleness)',
  },
  {
    key: 'viewStandings',
    flag: '--view-standings <all|seen>',
    env: 'CERTGATE_VIEW_STANDINGS',
    default: 'all',
    help: 'all = each serving process holds the standing of every registered certificate in memory (loaded before it serves, ~80 bytes each; no decision reads the database for a standing); seen = only those it has decided for (PostgreSQL: up to --view-cache-size; SQLite: read from the file, remembered from the second decision on). SQLite needs the fast path for all (docs/authorizer.md, docs/fleet.md)',
  },
  {
    key: 'viewCacheSize',
    flag: '--view-cache-size <n>',
    env: 'CERTGATE_VIEW_CACHE_SIZE',
    default: String(DEFAULT_VIEW_CACHE_SIZE),
    help: 'with --view-standings all: standing objects each process keeps ready for the warm path; PostgreSQL with seen: certificate standings each process holds (a certificate not held costs one PostgreSQL read) (docs/fleet.md)',
  },
];

/** A configuration error: the message names the option and the bad value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function integer(raw: Record<string, unknown>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const spec = SERVE_OPTIONS.find((o) => o.key === key);
  const value = String(raw[key] ?? spec?.default ?? '');
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(`${spec?.flag.split(' ')[0] ?? key} must be an integer in [${min}, ${max}], got "${value}"`);
  }
  return n;
}

function text(raw: Record<string, unknown>, key: string): string {
  const value = raw[key] ?? SERVE_OPTIONS.find((o) => o.key === key)?.default;
  return String(value ?? '');
}

function masterKey(raw: Record<string, unknown>): MasterKey | undefined {
  const file = raw.masterKeyFile;
  if (file === undefined || file === '') return undefined;
  try {
    return readMasterKeyFile(String(file));
  } catch (err) {
    if (err instanceof MasterKeyError) throw new ConfigError(`--master-key-file: ${err.message}`);
    throw err;
  }
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${option}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The admin API's transport. A non-loopback --host needs HTTPS (`--admin-tls-cert` and
 * `--admin-tls-key`), or the explicit `--danger-plain-admin`: the API changes the
 * registry, and its requests would otherwise cross the network readable.
 */
function adminTransport(raw: Record<string, unknown>, host: string): Pick<ServeConfig, 'adminTls' | 'dangerPlainAdmin'> {
  const certFile = raw.adminTlsCert === undefined || raw.adminTlsCert === '' ? undefined : String(raw.adminTlsCert);
  const keyFile = raw.adminTlsKey === undefined || raw.adminTlsKey === '' ? undefined : String(raw.adminTlsKey);
  // A boolean flag arrives as true; its environment variable as text.
  const danger = raw.dangerPlainAdmin === true || raw.dangerPlainAdmin === 'true' || raw.dangerPlainAdmin === '1';
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('--admin-tls-cert and --admin-tls-key go together: give both or neither');
  }
  let adminTls: ServeConfig['adminTls'];
  if (certFile !== undefined && keyFile !== undefined) {
    adminTls = { cert: readPem(certFile, '--admin-tls-cert'), key: readPem(keyFile, '--admin-tls-key') };
    try {
      // Parses both and checks that the key belongs to the certificate, as the server would at its first handshake.
      createSecureContext(adminTls);
    } catch (err) {
      throw new ConfigError(`--admin-tls-cert/--admin-tls-key: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (adminTls === undefined && !danger && !isLoopback(host)) {
    throw new ConfigError(
      `--host ${host} is not loopback: the admin API would take SigV4-signed requests in plain HTTP from the network. Give --admin-tls-cert and --admin-tls-key, or --danger-plain-admin to accept that`,
    );
  }
  return { adminTls, dangerPlainAdmin: danger };
}

/** A boolean flag (or its environment variable: true/1, false/0). */
function flag(raw: Record<string, unknown>, key: string): boolean {
  const value = raw[key];
  if (value === undefined || value === false || value === 'false' || value === '0') return false;
  if (value === true || value === 'true' || value === '1') return true;
  const spec = SERVE_OPTIONS.find((o) => o.key === key);
  throw new ConfigError(`${spec?.flag ?? key} takes no value (environment: true or false), got "${String(value)}"`);
}

/** The lease and the heartbeat that renews it: at least two heartbeats per lease. */
function viewStandings(raw: Record<string, unknown>): ViewStandingsMode {
  const mode = text(raw, 'viewStandings');
  if (mode !== 'all' && mode !== 'seen') throw new ConfigError(`--view-standings must be all or seen, got "${mode}"`);
  return mode;
}

function fleetTiming(raw: Record<string, unknown>): Pick<ServeConfig, 'maxStalenessMs' | 'heartbeatMs'> {
  const maxStalenessMs = integer(raw, 'maxStaleness', 100, 3_600_000);
  const heartbeatMs = integer(raw, 'heartbeatMs', 10, 1_800_000);
  if (heartbeatMs * 2 > maxStalenessMs) {
    throw new ConfigError(`--heartbeat-ms (${heartbeatMs}) must be at most half of --max-staleness (${maxStalenessMs})`);
  }
  return { maxStalenessMs, heartbeatMs };
}

/** Validate raw option values (commander output, env already applied). */
export function parseServeConfig(raw: Record<string, unknown>): ServeConfig {
  const engine = text(raw, 'engine');
  if (engine !== 'native' && engine !== 'wasm') throw new ConfigError(`--engine must be native or wasm, got "${engine}"`);
  const logFormat = text(raw, 'logFormat');
  if (logFormat !== 'json' && logFormat !== 'pretty') throw new ConfigError(`--log-format must be json or pretty, got "${logFormat}"`);
  const sample = Number(text(raw, 'decisionLogSample'));
  if (!(sample >= 0 && sample <= 1))
    throw new ConfigError(`--decision-log-sample must be in [0, 1], got "${text(raw, 'decisionLogSample')}"`);
  // Repeated flags give an array; CERTGATE_WEBHOOKS arrives as one comma-separated value
  // (commander wraps an environment value of a variadic option in an array).
  const hooks = raw.webhooks;
  const webhooks = (Array.isArray(hooks) ? hooks.map(String) : typeof hooks === 'string' ? [hooks] : [])
    .flatMap((u) => u.split(','))
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const url of webhooks) {
    if (!/^https?:\/\//.test(url)) throw new ConfigError(`--webhook must be an http(s) URL, got "${url}"`);
  }
  const headersTimeoutMs = integer(raw, 'headersTimeoutMs', 100, 600_000);
  const requestTimeoutMs = integer(raw, 'requestTimeoutMs', 100, 600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`--headers-timeout-ms (${headersTimeoutMs}) must not exceed --request-timeout-ms (${requestTimeoutMs})`);
  }
  return {
    db: text(raw, 'db'),
    host: text(raw, 'host'),
    adminPort: integer(raw, 'adminPort', 0, 65535),
    adminRateLimit: integer(raw, 'adminRateLimit', 0, 1_000_000),
    authzPort: integer(raw, 'authzPort', 0, 65535),
    grpcPort: integer(raw, 'grpcPort', 0, 65535),
    processes: raw.processes === undefined ? availableParallelism() : integer(raw, 'processes', 1, 256),
    engine,
    poolThreads: integer(raw, 'poolThreads', 0, 64),
    poolMaxQueue: integer(raw, 'poolMaxQueue', 0),
    inlineBudgetUs: integer(raw, 'inlineBudgetUs', 0),
    verifyCacheSize: integer(raw, 'verifyCacheSize', 0),
    configCacheMs: integer(raw, 'configCacheMs', 0, 3_600_000),
    limits: {
      maxChainLength: integer(raw, 'maxChainLength', 1, 64),
      maxCertificateBytes: integer(raw, 'maxCertificateBytes', 256),
      maxBodyBytes: integer(raw, 'maxBodyBytes', 1024),
      maxHeaderBytes: integer(raw, 'maxHeaderBytes', 1024),
      deadlineMs: integer(raw, 'deadlineMs', 1, 600_000),
    },
    envoySniHeader: text(raw, 'envoySniHeader').toLowerCase(),
    decisionLogSample: sample,
    logLevel: text(raw, 'logLevel'),
    logFormat,
    webhooks,
    jitrReemitIntervalMs: integer(raw, 'jitrReemitIntervalMs', 0, 86_400_000),
    region: raw.region === undefined ? undefined : String(raw.region),
    endpointDomain: raw.endpointDomain === undefined ? undefined : String(raw.endpointDomain),
    metricsPort: raw.metricsPort === undefined ? undefined : integer(raw, 'metricsPort', 0, 65535),
    admission: {
      maxConnections: integer(raw, 'maxConnections', 1, 1_000_000),
      headersTimeoutMs,
      requestTimeoutMs,
    },
    shedding: {
      maxInFlight: integer(raw, 'maxInFlight', 1, 1_000_000),
      shedAfterMs: integer(raw, 'shedAfterMs', 0, 60_000),
      requestStartHeader:
        raw.requestStartHeader === undefined || raw.requestStartHeader === '' ? undefined : String(raw.requestStartHeader).toLowerCase(),
    },
    masterKey: masterKey(raw),
    ...adminTransport(raw, text(raw, 'host')),
    dashboard: raw.dashboard !== false && raw.dashboard !== 'false',
    fastPath: raw.fastPath !== false && raw.fastPath !== 'false',
    dangerAllowExpiredCrl: flag(raw, 'dangerAllowExpiredCrl'),
    crlRefreshSeconds: integer(raw, 'crlRefresh', 0, 31_536_000),
    ...fleetTiming(raw),
    viewStandings: viewStandings(raw),
    viewCacheSize: integer(raw, 'viewCacheSize', 1, 100_000_000),
  };
}
