/**
 * Where `certgate fleet create`'s time goes, per P-256 device, on one thread, side by
 * side in one run (bench/README.md, "Fleet provisioning"):
 *
 * - the floor: node:crypto (OpenSSL) P-256 key generation plus one ECDSA signature,
 *   nothing encoded — what any issuer on this machine must spend per device;
 * - the keys before: node:crypto key generation plus its PKCS#8 and SPKI PEM export;
 * - the certificates before: the engine's `issueCertificate`, one call per device;
 * - the keys and certificates now: the engine's `generateKeys` + `issueCertificates`
 *   in batches of ISSUE_BATCH (native and wasm);
 * - registration's per-certificate crypto: node:crypto `X509Certificate` parse plus
 *   signature check against the CA (what RegisterCertificates does per certificate).
 *
 * Run: `npm run build:native && npm run build:wasm && vite-node bench/fleet.bench.ts`
 * (`FLEET_BENCH_DEVICES` changes the count; default 5,000).
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { loadEngine } from '../ts/engine/load.js';
import { ENGINE_NAMES } from '../ts/engine/types.js';
import { createFleetCa, generateKey, ISSUE_BATCH, issueDevices } from '../ts/load/provision.js';

const N = Number(process.env.FLEET_BENCH_DEVICES ?? 5000);
const NOW = Math.floor(Date.now() / 1000);

/** CPU (user + system of this process) and wall time of `f`, per device. */
function measure(label: string, f: () => void): void {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const perDevice = (us: number) => `${(us / N).toFixed(0).padStart(5)} µs`;
  console.log(
    `${label.padEnd(58)} CPU ${perDevice(cpu.user + cpu.system)}  wall ${perDevice(wall * 1000)}  (100,000: ${((wall * 100_000) / N / 1000).toFixed(1)} s)`,
  );
}

const native = loadEngine('native');
const ca = createFleetCa(native, 'p256', 'CN=bench fleet CA', NOW);
const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const tbs = randomBytes(330); // about a device certificate's TBSCertificate
console.log(`${N} P-256 devices per row, one thread; batches of ${ISSUE_BATCH}`);

measure('floor: node:crypto keygen + ECDSA sign, nothing encoded', () => {
  for (let i = 0; i < N; i++) {
    generateKeyPairSync('ec', { namedCurve: 'P-256' });
    sign('sha256', tbs, caKey);
  }
});
const keys: Buffer[] = [];
measure('before, keys: node:crypto keygen + PKCS#8/SPKI PEM export', () => {
  for (let i = 0; i < N; i++) {
    const k = generateKey('p256');
    k.privateKey.export({ type: 'pkcs8', format: 'pem' });
    keys.push(Buffer.from(k.publicKey.export({ type: 'spki', format: 'pem' })));
  }
});
measure('before, certificates: issueCertificate per device (native)', () => {
  const caPem = Buffer.from(ca.certificatePem);
  const caPriv = Buffer.from(ca.privateKeyPem);
  for (const k of keys) native.issueCertificate(k, caPem, caPriv, randomBytes(20), NOW);
});
let pems: string[] = [];
for (const name of ENGINE_NAMES) {
  measure(`now: generateKeys + issueCertificates (${name})`, () => {
    pems = issueDevices(loadEngine(name), ca, { count: N, keyType: 'p256', keyPool: 0, nowSeconds: NOW }).map((d) => d.certificatePem);
  });
}
const caX509 = new X509Certificate(ca.certificatePem);
measure('registration crypto: X509Certificate + verify (node:crypto)', () => {
  for (const pem of pems) new X509Certificate(pem).verify(caX509.publicKey);
});
