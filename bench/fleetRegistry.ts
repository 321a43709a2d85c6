/**
 * A large registry for bench/fleetSize.ts, built once into a cache directory and reused:
 * N device certificates in N / 1,000 accounts (1,000 each) under N / 10,000 CAs (each CA
 * registered SNI_ONLY in 10 accounts, as AWS IoT allows a CA in several accounts in that
 * mode: https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html).
 * 1,000,000 devices = 1,000 accounts and 100 CAs.
 *
 * Two steps, each cached:
 * 1. **Certificates** (`certs/`): real P-256 device certificates, valid DER signed by their
 *    CA, made by the engine's batch issuance (`issueCertificates`) in worker threads (the
 *    worker of `certgate fleet create`), one batch per account. Device keys come from a
 *    pool of POOL_KEYS key pairs (`--key-pool` of fleet create): every certificate still
 *    has its own serial and id, which is all the authorizer keys on; the pool only saves
 *    key generation, which a registry bench does not measure. Written as NDJSON, one line
 *    per device, account after account, with the facts registration stores (from the
 *    engine's `inspect`).
 * 2. **Registry** (a SQLite file or a PostgreSQL database): accounts through the registry
 *    (`createAccount`), CAs through the control plane's RegisterCACertificate (the API's
 *    checks), devices through the rule layer's bulk registration `insertCertificates`
 *    (what RegisterCertificates calls), one transaction per account's 1,000 devices. The
 *    control plane's per-certificate re-parse and signature check (node:crypto, ~0.4 ms,
 *    bench/README.md "Fleet provisioning") is skipped: the engine just signed these
 *    certificates. The time spent in `insertCertificates` is the write throughput reported.
 *
 * A registry of N devices uses the first N / 1,000 accounts of the certificate cache, so
 * a 10,000 and a 1,000,000 registry hold the same devices where they overlap.
 */
import { createReadStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Piscina } from 'piscina';
import { LocalControlPlane } from '../ts/control/invoke.js';
import { loadEngine } from '../ts/engine/load.js';
import type { FleetTask } from '../ts/load/fleetWorker.js';
import { createFleetCa, generateKeys, type FleetCa, type IssuedDevice } from '../ts/load/provision.js';
import { fleetWorkerPath } from '../ts/paths.js';
import { openRegistry } from '../ts/registry/open.js';
import { DEFAULT_SETTINGS } from '../ts/registry/rules/registry.js';
import type { NewCertificate } from '../ts/registry/types.js';

export const DEVICES_PER_ACCOUNT = 1000;
export const ACCOUNTS_PER_CA = 10;
/** Device key pairs reused across the fleet (each certificate is still distinct). */
const POOL_KEYS = 1000;

export interface Shape {
  devices: number;
  accounts: number;
  cas: number;
}

export function shapeOf(devices: number): Shape {
  if (!Number.isInteger(devices) || devices <= 0 || devices % DEVICES_PER_ACCOUNT !== 0)
    throw new RangeError(`a bench registry holds a positive multiple of ${DEVICES_PER_ACCOUNT} devices, got ${devices}`);
  const accounts = devices / DEVICES_PER_ACCOUNT;
  return { devices, accounts, cas: Math.ceil(accounts / ACCOUNTS_PER_CA) };
}

export const accountIdOf = (i: number): string => String(100_000_000_000 + i);
export const prefixOf = (i: number): string => `f${String(i).padStart(13, '0')}`;
/** The iot:Data-ATS endpoint of account i under the default settings (ts/control/operations/endpoint.ts). */
export const sniOf = (i: number): string => `${prefixOf(i)}-ats.iot.${DEFAULT_SETTINGS.region}.${DEFAULT_SETTINGS.endpointDomain}`;
export const caIndexOf = (account: number): number => Math.floor(account / ACCOUNTS_PER_CA);

/** One line of the certificate cache. */
export interface CachedDevice {
  account: number;
  certificateId: string;
  certificatePem: string;
  notBefore: number;
  notAfter: number;
}

const log = (message: string) => process.stderr.write(`[fleet-registry] ${message}\n`);

/** The certificate cache for `accounts` accounts: made once (in `workers` threads), then read. */
export async function ensureCertificates(cacheDir: string, accounts: number, workers: number): Promise<{ dir: string; cas: FleetCa[] }> {
  const dir = path.join(cacheDir, 'certs');
  const done = path.join(dir, 'done.json');
  if (existsSync(done)) {
    const made = JSON.parse(readFileSync(done, 'utf8')) as { accounts: number };
    if (made.accounts >= accounts) return { dir, cas: JSON.parse(readFileSync(path.join(dir, 'cas.json'), 'utf8')) as FleetCa[] };
    throw new Error(`${dir} holds certificates for ${made.accounts} accounts, fewer than ${accounts}: delete it to make a larger one`);
  }
  mkdirSync(dir, { recursive: true });
  const engine = loadEngine('native');
  const now = Math.floor(Date.now() / 1000);
  const cas = Array.from({ length: Math.ceil(accounts / ACCOUNTS_PER_CA) }, (_, k) =>
    createFleetCa(engine, 'p256', `CN=certgate bench fleet CA ${k},O=certgate`, now),
  );
  writeFileSync(path.join(dir, 'cas.json'), JSON.stringify(cas), { mode: 0o600 });
  const pool = generateKeys(engine, 'p256', POOL_KEYS);
  const piscina = new Piscina<FleetTask, IssuedDevice[]>({ filename: fleetWorkerPath, minThreads: workers, maxThreads: workers });
  const started = performance.now();
  const file = path.join(dir, 'devices.ndjson');
  const fd = openSync(`${file}.part`, 'w', 0o600);
  try {
    // A bounded window of batches in flight, written in account order.
    const WINDOW = workers * 4;
    const pending: Promise<IssuedDevice[]>[] = [];
    const submit = (account: number) =>
      piscina.run({
        start: account * DEVICES_PER_ACCOUNT,
        count: DEVICES_PER_ACCOUNT,
        keyType: 'p256',
        pool,
        nowSeconds: now,
        engine: 'native',
        ca: cas[caIndexOf(account)] as FleetCa,
      });
    let next = 0;
    for (; next < Math.min(WINDOW, accounts); next++) pending.push(submit(next));
    for (let account = 0; account < accounts; account++) {
      const batch = await (pending.shift() as Promise<IssuedDevice[]>);
      if (next < accounts) pending.push(submit(next++));
      const lines = batch.map((d) => {
        const info = engine.inspect(Buffer.from(d.certificatePem));
        if (!info.ok) throw new Error(`inspecting device ${d.certificateId}: ${info.code}: ${info.message}`);
        const line: CachedDevice = {
          account,
          certificateId: info.certificateId,
          certificatePem: d.certificatePem,
          notBefore: info.notBefore,
          notAfter: info.notAfter,
        };
        return JSON.stringify(line);
      });
      writeSync(fd, lines.join('\n') + '\n');
      if ((account + 1) % 50 === 0 || account + 1 === accounts)
        log(
          `certificates: ${(account + 1) * DEVICES_PER_ACCOUNT} / ${accounts * DEVICES_PER_ACCOUNT} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        );
    }
  } finally {
    closeSync(fd);
    await piscina.close({ force: true });
  }
  renameSync(`${file}.part`, file);
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(done, JSON.stringify({ accounts, devices: accounts * DEVICES_PER_ACCOUNT, seconds, workers }));
  log(`certificates: ${accounts * DEVICES_PER_ACCOUNT} made in ${seconds.toFixed(1)} s with ${workers} workers`);
  return { dir, cas };
}

/** The cached devices of the first `accounts` accounts, account after account, `DEVICES_PER_ACCOUNT` at a time. */
export async function* cachedAccounts(certsDir: string, accounts: number): AsyncGenerator<CachedDevice[]> {
  const lines = createInterface({ input: createReadStream(path.join(certsDir, 'devices.ndjson')), crlfDelay: Infinity });
  let batch: CachedDevice[] = [];
  for await (const line of lines) {
    if (line === '') continue;
    const device = JSON.parse(line) as CachedDevice;
    if (device.account >= accounts) break;
    batch.push(device);
    if (batch.length === DEVICES_PER_ACCOUNT) {
      yield batch;
      batch = [];
    }
  }
  lines.close();
  if (batch.length > 0) yield batch;
}

/**
 * `perAccount` cached devices (`devicesFile`: a cache's `certs/devices.ndjson`) from each of the first `accounts` accounts (lines are account
 * after account, `DEVICES_PER_ACCOUNT` each: only the picked ones are parsed), in a fixed
 * shuffle (xorshift), so every run and registry size presents them in a comparable order.
 */
export async function pickDevices(devicesFile: string, accounts: number, perAccount: number): Promise<CachedDevice[]> {
  const picked: CachedDevice[] = [];
  const lines = createInterface({ input: createReadStream(devicesFile), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    if (n >= accounts * DEVICES_PER_ACCOUNT) break;
    if (n % DEVICES_PER_ACCOUNT < perAccount) picked.push(JSON.parse(line) as CachedDevice);
    n++;
  }
  lines.close();
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  for (let i = picked.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [picked[i], picked[j]] = [picked[j] as CachedDevice, picked[i] as CachedDevice];
  }
  return picked;
}

/** What building a registry measured (kept beside it, reported by the bench). */
export interface BuildReport {
  db: string;
  shape: Shape;
  /** Wall time of the whole build (accounts, CAs, devices). */
  seconds: number;
  /** Time inside `insertCertificates` (one transaction per account's devices). */
  registerSeconds: number;
  registrationsPerSecond: number;
  /** CPU of this process during the device registrations (the database server's own, for PostgreSQL, is not in it). */
  registerCpuSeconds: number;
  /** The database server's CPU during the device registrations (PostgreSQL; absent for SQLite, which runs in this process). */
  dbCpuSeconds?: number;
  loadAverage: number[];
  builtAt: string;
}

/** Build the registry at `db` (SQLite path or postgres:// URL) from the certificate cache; `marker` records that it is complete. */
export async function buildRegistry(
  db: string,
  shape: Shape,
  certsDir: string,
  cas: readonly FleetCa[],
  marker: string,
  dbCpu?: () => number,
): Promise<BuildReport> {
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as BuildReport;
  const started = performance.now();
  const registry = openRegistry({ path: db });
  try {
    const plane = await LocalControlPlane.open(registry, 'native');
    for (let i = 0; i < shape.accounts; i++) await registry.createAccount({ accountId: accountIdOf(i), endpointPrefix: prefixOf(i) });
    const caIds: string[] = [];
    for (let i = 0; i < shape.accounts; i++) {
      const ca = cas[caIndexOf(i)] as FleetCa;
      const out = await plane.invoke('RegisterCACertificate', accountIdOf(i), {
        body: { caCertificate: ca.certificatePem, certificateMode: 'SNI_ONLY' },
        query: { setAsActive: 'true' },
      });
      caIds[i] = String(out?.['certificateId']);
    }
    log(`${db}: ${shape.accounts} accounts, ${shape.cas} CAs registered (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    let registerMs = 0;
    let registered = 0;
    const cpu = process.cpuUsage();
    const dbCpuBefore = dbCpu?.();
    for await (const batch of cachedAccounts(certsDir, shape.accounts)) {
      const account = (batch[0] as CachedDevice).account;
      const certs = batch.map((d): NewCertificate => ({
        accountId: accountIdOf(account),
        certificateId: d.certificateId,
        certificatePem: d.certificatePem,
        notBefore: d.notBefore,
        notAfter: d.notAfter,
        status: 'ACTIVE',
        certificateMode: 'SNI_ONLY',
        caCertificateId: caIds[account] ?? null,
      }));
      const t = performance.now();
      const results = await registry.insertCertificates(certs);
      registerMs += performance.now() - t;
      const refused = results.find((r) => !r.ok);
      if (refused !== undefined && !refused.ok) throw new Error(`device ${refused.certificateId} refused: ${refused.error.message}`);
      registered += results.length;
      if ((account + 1) % 50 === 0 || account + 1 === shape.accounts)
        log(`${db}: ${registered} / ${shape.devices} registered, ${Math.round(registered / (registerMs / 1000))}/s`);
    }
    if (registered !== shape.devices) throw new Error(`the certificate cache held ${registered} devices, not ${shape.devices}`);
    const used = process.cpuUsage(cpu);
    const dbCpuSeconds = dbCpuBefore === undefined ? undefined : (dbCpu?.() ?? 0) - dbCpuBefore;
    const report: BuildReport = {
      db,
      shape,
      seconds: (performance.now() - started) / 1000,
      registerSeconds: registerMs / 1000,
      registrationsPerSecond: registered / (registerMs / 1000),
      registerCpuSeconds: (used.user + used.system) / 1e6,
      ...(dbCpuSeconds === undefined ? {} : { dbCpuSeconds }),
      loadAverage: loadavg(),
      builtAt: new Date().toISOString(),
    };
    writeFileSync(marker, JSON.stringify(report, null, 2));
    return report;
  } finally {
    await registry.close();
  }
}
