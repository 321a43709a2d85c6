/**
 * Bulk provisioning: `certgate fleet create` (make and register N devices) and
 * `certgate cert register-many` (register existing certificates). Both register through
 * RegisterCertificates, PROVISION_BATCH certificates per registry transaction, each
 * checked as RegisterCertificate checks it, with a progress bar on a terminal
 * (cli-progress; nothing when stderr is not a TTY).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { MultiBar, SingleBar, Presets } from 'cli-progress';
import { Option, type Command } from 'commander';
import { withSession, type OperatorOptions, type OperatorSession } from '../../control/operator.js';
import { writeFleet } from '../../load/fleet.js';
import { FleetIssuer } from '../../load/fleetIssuer.js';
import {
  batchesOf,
  createFleetCa,
  fleetOf,
  generateKeys,
  KEY_TYPES,
  PROVISION_BATCH,
  type FleetCa,
  type IssuedDevice,
  type KeyType,
  type RegistrationResult,
} from '../../load/provision.js';
import { group } from '../group.js';
import { CliError, EXIT, printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

function progress(label: string, total: number): { update(n: number): void; stop(): void } {
  if (process.stderr.isTTY !== true) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

/** Two bars on a terminal: devices issued (worker threads) and registered (this thread). */
function fleetProgress(total: number): { issued(n: number): void; registered(n: number): void; stop(): void } {
  if (process.stderr.isTTY !== true) return { issued() {}, registered() {}, stop() {} };
  const bars = new MultiBar(
    { format: '{label} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  const issued = bars.create(total, 0, { label: 'issued    ' });
  const registered = bars.create(total, 0, { label: 'registered' });
  return { issued: (n) => issued.update(n), registered: (n) => registered.update(n), stop: () => bars.stop() };
}

/** One RegisterCertificates call (at most PROVISION_BATCH certificates); results in input order. */
async function registerBatch(session: OperatorSession, pems: readonly string[], status: string): Promise<RegistrationResult[]> {
  const out = await session.call('RegisterCertificates', {
    body: { status, certificates: pems.map((certificatePem) => ({ certificatePem })) },
  });
  return (out['results'] as RegistrationResult[] | undefined) ?? [];
}

/** Register PEMs in batches; results in input order. */
async function registerAll(
  session: OperatorSession,
  pems: readonly string[],
  status: string,
  label: string,
): Promise<RegistrationResult[]> {
  const results: RegistrationResult[] = [];
  const bar = progress(label, pems.length);
  try {
    for (let start = 0; start < pems.length; start += PROVISION_BATCH) {
      results.push(...(await registerBatch(session, pems.slice(start, start + PROVISION_BATCH), status)));
      bar.update(results.length);
    }
  } finally {
    bar.stop();
  }
  return results;
}

function summarise(results: readonly RegistrationResult[]): {
  registered: number;
  refused: { index: number; code: string; message: string }[];
} {
  const refused = results.flatMap((r, index) => (r.error === undefined ? [] : [{ index, ...r.error }]));
  return { registered: results.length - refused.length, refused };
}

interface FleetCreateOptions extends OperatorOptions {
  count: string;
  out: string;
  ca: string;
  caKey?: string;
  caCert?: string;
  keyType: KeyType;
  caKeyType: KeyType;
  keyPool: string;
  revoked: string;
  workers: string;
}

interface RegisterManyOptions extends OperatorOptions {
  status: string;
}

/** The certificatePem of each line of an NDJSON file. */
function ndjson(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      let pem: unknown;
      try {
        pem = (JSON.parse(line) as { certificatePem?: unknown }).certificatePem;
      } catch {
        throw new CliError(`${file}:${i + 1}: not JSON`, EXIT.usage);
      }
      if (typeof pem !== 'string') throw new CliError(`${file}:${i + 1}: no certificatePem`, EXIT.usage);
      return pem;
    });
}

/** PEM certificates from a directory of *.pem/*.crt files, a fleet directory, or an NDJSON file. */
function certificatesFrom(source: string): string[] {
  let stat;
  try {
    stat = statSync(source);
  } catch (err) {
    throw new CliError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.usage);
  }
  if (!stat.isDirectory()) return ndjson(source);
  const fleetDevices = path.join(source, 'devices.ndjson');
  try {
    if (statSync(fleetDevices).isFile()) return ndjson(fleetDevices);
  } catch {
    // not a fleet directory: read its PEM files
  }
  const files = readdirSync(source).filter((f) => /\.(pem|crt)$/.test(f));
  files.sort();
  if (files.length === 0) throw new CliError(`${source} holds no *.pem or *.crt file and no devices.ndjson`, EXIT.usage);
  return files.map((f) => readFileSync(path.join(source, f), 'utf8'));
}

function positive(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(`${flag} must be an integer in [${min}, ${max}], got "${text}"`, EXIT.usage);
  return n;
}

export function register(program: Command): void {
  const fleet = group(program, 'fleet', 'provision test fleets of devices (keys, certificates, bulk registration)');
  operatorOptions(
    fleet
      .command('create')
      .description('make N device keys and certificates, register them in bulk, and write a fleet directory for `certgate load`')
      .requiredOption('--count <n>', 'devices to create')
      .requiredOption('--out <dir>', 'fleet directory to write (fleet.json, devices.ndjson with keys: owner-only)')
      .option(
        '--ca <new|id>',
        'NEW: make a CA and register it (SNI_ONLY mode, ACTIVE); or the id of a registered ACTIVE CA (needs --ca-key)',
        'new',
      )
      .option('--ca-key <file>', 'PKCS#8 PEM private key of the registered CA given with --ca')
      .addOption(new Option('--key-type <type>', 'device key type').choices([...KEY_TYPES]).default('p256'))
      .addOption(
        new Option('--ca-key-type <type>', 'key type of a new CA (it signs with ECDSA or RSA PKCS#1 v1.5 accordingly)')
          .choices([...KEY_TYPES])
          .default('p256'),
      )
      .option(
        '--key-pool <n>',
        'reuse N key pairs across the fleet (distinct certificates, serials and ids; a test-fleet shortcut for slow RSA key generation; 0 = one key per device)',
        '0',
      )
      .option('--revoked <n>', 'register the last N devices REVOKED (load tests expect them denied)', '0')
      .option(
        '--workers <n>',
        'worker threads making keys and certificates while the main thread registers (0 = all on the main thread)',
        String(availableParallelism()),
      )
      .addHelpText(
        'after',
        `
Examples:
  certgate fleet create --count 100000 --out ./fleet                 # P-256 devices under a new CA
  certgate fleet create --count 1000 --revoked 100 --out ./fleet     # 10 % revoked, for --revoked-share
  certgate fleet create --count 10000 --key-type rsa2048 --key-pool 100 --out ./rsa-fleet
  certgate fleet create --count 500 --ca 9f3e… --ca-key ca.key --out ./more
  certgate fleet create --count 100000 --workers 4 --out ./fleet      # more threads on a bigger machine

Then: certgate load --fleet ./fleet`,
      ),
  ).action(
    action(async (o: FleetCreateOptions) => {
      const count = positive(o.count, '--count', 1, 10_000_000);
      const keyPool = positive(o.keyPool, '--key-pool', 0, 10_000_000);
      const revokedCount = positive(o.revoked, '--revoked', 0, count);
      const workers = positive(o.workers, '--workers', 0, 256);
      const started = performance.now();
      await withSession(o, async (session) => {
        const accountId = await session.accountId();
        const engine = session.plane.ctx.engine;
        const now = Math.floor(Date.now() / 1000);
        let ca: FleetCa;
        if (o.ca.toLowerCase() === 'new') {
          ca = createFleetCa(engine, o.caKeyType, `CN=certgate fleet CA ${now},O=certgate`, now);
          await session.call('RegisterCACertificate', {
            body: { caCertificate: ca.certificatePem, certificateMode: 'SNI_ONLY' },
            query: { setAsActive: 'true' },
          });
        } else {
          if (o.caKey === undefined) throw new CliError('--ca ID needs --ca-key FILE (the CA signs the devices)', EXIT.usage);
          const described = await session.call('DescribeCACertificate', { params: { caCertificateId: o.ca } });
          const pem = (described['certificateDescription'] as { certificatePem?: string } | undefined)?.certificatePem;
          if (pem === undefined) throw new CliError(`CA ${o.ca} has no certificate`, EXIT.failed);
          ca = { certificatePem: pem, privateKeyPem: readFileSync(o.caKey, 'utf8') };
        }
        // Batches are made in the worker threads and registered here as each finishes,
        // in order; none crosses `split`, where the REVOKED devices start.
        const split = count - revokedCount;
        const pool = keyPool > 0 ? generateKeys(engine, o.keyType, Math.min(keyPool, count)) : [];
        const issuer = new FleetIssuer(engine, ca, workers);
        const bars = fleetProgress(count);
        const devices: IssuedDevice[] = [];
        const results: RegistrationResult[] = [];
        let issued = 0;
        let issuedAt = started;
        let registerMs = 0;
        try {
          const pending = batchesOf(count, split, PROVISION_BATCH).map((b) => {
            const made = issuer.issue({ ...b, keyType: o.keyType, pool, nowSeconds: now });
            made.then(
              (d) => {
                issued += d.length;
                issuedAt = performance.now();
                bars.issued(issued);
              },
              () => {}, // reported where it is awaited below
            );
            return { start: b.start, made };
          });
          for (const { start, made } of pending) {
            const batch = await made;
            const t = performance.now();
            results.push(
              ...(await registerBatch(
                session,
                batch.map((d) => d.certificatePem),
                start >= split ? 'REVOKED' : 'ACTIVE',
              )),
            );
            registerMs += performance.now() - t;
            devices.push(...batch);
            bars.registered(results.length);
          }
        } finally {
          bars.stop();
          await issuer.close();
        }
        const { registered, refused } = summarise(results);
        const endpoint = await session.call('DescribeEndpoint', { query: { endpointType: 'iot:Data-ATS' } });
        const sni = String(endpoint['endpointAddress']);
        const revoked = new Set(devices.slice(split).map((d) => d.certificateId));
        const ok = devices.filter((_, i) => results[i]?.error === undefined);
        writeFleet(o.out, fleetOf(sni, accountId, ok, revoked));
        writeFileSync(path.join(o.out, 'ca.pem'), ca.certificatePem);
        writeFileSync(path.join(o.out, 'ca.key'), ca.privateKeyPem, { mode: 0o600 });
        const seconds = (performance.now() - started) / 1000;
        const summary = {
          accountId,
          sni,
          devices: count,
          registered,
          revoked: revokedCount,
          refused: refused.slice(0, 10),
          keyType: o.keyType,
          keyPool,
          out: o.out,
          workers,
          seconds: Number(seconds.toFixed(1)),
          // The last certificate issued, from the start (issuance overlaps registration).
          issueSeconds: Number(((issuedAt - started) / 1000).toFixed(1)),
          // Time this thread spent in RegisterCertificates calls.
          registerSeconds: Number((registerMs / 1000).toFixed(1)),
        };
        if (o.json) printJson(summary);
        else {
          printTable(
            ['ACCOUNT', 'ENDPOINT', 'DEVICES', 'REGISTERED', 'REVOKED', 'REFUSED', 'SECONDS', 'OUT'],
            [[accountId, sni, count, registered, revokedCount, refused.length, summary.seconds, o.out]],
          );
          for (const r of refused.slice(0, 10)) process.stderr.write(`device ${r.index}: ${r.code}: ${r.message}\n`);
        }
        if (refused.length > 0) process.exitCode = EXIT.failed;
      });
    }),
  );

  const cert = group(program, 'cert', 'device certificates');
  operatorOptions(
    cert
      .command('register-many')
      .description('register many certificates signed by registered CAs, in bulk (RegisterCertificate rules for each)')
      .argument('<source>', 'a directory of *.pem/*.crt files, a fleet directory, or an NDJSON file with certificatePem per line')
      .option('--status <status>', 'ACTIVE, INACTIVE or REVOKED', 'ACTIVE')
      .addHelpText(
        'after',
        `
Examples:
  certgate cert register-many ./certs/              # every *.pem and *.crt file
  certgate cert register-many devices.ndjson --status INACTIVE
  certgate cert register-many ./fleet --json         # a fleet directory's devices

Each certificate must be signed by a CA registered ACTIVE in the account. Refused
certificates are listed (exit 3); the others are registered.`,
      ),
  ).action(
    action(async (source: string, o: RegisterManyOptions) => {
      const pems = certificatesFrom(source);
      await withSession(o, async (session) => {
        const results = await registerAll(session, pems, o.status, 'registering');
        const { registered, refused } = summarise(results);
        if (o.json) printJson({ registered, refused, results });
        else {
          printTable(['CERTIFICATES', 'REGISTERED', 'REFUSED'], [[pems.length, registered, refused.length]]);
          for (const r of refused) process.stderr.write(`certificate ${r.index}: ${r.code}: ${r.message}\n`);
        }
        if (refused.length > 0) process.exitCode = EXIT.failed;
      });
    }),
  );
}
