/**
 * CRL refresh from a CA's distribution point (branch crlrefresh, `serve --crl-refresh`):
 * a real HTTP server on loopback serves the CRL; the refresher stores it through
 * replaceCrl (engine-verified) and a listed device is denied; garbage, HTTP 500, a
 * forged signer, a lower CRL number or an oversized body keep the last good CRL and
 * show in the metrics and the `/readyz` body. Both engines.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { Registry as PromRegistry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrlRefresher, readyDetailOf } from '../../ts/crl/refresh.js';
import { loadEngine } from '../../ts/engine/load.js';
import { ENGINE_NAMES, type EngineName } from '../../ts/engine/types.js';
import { createAuthzHttpServer } from '../../ts/ingress/http.js';
import { registerCrlRefreshMetrics } from '../../ts/metrics/crlRefreshMetrics.js';
import { DEFAULT_ADMISSION } from '../../ts/server/admission.js';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { ConfigError, parseServeConfig } from '../../ts/server/config.js';
import { startServe, type ServeProcess } from '../ingress/serveProcess.js';
import { testAuthorizer } from './authorizer.js';
import { DATES, certificate, crlPem, identity, revocationList, type Cert, type Identity } from './pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from './world.js';

/** A distribution point on loopback whose answer the test sets. */
interface Cdp {
  url: string;
  answer: { status: number; body: Buffer | string };
  hits: number;
  close(): Promise<void>;
}

async function startCdp(): Promise<Cdp> {
  const cdp = { answer: { status: 404, body: '' as Buffer | string }, hits: 0 } as Cdp;
  const server: Server = createServer((_req, res) => {
    cdp.hits++;
    // Status 0: never answer (a hung distribution point).
    if (cdp.answer.status === 0) return;
    res.writeHead(cdp.answer.status, { 'content-type': 'application/pkix-crl' });
    res.end(cdp.answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cdp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fleet.crl`;
  cdp.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return cdp;
}

/** Register `ca` ACTIVE in account A. */
async function registerCa(world: World, ca: Cert, engineName: EngineName): Promise<void> {
  const info = loadEngine(engineName).inspect(ca.der);
  if (!info.ok) throw new Error(info.message);
  await world.registry.insertCaCertificate({
    accountId: ACCOUNT_A,
    certificateId: ca.id,
    certificatePem: ca.pem,
    notBefore: DATES.notBefore,
    notAfter: DATES.notAfter,
    status: 'ACTIVE',
    certificateMode: 'DEFAULT',
    autoRegistrationStatus: 'DISABLE',
    subject: info.subject,
    registrationConfig: null,
    tags: [],
  });
}

describe.each(ENGINE_NAMES)('CRL refresh from the distribution point with the %s engine', (engineName: EngineName) => {
  let world: World;
  let cdp: Cdp;
  beforeEach(async () => {
    world = await createWorld();
    cdp = await startCdp();
  });
  afterEach(async () => {
    await cdp.close();
    world.dispose();
  });

  it('inspect lists the http(s) distribution points of a certificate, and none when it has none', () => {
    const engine = loadEngine(engineName);
    const ca = certificate({
      subject: identity('CDP CA', 'p256'),
      ca: true,
      crlUrls: ['ldap://ldap.example.test/cn=CA', 'http://crl.example.test/a.crl', 'https://crl.example.test/b.crl'],
    });
    expect(engine.inspect(ca.der)).toMatchObject({
      ok: true,
      crlDistributionPoints: ['http://crl.example.test/a.crl', 'https://crl.example.test/b.crl'],
    });
    expect(engine.inspect(world.ca.der)).toMatchObject({ ok: true, crlDistributionPoints: [] });
  });

  it('stores the fetched CRL (a listed device is denied), keeps it through garbage, 500, a forged signer, a lower number and an oversized body, and says so in metrics and /readyz', async () => {
    const caId: Identity = identity('Refreshed CA', 'p256');
    const ca = certificate({ subject: caId, ca: true, crlUrls: [cdp.url] });
    await registerCa(world, ca, engineName);
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: caId, serial: 0x4242n });
    await world.register(leaf, { caId: ca.id, mode: 'DEFAULT' });
    const engine = loadEngine(engineName);
    const refresher = new CrlRefresher({
      registry: world.registry,
      engine,
      intervalMs: 3_600_000,
      now: () => DATES.now * 1000,
      maxBytes: 64 * 1024,
    });
    const prom = new PromRegistry();
    registerCrlRefreshMetrics(refresher, [prom]);
    const metric = async (name: string) => (await prom.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
    const crl = (number: bigint, issuer = caId) => revocationList({ issuer, serials: [0x4242n], number, thisUpdate: DATES.now - 60 });

    // Before any CRL: allowed.
    expect((await testAuthorizer(world, { engine: engineName }).authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);

    cdp.answer = { status: 200, body: crl(5n) };
    await refresher.refreshAll();
    expect(cdp.hits).toBe(1);
    expect(await world.registry.getCaCrlMeta(ACCOUNT_A, ca.id)).toMatchObject({
      crlNumber: '5',
      entries: 1,
      source: 'DISTRIBUTION_POINT',
      sourceUrl: cdp.url,
    });
    expect(await testAuthorizer(world, { engine: engineName }).authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'CERTIFICATE_REVOKED_BY_CA',
    });
    expect(await metric('certgate_crl_refresh_total')).toEqual([
      'certgate_crl_refresh_total{result="ok"} 1',
      'certgate_crl_refresh_total{result="failed"} 0',
    ]);
    expect(await metric('certgate_crl_refresh_failing')).toEqual(['certgate_crl_refresh_failing 0']);
    expect(refresher.stats().failing).toEqual([]);

    // The same CRL again (PEM this time): unchanged, still ok.
    cdp.answer = { status: 200, body: crlPem(crl(5n)) };
    await refresher.refreshAll();
    expect(refresher.stats()).toMatchObject({ ok: 2, failed: 0 });

    const failures: [Cdp['answer'], string][] = [
      [{ status: 200, body: 'this is not a CRL' }, 'BAD_CRL'],
      [{ status: 500, body: 'oops' }, 'HTTP_STATUS'],
      // Same name as the CA, another key: a forged signer.
      [{ status: 200, body: crl(6n, identity('Refreshed CA', 'p256', false)) }, 'BAD_SIGNATURE'],
      [{ status: 200, body: crl(4n) }, 'CRL_NUMBER_REGRESSED'],
      [{ status: 200, body: Buffer.alloc(64 * 1024 + 1, 0x30) }, 'CRL_TOO_LARGE'],
    ];
    for (const [i, [answer, code]] of failures.entries()) {
      cdp.answer = answer;
      await refresher.refreshAll();
      const failing = refresher.stats().failing;
      expect(failing).toHaveLength(1);
      expect(failing[0]).toMatchObject({ accountId: ACCOUNT_A, caCertificateId: ca.id, url: cdp.url, lastSuccess: DATES.now });
      expect(failing[0]?.lastError?.code).toBe(code);
      // The last good CRL stays, and still denies the listed device.
      expect(await world.registry.getCaCrlMeta(ACCOUNT_A, ca.id)).toMatchObject({ crlNumber: '5', source: 'DISTRIBUTION_POINT' });
      expect(await testAuthorizer(world, { engine: engineName }).authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
        allow: false,
        reason: 'CERTIFICATE_REVOKED_BY_CA',
      });
      expect(await metric('certgate_crl_refresh_total')).toEqual([
        'certgate_crl_refresh_total{result="ok"} 2',
        `certgate_crl_refresh_total{result="failed"} ${i + 1}`,
      ]);
      expect(await metric('certgate_crl_refresh_failing')).toEqual(['certgate_crl_refresh_failing 1']);
    }

    // /readyz stays 200 and names the failing CA.
    const http = createAuthzHttpServer({
      authorizer: testAuthorizer(world, { engine: engineName }).authorizer,
      limits: DEFAULT_LIMITS,
      envoySniHeader: 'x-certgate-sni',
      metrics: undefined,
      admission: DEFAULT_ADMISSION,
      ready: () => Promise.resolve(true),
      readyDetail: () => ({ ...readyDetailOf(refresher.stats()) }),
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        status: 'ready',
        crlRefreshFailing: [
          {
            accountId: ACCOUNT_A,
            caCertificateId: ca.id,
            url: cdp.url,
            code: 'CRL_TOO_LARGE',
            message: expect.stringContaining('exceeds') as string,
            lastSuccess: new Date(DATES.now * 1000).toISOString(),
          },
        ],
      });
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }

    // A newer CRL that no longer lists the device: stored, allowed again, not failing.
    cdp.answer = { status: 200, body: revocationList({ issuer: caId, serials: [], number: 7n, thisUpdate: DATES.now - 60 }) };
    await refresher.refreshAll();
    expect(refresher.stats().failing).toEqual([]);
    expect(await metric('certgate_crl_refresh_failing')).toEqual(['certgate_crl_refresh_failing 0']);
    expect((await testAuthorizer(world, { engine: engineName }).authorizer.authorize(SNI_A, [leaf.pem])).allow).toBe(true);
  });

  it('reports a round that cannot read the registry and keeps its schedule (no unhandled rejection)', async () => {
    const broken = Object.create(world.registry) as typeof world.registry;
    broken.listAccounts = () => Promise.reject(new Error('registry unreadable'));
    const errors: unknown[] = [];
    const refresher = new CrlRefresher({
      registry: broken,
      engine: loadEngine(engineName),
      intervalMs: 20,
      onRoundError: (e) => errors.push(e),
    });
    refresher.start();
    await eventually(
      () => Promise.resolve(errors.length),
      (n) => n >= 2,
    );
    await refresher.stop();
    expect(String(errors[0])).toContain('registry unreadable');
  });

  it('gives up on a distribution point that does not answer within the timeout (FETCH_TIMEOUT), or cannot be reached (FETCH_FAILED)', async () => {
    const caId = identity('Hung CDP CA', 'p256', false);
    const ca = certificate({ subject: caId, ca: true, crlUrls: [cdp.url] });
    await registerCa(world, ca, engineName);
    const refresher = new CrlRefresher({
      registry: world.registry,
      engine: loadEngine(engineName),
      intervalMs: 3_600_000,
      now: () => DATES.now * 1000,
      timeoutMs: 300,
    });
    cdp.answer = { status: 0, body: '' };
    const started = Date.now();
    await refresher.refreshAll();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(refresher.stats().failing[0]?.lastError?.code).toBe('FETCH_TIMEOUT');
    await cdp.close();
    await refresher.refreshAll();
    expect(refresher.stats().failing[0]?.lastError?.code).toBe('FETCH_FAILED');
    expect(refresher.stats()).toMatchObject({ ok: 0, failed: 2 });
  });

  it('skips CAs without a distribution point and INACTIVE CAs', async () => {
    const caId = identity('Inactive CDP CA', 'p256', false);
    const ca = certificate({ subject: caId, ca: true, crlUrls: [cdp.url] });
    await registerCa(world, ca, engineName);
    await world.registry.updateCaCertificate(ACCOUNT_A, ca.id, { status: 'INACTIVE' });
    const refresher = new CrlRefresher({
      registry: world.registry,
      engine: loadEngine(engineName),
      intervalMs: 3_600_000,
      now: () => DATES.now * 1000,
    });
    await refresher.refreshAll();
    expect(cdp.hits).toBe(0);
    expect(refresher.stats()).toEqual({ ok: 0, failed: 0, failing: [] });
  });
});

describe('--crl-refresh', () => {
  it('is off by default, takes seconds, and refuses other values', () => {
    expect(parseServeConfig({}).crlRefreshSeconds).toBe(0);
    expect(parseServeConfig({ crlRefresh: '300' }).crlRefreshSeconds).toBe(300);
    expect(() => parseServeConfig({ crlRefresh: '-1' })).toThrow(ConfigError);
    expect(() => parseServeConfig({ crlRefresh: '5m' })).toThrow(ConfigError);
  });
});

/** Read until `ok` holds (10 s at most). */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 100; i++) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never reached; last ${JSON.stringify(last)}`);
}

describe.each(['1', '2'])('certgate serve --crl-refresh with --processes %s', (processes: string) => {
  let world: World;
  let cdp: Cdp;
  let serve: ServeProcess | undefined;
  beforeEach(async () => {
    world = await createWorld();
    cdp = await startCdp();
  });
  afterEach(async () => {
    serve?.kill();
    await cdp.close();
    world.dispose();
  });

  it('the one refresher stores the CRL, every process denies the listed device, and a failing fetch shows in /readyz (still 200) and /metrics', async () => {
    const caId = identity('Served CDP CA', 'p256', false);
    const ca = certificate({ subject: caId, ca: true, crlUrls: [cdp.url] });
    await registerCa(world, ca, 'native');
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: caId, serial: 0x77n });
    await world.register(leaf, { caId: ca.id, mode: 'DEFAULT' });
    const realNow = Math.floor(Date.now() / 1000);
    cdp.answer = { status: 200, body: revocationList({ issuer: caId, serials: [0x77n], number: 1n, thisUpdate: realNow - 60 }) };

    serve = startServe(
      [
        '--processes',
        processes,
        '--admin-port',
        '0',
        '--authz-port',
        '0',
        '--grpc-port',
        '0',
        '--crl-refresh',
        '1',
        '--config-cache-ms',
        '0',
      ],
      { CERTGATE_DB: world.dbPath },
    );
    const { authz } = await serve.waitFor((l) => l.msg === 'listening');
    const reason = async () => {
      const res = await request(`${authz}/v1/authorize`, { method: 'POST', body: JSON.stringify({ sni: SNI_A, certChain: [leaf.pem] }) });
      return ((await res.body.json()) as { reason: string }).reason;
    };
    await eventually(reason, (r) => r === 'CERTIFICATE_REVOKED_BY_CA');
    // Both workers (several requests spread over the shared socket).
    for (let i = 0; i < 6; i++) expect(await reason()).toBe('CERTIFICATE_REVOKED_BY_CA');
    expect(await world.registry.getCaCrlMeta(ACCOUNT_A, ca.id)).toMatchObject({ source: 'DISTRIBUTION_POINT', sourceUrl: cdp.url });

    cdp.answer = { status: 500, body: 'down' };
    const readyz = async () => {
      const res = await request(`${authz}/readyz`);
      return {
        status: res.statusCode,
        body: (await res.body.json()) as { status: string; crlRefreshFailing: { caCertificateId: string; code: string }[] },
      };
    };
    const ready = await eventually(readyz, (r) => r.body.crlRefreshFailing.length === 1);
    expect(ready).toMatchObject({
      status: 200,
      body: { status: 'ready', crlRefreshFailing: [{ caCertificateId: ca.id, code: 'HTTP_STATUS', url: cdp.url }] },
    });
    const metrics = await (await request(`${authz}/metrics`)).body.text();
    expect(metrics).toMatch(/^certgate_crl_refresh_failing 1$/m);
    expect(metrics).toMatch(/^certgate_crl_refresh_total\{result="failed"\} [1-9]/m);
    // The last good CRL stays in force.
    expect(await reason()).toBe('CERTIFICATE_REVOKED_BY_CA');
  });
});
