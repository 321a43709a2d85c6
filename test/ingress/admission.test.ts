/**
 * Admission control and load shedding on a real `certgate serve` (issue 14, defect 4):
 * connection caps, header and request timeouts in seconds, SigV4 checked on the admin
 * API before any body is read, and OVERLOADED past the in-flight bound or for a request
 * whose proxy stamp says it waited too long — never an allow.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificate, escapePem, identity, type Cert } from '../authz/pki.js';
import { CREDENTIALS_A, SNI_A, createWorld, type World } from '../authz/world.js';
import { startServe, type ServeProcess } from './serveProcess.js';

interface Exchange {
  data: string;
  /** ms from connect to the server closing the connection (or the read limit). */
  ms: number;
  closed: boolean;
}

/** Connect, write `parts` (each after `gapMs`), and read until the server closes or `maxMs`. */
function exchange(url: string, parts: string[], o: { gapMs?: number; maxMs: number; keepOpen?: (s: Socket) => void }): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      socket.destroy();
      resolve({ data, ms: performance.now() - started, closed });
    };
    const limit = setTimeout(() => done(false), o.maxMs);
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
    socket.on('connect', () => {
      o.keepOpen?.(socket);
      parts.forEach((p, i) =>
        setTimeout(
          () => {
            if (!socket.destroyed) socket.write(p);
          },
          i * (o.gapMs ?? 0),
        ),
      );
    });
  });
}

/** A JSON-door request with `body` as given and an `X-Request-Start` stamp (epoch ms). */
function jsonRequest(body: string, stampMs: number): string {
  return (
    `POST /v1/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Start: t=${stampMs}\r\n\r\n${body}`
  );
}

/** Every response in a stream of HTTP/1.1 answers: status, reason header, body. */
function answersIn(data: string): { status: number; reason: string | undefined; body: string }[] {
  return [...data.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/g)].map((m) => {
    const length = Number(/content-length: (\d+)/i.exec(m[2] ?? '')?.[1] ?? 0);
    const start = (m.index ?? 0) + m[0].length;
    return { status: Number(m[1]), reason: /x-certgate-reason: (\w+)/i.exec(m[2] ?? '')?.[1], body: data.slice(start, start + length) };
  });
}

function nginxRequest(host: string, leaf: Cert, keepAlive = true): string {
  return (
    `GET /v1/nginx/auth HTTP/1.1\r\nHost: ${host}\r\nX-SSL-Server-Name: ${SNI_A}\r\n` +
    `X-SSL-Client-Cert: ${escapePem(leaf.pem)}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`
  );
}

/** A well-formed SigV4 Authorization header line (the signature itself is never reached). */
function scope(key: string, date: string): string {
  return `Authorization: AWS4-HMAC-SHA256 Credential=${key}/${date.slice(0, 8)}/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}\r\n`;
}

describe('admission control and load shedding of certgate serve', () => {
  let world: World;
  let serve: ServeProcess;
  let leaf: Cert;
  /** Registered under the CA: its verification waits on the pool, so decisions overlap. */
  let caLeaf: Cert;
  let admin: string;
  let authz: string;

  beforeAll(async () => {
    world = await createWorld();
    leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    caLeaf = certificate({ subject: identity('pooled device', 'p256'), issuer: world.caIdentity });
    await world.register(caLeaf, { caId: world.ca.id });
    serve = startServe([
      '--db',
      world.dbPath,
      '--processes',
      '1',
      '--admin-port',
      '0',
      '--authz-port',
      '0',
      '--grpc-port',
      '0',
      '--headers-timeout-ms',
      '1000',
      '--request-timeout-ms',
      '2000',
      '--max-connections',
      '8',
      // A decision over SQLite that waits on nothing completes synchronously and is never
      // in flight; caLeaf's verification goes to the pool every time (no cache, budget 0),
      // so its pipelined requests overlap.
      '--verify-cache-size',
      '0',
      '--max-in-flight',
      '1',
      '--inline-budget-us',
      '0',
      '--pool-threads',
      '1',
      // The proxy's arrival stamp; 2 s leaves a fresh stamp fresh on a loaded machine.
      '--request-start-header',
      'X-Request-Start',
      '--shed-after-ms',
      '2000',
    ]);
    const line = await serve.waitFor((l) => l.msg === 'listening');
    admin = String(line.admin);
    authz = String(line.authz);
  });
  afterAll(async () => {
    serve.kill();
    await world.dispose();
  });

  describe('the admin API refuses by headers alone, before reading the body', () => {
    const big = 200 * 1024;
    const head = (auth: string, amzDate: string) =>
      `POST /cacertificate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big}\r\n` +
      `X-Amz-Date: ${amzDate}\r\n${auth}\r\n{"caCertificate":"`;
    const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const cases: [string, string, string][] = [
      ['unsigned', head('', now), 'MissingAuthenticationTokenException'],
      ['unknown key', head(scope('AKIAUNKNOWNKEY000000', now), now), 'UnrecognizedClientException'],
      ['expired', head(scope(CREDENTIALS_A.accessKeyId, '20200101T000000Z'), '20200101T000000Z'), 'InvalidSignatureException'],
    ];
    for (const [name, request, errorType] of cases) {
      it(`answers an ${name} request with ${errorType} while its ${big}-byte body is still unsent`, async () => {
        const ex = await exchange(admin, [request], { maxMs: 1500 });
        expect(ex.data).toMatch(/^HTTP\/1\.1 403 /);
        expect(ex.data).toContain(`x-amzn-ErrorType: ${errorType}`);
        expect(ex.data).toMatch(/connection: close/i);
      });
    }
  });

  it('closes a connection whose headers trickle in past --headers-timeout-ms', async () => {
    const trickle = Array.from({ length: 40 }, (_, i) => (i === 0 ? 'GET /healthz HTTP/1.1\r\n' : `X-Slow-${i}: x\r\n`));
    const ex = await exchange(authz, trickle, { gapMs: 100, maxMs: 6000 });
    expect(ex.closed).toBe(true);
    expect(ex.ms).toBeLessThan(3000); // 1 s limit + the 1 s check interval
  });

  it('closes a connection whose body does not arrive within --request-timeout-ms', async () => {
    const ex = await exchange(authz, ['POST /v1/authorize HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"sni":'], { maxMs: 8000 });
    expect(ex.closed).toBe(true);
    expect(ex.ms).toBeLessThan(4000); // 2 s limit + the 1 s check interval
  });

  it('keeps an idle keep-alive connection (proxies pool them) past the header timeout', async () => {
    const request = nginxRequest('x', leaf);
    const ex = await exchange(authz, [request, request], { gapMs: 2500, maxMs: 3500 });
    expect(ex.data.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
  });

  it('closes connections beyond --max-connections on accept, and accepts again below it', async () => {
    const held: Socket[] = [];
    try {
      const { port } = new URL(authz);
      for (let i = 0; i < 8; i++) {
        const s = connect(Number(port), '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 200));
      const refused = await exchange(authz, [nginxRequest('x', leaf)], { maxMs: 2000 });
      expect(refused.closed).toBe(true);
      expect(refused.data).toBe('');
      held.pop()?.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const accepted = await exchange(authz, [nginxRequest('x', leaf, false)], { maxMs: 2000 });
      expect(accepted.data).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('sheds a request whose X-Request-Start stamp is older than --shed-after-ms before reading its body, never an allow; the connection stays usable', async () => {
    // Regression (issue 14): a request that waited longer than the budget (here measured
    // by the proxy's stamp) was decided and answered late. Its body is not even parsed
    // (this one is not JSON): the shed costs no decision work.
    const valid = JSON.stringify({ sni: SNI_A, certChain: [leaf.pem] });
    const stale = jsonRequest('{not json', Date.now() - 60_000);
    const staleValid = jsonRequest(valid, Date.now() - 5000);
    const fresh = jsonRequest(valid, Date.now());
    // One keep-alive connection, pipelined: shed, shed, then decided.
    const ex = await exchange(authz, [stale + staleValid + fresh], { maxMs: 3000 });
    const answers = answersIn(ex.data);
    expect(answers.map((a) => [a.status, a.reason])).toEqual([
      [503, 'OVERLOADED'],
      [503, 'OVERLOADED'],
      [200, 'CERTIFICATE_ACTIVE'],
    ]);
    for (const a of answers.slice(0, 2)) {
      expect(JSON.parse(a.body)).toMatchObject({ allow: false, reason: 'OVERLOADED' });
      expect(a.body).toMatch(/x-request-start stamp is older than shedAfterMs=2000/);
    }
    expect(JSON.parse(answers[2]?.body ?? '{}')).toMatchObject({ allow: true });
  });

  it('sheds decisions beyond --max-in-flight with 503 OVERLOADED, never an allow', async () => {
    // Ten pipelined requests are parsed in one read: the first decision is in flight when
    // the next ones arrive.
    const ex = await exchange(authz, [Array.from({ length: 10 }, () => nginxRequest('x', caLeaf)).join('')], { maxMs: 3000 });
    const answers = [...ex.data.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/g)].map((m) => ({
      status: Number(m[1]),
      reason: /x-certgate-reason: (\w+)/i.exec(m[2] ?? '')?.[1],
    }));
    expect(answers).toHaveLength(10);
    expect(answers[0]).toEqual({ status: 200, reason: 'CERTIFICATE_ACTIVE' });
    const shed = answers.filter((a) => a.reason === 'OVERLOADED');
    expect(shed.length).toBeGreaterThan(0);
    for (const a of shed) expect(a.status).toBe(503);
    for (const a of answers) expect(a.status === 200).toBe(a.reason === 'CERTIFICATE_ACTIVE');
  });
});
