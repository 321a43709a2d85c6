/**
 * A 1,000,000-entry CRL (branch crl): the time to load it as an authorizer process does
 * (engine `verifyCrl`: parse + signature + serial list, then the `Set` of serials), the
 * memory that set keeps, and the cost of one lookup. Both engines, one run, same CRL.
 *
 * Run: `npm run build:native && npm run build:wasm && node --expose-gc node_modules/.bin/vite-node bench/crl.bench.ts`
 * (`CRL_ENTRIES` changes the size; default 1,000,000).
 */
import { randomBytes } from 'node:crypto';
import { loadEngine } from '../ts/engine/load.js';
import { ENGINE_NAMES } from '../ts/engine/types.js';
import { DATES, certificate, identity, revocationList } from '../test/authz/pki.js';

const ENTRIES = Number(process.env.CRL_ENTRIES ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

const issuer = identity('Bench CRL CA', 'p256');
const ca = certificate({ subject: issuer, ca: true });
// 20-byte serials as certgate issues them (the top bit cleared: positive, no padding).
const serials: bigint[] = [];
for (let i = 0; i < ENTRIES; i++) {
  const b = randomBytes(20);
  b[0] = (b[0] ?? 0) & 0x7f;
  serials.push(BigInt(`0x${b.toString('hex')}`));
}
let started = performance.now();
const crl = revocationList({ issuer, serials, number: 1n, thisUpdate: DATES.now - 60, nextUpdate: DATES.now + 86_400 });
console.log(
  `CRL: ${ENTRIES} entries, ${(crl.length / 1e6).toFixed(1)} MB DER, built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
/** The engine's spelling: hex of the INTEGER content octets (minimal, 00 before a high bit). */
function spelled(s: bigint): string {
  let h = s.toString(16);
  if (h.length % 2 === 1) h = `0${h}`;
  return Number.parseInt(h.slice(0, 2), 16) >= 0x80 ? `00${h}` : h;
}
const probes = serials.slice(0, 100_000).map(spelled);
const absent = probes.map((p) => `${p}ff`);

for (const name of ENGINE_NAMES) {
  const engine = loadEngine(name);
  const base = heapMb();
  const rssBase = process.memoryUsage().rss / 1e6;
  started = performance.now();
  const verified = engine.verifyCrl(crl, ca.der, DATES.now, null);
  const verifyMs = performance.now() - started;
  if (!verified.ok) throw new Error(`${verified.code}: ${verified.message}`);
  started = performance.now();
  const set = new Set(verified.revokedSerials);
  const setMs = performance.now() - started;
  (verified as { revokedSerials: string[] }).revokedSerials = [];
  const setMb = heapMb() - base;
  const rssPeak = process.memoryUsage().rss / 1e6 - rssBase;
  let hits = 0;
  started = performance.now();
  for (let round = 0; round < 10; round++) {
    for (const p of probes) if (set.has(p)) hits++;
    for (const p of absent) if (set.has(p)) hits++;
  }
  const lookupNs = ((performance.now() - started) * 1e6) / (probes.length * 20);
  if (hits !== probes.length * 10) throw new Error(`expected ${probes.length * 10} hits, got ${hits}`);
  console.log(
    `${name}: verifyCrl ${(verifyMs / 1000).toFixed(2)} s, Set ${(setMs / 1000).toFixed(2)} s, load total ${((verifyMs + setMs) / 1000).toFixed(2)} s; ` +
      `Set heap ${setMb.toFixed(0)} MB (${((setMb * 1e6) / set.size).toFixed(0)} B/entry), RSS growth during load ${rssPeak.toFixed(0)} MB; lookup ${lookupNs.toFixed(0)} ns`,
  );
  set.clear();
}
