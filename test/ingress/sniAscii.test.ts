/**
 * Issue 14, defect 6: SNI is ASCII (RFC 6066 section 3,
 * https://www.rfc-editor.org/rfc/rfc6066#section-3). Every door refuses a non-ASCII SNI
 * with BAD_REQUEST instead of letting Unicode case folding turn the Kelvin sign U+212A
 * into "k" and route "\u212Aiosk.example.test" to the account holding
 * "kiosk.example.test". A real node over a real SQLite registry, each door as its
 * client would call it.
 */
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authorizationService } from '../../ts/ingress/envoyProtos.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, escapePem, identity, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, createWorld, type World } from '../authz/world.js';
import { testNode } from './node.js';

const KIOSK = 'kiosk.example.test';
/** "Kiosk" spelt with the Kelvin sign, which JavaScript's toLowerCase() folds to "k". */
const KELVIN = '\u212Aiosk.example.test';
/** The UTF-8 bytes of KELVIN as a proxy puts them in a header (Node reads headers as latin1). */
const KELVIN_HEADER = Buffer.from(KELVIN, 'utf8').toString('latin1');

type CheckClient = grpc.Client & {
  Check(req: unknown, cb: (err: grpc.ServiceError | null, res: { status: { code: number; message: string } }) => void): void;
};

describe('a non-ASCII SNI at every door', () => {
  let world: World;
  let node: RunningNode;
  let leaf: Cert;
  let base: string;
  let client: CheckClient;

  beforeEach(async () => {
    world = await createWorld();
    node = await testNode(world);
    base = `http://127.0.0.1:${node.ports.authz}`;
    leaf = certificate({ subject: identity('kiosk', 'p256') });
    await world.register(leaf, {});
    await world.registry.addDomain(ACCOUNT_A, KIOSK);
    const Service = authorizationService();
    client = new Service(`127.0.0.1:${node.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as CheckClient;
  });
  afterEach(async () => {
    client.close();
    await node.close();
    await world.dispose();
  });

  const json = async (sni: string) => {
    const res = await request(`${base}/v1/authorize`, { method: 'POST', body: JSON.stringify({ sni, certChain: [leaf.pem] }) });
    return { status: res.statusCode, body: (await res.body.json()) as { reason: string; message?: string } };
  };
  const header = async (path: string, headers: Record<string, string>) => {
    const res = await request(`${base}${path}`, { method: path.startsWith('/v1/envoy') ? 'POST' : 'GET', headers });
    await res.body.dump();
    return [res.statusCode, res.headers['x-certgate-reason']];
  };
  const nginx = (sni: string) => header('/v1/nginx/auth', { 'x-ssl-client-cert': escapePem(leaf.pem), 'x-ssl-server-name': sni });
  const envoy = (sni: string) =>
    header('/v1/envoy/http/', { 'x-forwarded-client-cert': `Hash=ab;Cert="${escapePem(leaf.pem)}"`, 'x-certgate-sni': sni });
  const check = (sni: string) =>
    new Promise<{ code: number; message: string }>((resolve, reject) =>
      client.Check({ attributes: { source: { certificate: escapePem(leaf.pem) }, tls_session: { sni } } }, (err, res) =>
        err ? reject(err) : resolve(res.status),
      ),
    );

  it('JSON: 400 BAD_REQUEST with the reason, while ASCII case is still folded', async () => {
    const refused = await json(KELVIN);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ allow: false, reason: 'BAD_REQUEST' });
    expect(refused.body.message).toMatch(/SNI must be ASCII/);
    expect(await json('KIOSK.Example.TEST.')).toMatchObject({ status: 200, body: { reason: 'CERTIFICATE_ACTIVE' } });
  });

  it('NGINX auth_request: 400 BAD_REQUEST for the UTF-8 bytes of a non-ASCII name', async () => {
    expect(await nginx(KELVIN_HEADER)).toEqual([400, 'BAD_REQUEST']);
    expect(await nginx('KIOSK.example.test')).toEqual([200, 'CERTIFICATE_ACTIVE']);
  });

  it('Envoy http_service: 400 BAD_REQUEST', async () => {
    expect(await envoy(KELVIN_HEADER)).toEqual([400, 'BAD_REQUEST']);
    expect(await envoy(KIOSK)).toEqual([200, 'CERTIFICATE_ACTIVE']);
  });

  it('Envoy gRPC Check: denied with BAD_REQUEST', async () => {
    expect(await check(KELVIN)).toMatchObject({ code: grpc.status.PERMISSION_DENIED, message: 'BAD_REQUEST' });
    expect((await check(KIOSK)).code).toBe(grpc.status.OK);
  });
});
