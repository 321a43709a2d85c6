/**
 * The decision log through every door of a real node: a revoked device's deny is logged
 * with the allow sample at 0, carrying the caller's x-request-id (HTTP doors: the header;
 * Envoy's gRPC Check: the checked request's x-request-id header, else its `id`).
 */
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authorizationService } from '../../ts/ingress/envoyProtos.js';
import type { RunningNode } from '../../ts/server/node.js';
import { startNode } from '../../ts/server/node.js';
import { createLogger } from '../../ts/server/serve.js';
import { certificate, escapePem, identity, type Cert } from '../authz/pki.js';
import { SNI_A, createWorld, type World } from '../authz/world.js';
import { testConfig } from './node.js';

type CheckClient = grpc.Client & { Check(req: unknown, cb: (err: grpc.ServiceError | null, res: unknown) => void): void };

/** A CheckRequest as Envoy's HTTP filter sends it. */
const grpcHttp = (cert: Cert, http: Record<string, unknown>) => ({
  attributes: {
    source: { certificate: escapePem(cert.pem) },
    tls_session: { sni: SNI_A },
    request: { http: { method: 'GET', path: '/', ...http } },
  },
});

describe('the decision log at every door', () => {
  let world: World;
  let node: RunningNode;
  let revoked: Cert;
  let active: Cert;
  let base: string;
  let client: CheckClient;
  const lines: Record<string, unknown>[] = [];

  beforeEach(async () => {
    lines.length = 0;
    world = await createWorld();
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const config = testConfig(world, { decisionLogSample: '0', logLevel: 'info' });
    node = await startNode(config, createLogger(config, stream));
    base = `http://127.0.0.1:${node.ports.authz}`;
    revoked = certificate({ subject: identity('revoked device', 'p256') });
    await world.register(revoked, { status: 'REVOKED' });
    active = certificate({ subject: identity('device', 'p256') });
    await world.register(active, {});
    client = new (authorizationService())(`127.0.0.1:${node.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as CheckClient;
  });
  afterEach(async () => {
    client.close();
    await node.close();
    await world.dispose();
  });

  const decisions = () => lines.filter((l) => l.msg === 'decision');
  const check = (req: unknown) => new Promise<void>((resolve) => client.Check(req, () => resolve()));

  it('logs each revoked deny with its request id, and no allow at sample 0', async () => {
    const pem = escapePem(revoked.pem);
    await (
      await request(`${base}/v1/authorize`, {
        method: 'POST',
        headers: { 'x-request-id': 'json-1' },
        body: JSON.stringify({ sni: SNI_A, certChain: [revoked.pem] }),
      })
    ).body.dump();
    await (
      await request(`${base}/v1/nginx/auth`, {
        headers: { 'x-ssl-client-cert': pem, 'x-ssl-server-name': SNI_A, 'x-request-id': 'nginx-2' },
      })
    ).body.dump();
    await (
      await request(`${base}/v1/envoy/http/x`, {
        method: 'POST',
        headers: { 'x-forwarded-client-cert': `Cert="${pem}"`, 'x-certgate-sni': SNI_A, 'x-request-id': 'envoy-3' },
      })
    ).body.dump();
    await check(grpcHttp(revoked, { id: '99', headers: { ':path': '/', 'x-request-id': 'grpc-4' } }));
    await check(grpcHttp(revoked, { id: '12345' }));
    await check({ attributes: { source: { certificate: pem }, destination: { service: SNI_A } } });
    // Allows are sampled at 0: none of these is logged.
    await (
      await request(`${base}/v1/nginx/auth`, {
        headers: { 'x-ssl-client-cert': escapePem(active.pem), 'x-ssl-server-name': SNI_A, 'x-request-id': 'allow-1' },
      })
    ).body.dump();
    await check(grpcHttp(active, { headers: { 'x-request-id': 'allow-2' } }));
    await new Promise((r) => setTimeout(r, 50));
    expect(decisions().map((l) => [l.door, l.requestId, l.reason, l.level])).toEqual([
      ['json', 'json-1', 'CERTIFICATE_REVOKED', 'info'],
      ['nginx', 'nginx-2', 'CERTIFICATE_REVOKED', 'info'],
      ['envoy_http', 'envoy-3', 'CERTIFICATE_REVOKED', 'info'],
      ['envoy_grpc_http', 'grpc-4', 'CERTIFICATE_REVOKED', 'info'],
      ['envoy_grpc_http', '12345', 'CERTIFICATE_REVOKED', 'info'],
      ['envoy_grpc_network', null, 'CERTIFICATE_REVOKED', 'info'],
    ]);
    for (const l of decisions()) {
      expect(l).toMatchObject({ service: 'certgate', allow: false, certificateId: revoked.id });
      expect(typeof l.durationMs).toBe('number');
    }
  });

  it('logs a request a door could not read, with its request id', async () => {
    await (await request(`${base}/v1/authorize`, { method: 'POST', headers: { 'x-request-id': 'bad-1' }, body: '{not json' })).body.dump();
    await check({
      attributes: {
        source: { certificate: '%E0%A4%A' },
        tls_session: { sni: SNI_A },
        request: { http: { headers: { 'x-request-id': 'bad-2' } } },
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(decisions().map((l) => [l.door, l.requestId, l.reason, l.requestError])).toEqual([
      ['json', 'bad-1', 'BAD_REQUEST', true],
      ['envoy_grpc_http', 'bad-2', 'BAD_REQUEST', true],
    ]);
  });
});
