/**
 * The admin API server: AWS IoT's certificate control plane over rest-json + SigV4.
 * `certgate serve` (ts/server/) creates it with `createAdminServer` and listens on the
 * admin address (default 127.0.0.1:9440), never on the authorizer's port.
 */
import http from 'node:http';
import https from 'node:https';
import { loadEngine } from '../engine/load.js';
import type { Engine, EngineName } from '../engine/types.js';
import type { Registry } from '../registry/types.js';
import type { ControlContext } from './context.js';
import { createAdminApp, type AdminLogger } from './http.js';
import { caRoutes } from './operations/cas.js';
import { crlRoutes } from './operations/crls.js';
import { certificateRoutes } from './operations/certificates.js';
import { domainRoutes } from './operations/domains.js';
import { accountSettingsRoutes } from './operations/accountSettings.js';
import { endpointRoutes } from './operations/endpoint.js';
import { issueRoutes } from './operations/issue.js';
import { keyRoutes } from './operations/keys.js';
import { DEFAULT_ADMIN_RATE_LIMIT, KeyRateLimiter } from './throttle.js';
import { auditRoutes } from './operations/audit.js';
import { principalRoutes } from './operations/principals.js';
import { transferRoutes } from './operations/transfers.js';
import type { Route } from './router.js';
import { admissionServerOptions, capConnections, DEFAULT_ADMISSION, type AdmissionLimits } from '../server/admission.js';
import type { Dashboard } from '../dashboard/server.js';

/** Default admin address: loopback only, a port apart from the authorizer's. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
export const DEFAULT_ADMIN_PORT = 9440;

export interface AdminServerOptions {
  registry: Registry;
  /** The engine used for parsing and issuance (default: the native build). */
  engine?: Engine | EngineName;
  logger?: AdminLogger;
  /** Request body limit in bytes (default `MAX_REQUEST_BODY_BYTES`). */
  maxBodyBytes?: number;
  /** Clock in epoch milliseconds (tests only; default Date.now). */
  now?: () => number;
  /** Connection cap and header/request timeouts (default `DEFAULT_ADMISSION`). */
  admission?: AdmissionLimits;
  /** Serve HTTPS with this PEM certificate chain and key (`--admin-tls-cert/--admin-tls-key`). */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Requests per second per access key (`--admin-rate-limit`); 0 = no limit. Default `DEFAULT_ADMIN_RATE_LIMIT`. */
  adminRateLimit?: number;
  /** `GET /dashboard` (branch dashboard): served before SigV4, read-only; absent = not served (`--no-dashboard`). */
  dashboard?: Dashboard;
  /** Told of every answered request (the admin metrics, branch observe). */
  onRequest?: (operation: string, result: string, seconds: number) => void;
}

/** Every operation of the admin API. */
export function adminRoutes(ctx: ControlContext): Route[] {
  return [
    ...caRoutes(ctx),
    ...crlRoutes(ctx),
    ...certificateRoutes(ctx),
    ...issueRoutes(ctx),
    ...transferRoutes(ctx),
    ...principalRoutes(ctx),
    ...endpointRoutes(ctx),
    ...domainRoutes(ctx),
    ...keyRoutes(ctx),
    ...auditRoutes(ctx),
    ...accountSettingsRoutes(ctx),
  ];
}

/**
 * Create the admin server (not yet listening): `server.listen(DEFAULT_ADMIN_PORT, DEFAULT_ADMIN_HOST)`.
 * HTTPS with `options.tls`, plain HTTP without (loopback, or `--danger-plain-admin`).
 */
export async function createAdminServer(
  options: AdminServerOptions & { tls: NonNullable<AdminServerOptions['tls']> },
): Promise<https.Server>;
export async function createAdminServer(options: AdminServerOptions): Promise<http.Server>;
export async function createAdminServer(options: AdminServerOptions): Promise<http.Server | https.Server> {
  const engine = typeof options.engine === 'object' ? options.engine : loadEngine(options.engine ?? 'native');
  const settings = await options.registry.settings();
  const nowMs = options.now ?? Date.now;
  const ctx: ControlContext = { registry: options.registry, engine, settings, now: () => nowMs() / 1000 };
  // Admin calls are small; a slow client must not hold a socket (or its body) for long.
  const admission = options.admission ?? DEFAULT_ADMISSION;
  const dashboard = options.dashboard;
  const app = await createAdminApp({
    registry: options.registry,
    routes: adminRoutes(ctx),
    region: settings.region,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    rateLimiter: new KeyRateLimiter(options.adminRateLimit ?? DEFAULT_ADMIN_RATE_LIMIT),
    now: nowMs,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    // The node:http(s) server is ours (admission limits, TLS); `GET /dashboard` is answered before the API sees it.
    serverFactory: (api) => {
      const listener: http.RequestListener =
        dashboard === undefined ? api : (req, res) => void (dashboard.handle(req, res) || api(req, res));
      return options.tls === undefined
        ? http.createServer(admissionServerOptions(admission), listener)
        : https.createServer({ ...admissionServerOptions(admission), cert: options.tls.cert, key: options.tls.key }, listener);
    },
  });
  return capConnections(app.server, admission);
}
