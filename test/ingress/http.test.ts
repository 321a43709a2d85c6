/**
 * The HTTP port: JSON, NGINX auth_request and Envoy http_service doors, their limits,
 * and /metrics, /healthz, /readyz — against a real node over a real SQLite registry.
 */
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, escapePem, identity, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { testNode } from './node.js';

// The fast path (ts/fastpath/) must not change an answer: every door test runs both ways.
describe.each([
  ['fast path on', {}],
  ['fast path off', { fastPath: false }],
] as const)('the authorizer HTTP port (%s)', (_way, fastPath) => {
  let world: World;
  let node: RunningNode;
  let leaf: Cert;
  let base: string;

  beforeEach(async () => {
    world = await createWorld();
    node = await testNode(world, { maxHeaderBytes: '4096', maxBodyBytes: '8192', ...fastPath });
    base = `http://127.0.0.1:${node.ports.authz}`;
    leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'pump-7', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${leaf.id}`);
  });
  afterEach(async () => {
    await node.close();
    await world.dispose();
  });

  const nginx = (headers: Record<string, string>) => request(`${base}/v1/nginx/auth`, { headers });
  const envoy = (path: string, headers: Record<string, string>) => request(`${base}/v1/envoy/http${path}`, { method: 'POST', headers });
  const post = (body: unknown) =>
    request(`${base}/v1/authorize`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

  describe('JSON POST /v1/authorize', () => {
    it('answers 200 with the decision for an ACTIVE certificate', async () => {
      const res = await post({ sni: SNI_A, certChain: [leaf.pem] });
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({
        allow: true,
        reason: 'CERTIFICATE_ACTIVE',
        certificateId: leaf.id,
        accountId: ACCOUNT_A,
        certificateMode: 'SNI_ONLY',
        things: ['pump-7'],
      });
    });

    it('answers 403 with the reason for a deny', async () => {
      const res = await post({ sni: SNI_B, certChain: [leaf.pem] });
      expect(res.statusCode).toBe(403);
      expect(await res.body.json()).toMatchObject({ allow: false, reason: 'CERTIFICATE_NOT_REGISTERED' });
    });

    it('answers 400 BAD_REQUEST for bad JSON or field types, 405 for GET', async () => {
      const bad = await post('{');
      expect(bad.statusCode).toBe(400);
      expect(await bad.body.json()).toMatchObject({ reason: 'BAD_REQUEST' });
      const types = await post({ sni: 7, certChain: [leaf.pem] });
      expect(types.statusCode).toBe(400);
      await types.body.dump();
      const get = await request(`${base}/v1/authorize`);
      expect([get.statusCode, get.headers.allow, get.headers['x-certgate-reason']]).toEqual([405, 'POST', 'BAD_REQUEST']);
      expect(await get.body.json()).toEqual({ allow: false, reason: 'BAD_REQUEST', message: 'use POST' });
    });

    it('answers 413 BODY_TOO_LARGE above maxBodyBytes', async () => {
      const res = await post({ sni: SNI_A, certChain: [leaf.pem], pad: 'x'.repeat(9000) });
      expect(res.statusCode).toBe(413);
      expect(await res.body.json()).toMatchObject({ reason: 'BODY_TOO_LARGE' });
    });

    it('answers 503 REGISTRY_ERROR, never an allow, when the registry is gone, and /readyz turns 503', async () => {
      await node.registry.close();
      const res = await post({ sni: SNI_A, certChain: [leaf.pem] });
      expect(res.statusCode).toBe(503);
      expect(await res.body.json()).toMatchObject({ allow: false, reason: 'REGISTRY_ERROR' });
      const ready = await request(`${base}/readyz`);
      expect(ready.statusCode).toBe(503);
      await ready.body.dump();
    });
  });

  describe('NGINX auth_request', () => {
    it('allows with 200 and decision headers for auth_request_set', async () => {
      const res = await nginx({ 'x-ssl-client-cert': escapePem(leaf.pem), 'x-ssl-server-name': SNI_A });
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({
        'x-certgate-certificate-id': leaf.id,
        'x-certgate-account-id': ACCOUNT_A,
        'x-certgate-thing-name': 'pump-7',
        'x-certgate-reason': 'CERTIFICATE_ACTIVE',
      });
      await res.body.dump();
    });

    it('denies with 403 when NGINX sent no certificate header, or no SNI for an SNI_ONLY certificate', async () => {
      const none = await nginx({ 'x-ssl-server-name': SNI_A });
      expect([none.statusCode, none.headers['x-certgate-reason']]).toEqual([403, 'NO_CERTIFICATE']);
      await none.body.dump();
      const noSni = await nginx({ 'x-ssl-client-cert': escapePem(leaf.pem) });
      expect([noSni.statusCode, noSni.headers['x-certgate-reason']]).toEqual([403, 'SNI_REQUIRED']);
      await noSni.body.dump();
    });

    it('answers 431 HEADER_TOO_LARGE above maxHeaderBytes', async () => {
      const res = await nginx({ 'x-ssl-client-cert': 'A'.repeat(5000), 'x-ssl-server-name': SNI_A });
      expect([res.statusCode, res.headers['x-certgate-reason']]).toEqual([431, 'HEADER_TOO_LARGE']);
      await res.body.dump();
    });
  });

  describe('Envoy http_service', () => {
    it('allows exactly 200 from XFCC Cert= with SNI from the configured header, on any original path', async () => {
      const res = await envoy('/things/pump-7?x=1', {
        'x-forwarded-client-cert': `Hash=ab;Cert="${escapePem(leaf.pem)}";Subject="CN=device";URI=`,
        'x-certgate-sni': SNI_A,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-certgate-certificate-id']).toBe(leaf.id);
      await res.body.dump();
    });

    it('never takes SNI from the client-chosen Host when the SNI header is absent', async () => {
      const res = await envoy('', { 'x-forwarded-client-cert': `Hash=ab;Cert="${escapePem(leaf.pem)}"`, host: `${SNI_A}:443` });
      expect([res.statusCode, res.headers['x-certgate-reason']]).toEqual([403, 'SNI_REQUIRED']);
      await res.body.dump();
    });

    it('denies 400 BAD_REQUEST for a malformed XFCC', async () => {
      const res = await envoy('/', { 'x-forwarded-client-cert': 'Cert="unterminated', 'x-certgate-sni': SNI_A });
      expect([res.statusCode, res.headers['x-certgate-reason']]).toEqual([400, 'BAD_REQUEST']);
      await res.body.dump();
    });
  });

  it('serves /healthz and Prometheus /metrics with decisions by door, result and reason', async () => {
    await (await post({ sni: SNI_A, certChain: [leaf.pem] })).body.dump();
    await (await request(`${base}/v1/nginx/auth`)).body.dump();
    const health = await request(`${base}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    const metrics = await (await request(`${base}/metrics`)).body.text();
    expect(metrics).toContain('certgate_decisions_total{door="json",result="allow",reason="CERTIFICATE_ACTIVE"} 1');
    expect(metrics).toContain('certgate_decisions_total{door="nginx",result="deny",reason="NO_CERTIFICATE"} 1');
    expect(metrics).toMatch(/certgate_decision_stage_duration_seconds_count\{stage="registry"\} \d+/);
    expect(metrics).toContain('certgate_verify_cache_misses_total');
    expect(metrics).toContain('process_cpu_seconds_total');
    // Every standing held in memory (fast path on): the leaf registered after start-up, caught up.
    const held = /certgate_view_cache_entries\{worker="[^"]+"\} (\d+)\n/.exec(metrics);
    if ('fastPath' in fastPath) expect(held).toBeNull();
    else expect(Number(held?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('refuses to start over a registry created for another region or endpoint domain', async () => {
    await expect(testNode(world, { region: 'eu-west-1' })).rejects.toThrow(/created with --region us-east-1, not eu-west-1/);
    await expect(testNode(world, { endpointDomain: 'iot.example.net' })).rejects.toThrow(/created with --endpoint-domain localhost/);
    // The values it was created with are fine.
    const same = await testNode(world, { region: 'us-east-1', endpointDomain: 'localhost' });
    await same.close();
  });
});
