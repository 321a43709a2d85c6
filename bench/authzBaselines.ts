/**
 * The servers certgate is compared with, served the same way as `certgate serve`
 * (node:cluster, one process per core, loopback, keep-alive):
 *
 *   bare-http          node:http answering POST /v1/authorize with a constant allow
 *   naive-http <db>    what a user would write with node:crypto: parse the leaf with
 *                      X509Certificate, look it up in the same registry, verify against
 *                      the registered CA with X509Certificate.verify, no cache
 *   bare-grpc          grpc-js Authorization/Check (real Envoy protos) answering OK
 *   bare-const         node:http answering every request with a constant allow without
 *                      reading or parsing the body (node:http drains it): the cheapest
 *                      server there is on this stack (issue 15's bare baseline)
 *   naive-mem <db>     the strongest simple authorizer (issue 15): the registry's
 *                      certificate ids and statuses loaded into a Map at start, the CA
 *                      parsed once (X509Certificate + its KeyObject); per request
 *                      JSON.parse, X509Certificate of the leaf, its SHA-256 id, validity,
 *                      a Map lookup, checkIssued + verify against the CA key
 *   json-floor         the price of a JSON door on node:http (issue 15): the body read as
 *                      certgate's JSON door reads it (ts/ingress/http.ts readBody) and
 *                      JSON.parse'd, answered with a constant allow shaped like certgate's
 *                      (same status, the same x-certgate-* headers, a body of the same
 *                      size, encoded by certgate's own encoder once at start); no decision
 *   floor-http <db>    not a contender but a bound: node:http plus only the signature work
 *                      of a cold request — the native engine's verifyChain of the leaf
 *                      against the registered CA (read once at start) — with no registry
 *                      read, routing or cache. No authorizer that checks the chain on
 *                      every cold request, served this way, can be faster.
 *
 * Run as `vite-node bench/authzBaselines.ts` with `BENCH_MODE=<mode>` (and `BENCH_DB`);
 * the primary prints one JSON line `{"port": N}` once every worker listens on the shared
 * port. Workers are forked through vite-node too (they are TypeScript).
 */
import cluster from 'node:cluster';
import { X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { pemToDers } from '../ts/authz/chain.js';
import { loadEngine } from '../ts/engine/load.js';
import { authorizationService } from '../ts/ingress/envoyProtos.js';
import { answerEncoder, readBody } from '../ts/ingress/http.js';
import { openRegistry } from '../ts/registry/open.js';
import type { Registry } from '../ts/registry/types.js';

const PROCESSES = 2;
const mode = process.env.BENCH_MODE ?? 'bare-http';
const db = process.env.BENCH_DB ?? '';

const ALLOW = JSON.stringify({ allow: true, reason: 'CERTIFICATE_ACTIVE' });

function readJson(req: http.IncomingMessage): Promise<{ sni?: string; certChain?: string[] }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sni?: string; certChain?: string[] });
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

/** The naive authorizer: correct, uncached, node:crypto for every certificate. */
async function naiveDecide(registry: Registry, sni: string, pems: string[]): Promise<boolean> {
  const [leafPem = '', ...intermediatePems] = pems;
  const leaf = new X509Certificate(leafPem);
  const certificateId = leaf.fingerprint256.replaceAll(':', '').toLowerCase();
  const now = Date.now();
  if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) return false;
  const account = await registry.accountForHost(sni.toLowerCase());
  if (account === null) return false;
  const record = await registry.getCertificate(account.accountId, certificateId);
  if (record === null || record.status !== 'ACTIVE') return false;
  if (record.caCertificateId === null) return true;
  const ca = await registry.getCaCertificate(account.accountId, record.caCertificateId);
  if (ca === null) return false;
  // Walk the presented chain: each certificate issued and signed by the next, the last
  // one by the registered CA.
  const path = [leaf, ...intermediatePems.map((p) => new X509Certificate(p)), new X509Certificate(ca.certificatePem)];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i] as X509Certificate;
    const issuer = path[i + 1] as X509Certificate;
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) return false;
  }
  return true;
}

/** The floor: the engine's chain verification alone, against a CA read once (BENCH_FLOOR_ENGINE: native, or wasm). */
async function floorDecider(registry: Registry): Promise<(pems: string[]) => boolean> {
  const engine = loadEngine(process.env.BENCH_FLOOR_ENGINE === 'wasm' ? 'wasm' : 'native');
  const account = await registry.accountForHost(process.env.BENCH_SNI ?? '');
  const [ca] = account === null ? [] : (await registry.listCaCertificates(account.accountId, { pageSize: 1, ascending: true })).items;
  const caDers = ca === undefined ? 'no CA' : pemToDers(ca.certificatePem);
  if (typeof caDers === 'string') throw new Error(`floor-http: the bench registry has no CA for BENCH_SNI (${caDers})`);
  return (pems) => {
    const ders = pems.flatMap((p) => {
      const d = pemToDers(p);
      return typeof d === 'string' ? [] : d;
    });
    const [leaf, ...intermediates] = ders;
    return leaf !== undefined && engine.verifyChain(leaf, intermediates, caDers, Math.floor(Date.now() / 1000), 'client').ok;
  };
}

function httpServer(registry: Registry | null, floor: ((pems: string[]) => boolean) | null): http.Server {
  return http.createServer((req, res) => {
    void readJson(req).then(async (body) => {
      const chain = body.certChain ?? [];
      const allow = floor !== null ? floor(chain) : registry === null ? true : await naiveDecide(registry, body.sni ?? '', chain);
      const text = allow ? ALLOW : JSON.stringify({ allow: false });
      res.writeHead(allow ? 200 : 403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
}

/** naive-mem: the registry in memory (certificate id → status) and the CAs parsed once. */
function memoryAuthorizer(): (sni: string, pems: string[]) => boolean {
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  const status = new Map<string, { status: string; ca: string | null }>();
  for (const row of sqlite.prepare('SELECT account_id, certificate_id, status, ca_certificate_id FROM certificates').iterate()) {
    const r = row as { account_id: string; certificate_id: string; status: string; ca_certificate_id: string | null };
    status.set(`${r.account_id}/${r.certificate_id}`, { status: r.status, ca: r.ca_certificate_id });
  }
  const cas = new Map<string, { cert: X509Certificate; key: KeyObject }>();
  for (const row of sqlite.prepare('SELECT account_id, certificate_id, certificate_pem FROM ca_certificates').iterate()) {
    const r = row as { account_id: string; certificate_id: string; certificate_pem: string };
    const cert = new X509Certificate(r.certificate_pem);
    cas.set(`${r.account_id}/${r.certificate_id}`, { cert, key: cert.publicKey });
  }
  const accounts = new Map<string, string>();
  for (const row of sqlite.prepare('SELECT account_id, endpoint_prefix FROM accounts').iterate()) {
    const r = row as { account_id: string; endpoint_prefix: string };
    accounts.set(r.endpoint_prefix, r.account_id);
  }
  sqlite.close();
  return (sni, pems) => {
    const account = accounts.get(sni.toLowerCase().split('-ats.')[0] ?? '');
    const [leafPem] = pems;
    if (account === undefined || leafPem === undefined) return false;
    const leaf = new X509Certificate(leafPem);
    const now = Date.now();
    if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) return false;
    const record = status.get(`${account}/${leaf.fingerprint256.replaceAll(':', '').toLowerCase()}`);
    if (record === undefined || record.status !== 'ACTIVE') return false;
    if (record.ca === null) return true;
    const ca = cas.get(`${account}/${record.ca}`);
    return ca !== undefined && leaf.checkIssued(ca.cert) && leaf.verify(ca.key);
  };
}

async function worker(): Promise<number> {
  if (mode === 'bare-const') {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': ALLOW.length });
      res.end(ALLOW);
    });
    server.keepAliveTimeout = 75_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  if (mode === 'json-floor') {
    // certgate's allow for a device of the bench fleet: a 64-hex certificateId, a 12-digit
    // account, DEFAULT mode, no things (bench/fleetTraffic.ts's fleet).
    const { status, headers, body } = answerEncoder(false)(
      {
        allow: true,
        reason: 'CERTIFICATE_ACTIVE',
        certificateId: 'f'.repeat(64),
        accountId: '123456789012',
        certificateMode: 'DEFAULT',
        things: [],
      },
      false,
    );
    const server = http.createServer((req, res) => {
      readBody(req, 1 << 20, (err, raw) => {
        if (err !== undefined || raw === undefined) {
          res.writeHead(400).end();
          return;
        }
        JSON.parse(raw.toString('utf8'));
        res.writeHead(status, headers as string[]);
        res.end(body);
      });
    });
    server.keepAliveTimeout = 75_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  if (mode === 'naive-mem') {
    const decide = memoryAuthorizer();
    const server = http.createServer((req, res) => {
      void readJson(req).then((body) => {
        const allow = decide(body.sni ?? '', body.certChain ?? []);
        const text = allow ? ALLOW : JSON.stringify({ allow: false });
        res.writeHead(allow ? 200 : 403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    server.keepAliveTimeout = 75_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  if (mode === 'bare-grpc') {
    const server = new grpc.Server();
    server.addService(authorizationService().service, {
      Check: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { status: { code: 0, message: '' }, ok_response: {} }),
    });
    return new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }
  const registry = mode === 'naive-http' || mode === 'floor-http' ? openRegistry({ path: db }) : null;
  const floor = mode === 'floor-http' && registry !== null ? await floorDecider(registry) : null;
  const server = httpServer(registry, floor);
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

if (cluster.isPrimary) {
  const viteNode = createRequire(import.meta.url).resolve('vite-node/vite-node.mjs');
  cluster.setupPrimary({ exec: viteNode, args: [fileURLToPath(import.meta.url)] });
  let ready = 0;
  cluster.on('message', (_w, message: { port: number }) => {
    if (++ready === PROCESSES) process.stdout.write(`${JSON.stringify({ port: message.port })}\n`);
  });
  for (let i = 0; i < PROCESSES; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const port = await worker();
  process.send?.({ port });
}
