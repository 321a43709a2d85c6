/**
 * The Envoy gRPC door with a grpc-js client built from the real Envoy protos, sending
 * CheckRequests shaped like the HTTP filter's and the network filter's
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/external_auth.proto).
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authorizationService } from '../../ts/ingress/envoyProtos.js';
import { CHAIN_METADATA_NAMESPACE } from '../../ts/ingress/grpc.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, escapePem, identity, type Cert } from '../authz/pki.js';
import { ACCOUNT_A, SNI_A, SNI_B, createWorld, type World } from '../authz/world.js';
import { testNode } from './node.js';

type CheckResponse = {
  status: { code: number; message: string };
  http_response?: string;
  ok_response?: { headers: { header: { key: string; value: string } }[]; headers_to_remove: string[] };
  denied_response?: { status: { code: string }; body: string };
  dynamic_metadata?: { fields: Record<string, { stringValue: string }> };
};
type CheckClient = grpc.Client & {
  Check(req: unknown, cb: (err: grpc.ServiceError | null, res: CheckResponse) => void): void;
};

function httpFilterRequest(leaf: Cert, sni: string) {
  return {
    attributes: {
      source: {
        address: { socket_address: { address: '10.0.0.7', port_value: 50123 } },
        principal: 'O=certgate tests,CN=device',
        certificate: escapePem(leaf.pem),
      },
      destination: { address: { socket_address: { address: '10.0.0.1', port_value: 443 } }, principal: 'CN=envoy' },
      tls_session: { sni },
      request: {
        time: { seconds: '1906934400', nanos: 0 },
        http: {
          id: '4711',
          method: 'GET',
          path: '/things/thermostat-1/shadow',
          host: sni,
          scheme: 'https',
          protocol: 'HTTP/2',
          headers: { ':authority': sni, ':method': 'GET', ':path': '/things/thermostat-1/shadow', 'x-certgate-thing-name': 'spoofed' },
        },
      },
    },
  };
}

function networkFilterRequest(leaf: Cert, sni: string, chainPem?: string) {
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.0.0.7', port_value: 50124 } }, certificate: escapePem(leaf.pem) },
      destination: { address: { socket_address: { address: '10.0.0.1', port_value: 8883 } }, service: sni },
      ...(chainPem === undefined
        ? {}
        : {
            metadata_context: {
              filter_metadata: { [CHAIN_METADATA_NAMESPACE]: { fields: { chain: { stringValue: escapePem(chainPem) } } } },
            },
          }),
    },
  };
}

// The fast path (ts/fastpath/) must not change an answer: every door test runs both ways.
describe.each([
  ['fast path on', {}],
  ['fast path off', { fastPath: false }],
] as const)('the Envoy gRPC Check door (%s)', (_way, fastPath) => {
  let world: World;
  let node: RunningNode;
  let client: CheckClient;
  const check = (req: unknown) =>
    new Promise<{ err: grpc.ServiceError | null; res: CheckResponse }>((resolve) => client.Check(req, (err, res) => resolve({ err, res })));

  beforeEach(async () => {
    world = await createWorld();
    node = await testNode(world, fastPath);
    const Service = authorizationService();
    client = new Service(`127.0.0.1:${node.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as CheckClient;
  });
  afterEach(async () => {
    client.close();
    await node.close();
    await world.dispose();
  });

  it('allows an HTTP-filter check with OK, upstream headers and dynamic metadata', async () => {
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    const { err, res } = await check(httpFilterRequest(leaf, SNI_A));
    expect(err).toBeNull();
    expect(res.status.code).toBe(grpc.status.OK);
    expect(res.http_response).toBe('ok_response');
    const headers = Object.fromEntries((res.ok_response?.headers ?? []).map((h) => [h.header.key, h.header.value]));
    expect(headers).toMatchObject({ 'x-certgate-certificate-id': leaf.id, 'x-certgate-account-id': ACCOUNT_A });
    // No thing is attached, so a client-sent thing-name header is stripped upstream.
    expect(res.ok_response?.headers_to_remove).toContain('x-certgate-thing-name');
    expect(res.dynamic_metadata?.fields.certificate_id?.stringValue).toBe(leaf.id);
  });

  it('denies with PERMISSION_DENIED and a bare 403 denied_response; the reason goes to Envoy, not to the device', async () => {
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    const { err, res } = await check(httpFilterRequest(leaf, SNI_B));
    expect(err).toBeNull();
    expect(res.status).toMatchObject({ code: grpc.status.PERMISSION_DENIED, message: 'CERTIFICATE_NOT_REGISTERED' });
    expect(res.http_response).toBe('denied_response');
    expect(res.denied_response?.status.code).toBe('Forbidden');
    // denied_response is what the device sees: no reason, no account, no certificate id.
    expect(JSON.parse(res.denied_response?.body ?? '{}')).toEqual({ allow: false });
    expect(JSON.stringify(res.denied_response)).not.toMatch(/CERTIFICATE_NOT_REGISTERED|x-certgate/);
    // Envoy's access log reads it from dynamic metadata.
    expect(res.dynamic_metadata?.fields.reason?.stringValue).toBe('CERTIFICATE_NOT_REGISTERED');
  });

  it('decides a network-filter check from destination.service as the SNI', async () => {
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    expect((await check(networkFilterRequest(leaf, SNI_A))).res.status.code).toBe(grpc.status.OK);
    expect((await check(networkFilterRequest(leaf, 'unknown.example'))).res.status.message).toBe('UNKNOWN_SNI');
  });

  it('reads the full chain from metadata_context when a filter put it there', async () => {
    const intermediate = identity('Fleet Intermediate', 'p256');
    const intermediateCert = certificate({ subject: intermediate, issuer: world.caIdentity, ca: true });
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: intermediate });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    const withChain = await check(networkFilterRequest(leaf, SNI_A, leaf.pem + intermediateCert.pem));
    expect(withChain.res.status.code).toBe(grpc.status.OK);
    const leafOnly = await check(networkFilterRequest(leaf, SNI_A));
    expect(leafOnly.res.status.message).toBe('CHAIN_VERIFICATION_FAILED');
  });

  it('denies a check without a certificate and one with broken percent-encoding', async () => {
    expect((await check({ attributes: { tls_session: { sni: SNI_A } } })).res.status.message).toBe('NO_CERTIFICATE');
    const bad = { attributes: { source: { certificate: '%E0%A4%A' }, tls_session: { sni: SNI_A } } };
    expect((await check(bad)).res.status.message).toBe('BAD_REQUEST');
  });

  it('rejects a CheckRequest larger than maxBodyBytes with RESOURCE_EXHAUSTED', async () => {
    const huge = { attributes: { source: { certificate: 'A'.repeat(200 * 1024) }, tls_session: { sni: SNI_A } } };
    const { err } = await check(huge);
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('fails the RPCs past --max-in-flight with UNAVAILABLE and reason OVERLOADED, never an allow', async () => {
    const leaf = certificate({ subject: identity('device', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id, mode: 'DEFAULT' });
    // Every decision verifies on the pool thread, so concurrent checks overlap in flight.
    const bounded = await testNode(world, {
      maxInFlight: '1',
      verifyCacheSize: '0',
      poolThreads: '1',
      inlineBudgetUs: '0',
      deadlineMs: '10000',
    });
    const Service = authorizationService();
    const other = new Service(`127.0.0.1:${bounded.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as CheckClient;
    try {
      const answers = await Promise.all(
        Array.from(
          { length: 32 },
          () =>
            new Promise<{ err: grpc.ServiceError | null; res: CheckResponse }>((resolve) =>
              other.Check(httpFilterRequest(leaf, SNI_A), (err, res) => resolve({ err, res })),
            ),
        ),
      );
      const shed = answers.filter((a) => a.err !== null);
      expect(shed.length).toBeGreaterThan(0);
      for (const a of shed) {
        expect(a.err?.code).toBe(grpc.status.UNAVAILABLE);
        expect(a.err?.metadata.get('x-certgate-reason')).toEqual(['OVERLOADED']);
      }
      for (const a of answers.filter((x) => x.err === null)) expect(a.res.status.code).toBe(grpc.status.OK);
    } finally {
      other.close();
      await bounded.close();
    }
  });

  it('sheds a check the proxy received longer than --shed-after-ms ago (attributes.request.time, or the stamp header), never an allow', async () => {
    // Regression (issue 14): a check that had already waited past the budget was decided.
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    const stamped = await testNode(world, { requestStartHeader: 'X-Request-Start', shedAfterMs: '2000' });
    const Service = authorizationService();
    const other = new Service(`127.0.0.1:${stamped.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as CheckClient;
    const at = (ms: number, header?: string) => {
      const req = httpFilterRequest(leaf, SNI_A);
      req.attributes.request.time = { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
      if (header !== undefined) Object.assign(req.attributes.request.http.headers, { 'x-request-start': header });
      return new Promise<{ err: grpc.ServiceError | null; res: CheckResponse }>((resolve) =>
        other.Check(req, (err, res) => resolve({ err, res })),
      );
    };
    try {
      for (const old of [await at(Date.now() - 60_000), await at(Date.now(), `t=${Date.now() - 60_000}`)]) {
        expect(old.err?.code).toBe(grpc.status.UNAVAILABLE);
        expect(old.err?.metadata.get('x-certgate-reason')).toEqual(['OVERLOADED']);
      }
      const fresh = await at(Date.now());
      expect(fresh.err).toBeNull();
      expect(fresh.res.status.code).toBe(grpc.status.OK);
    } finally {
      other.close();
      await stamped.close();
    }
  });

  it('fails the RPC with UNAVAILABLE when the registry cannot be read', async () => {
    const leaf = certificate({ subject: identity('device', 'p256') });
    await world.register(leaf, {});
    await node.registry.close();
    const { err } = await check(httpFilterRequest(leaf, SNI_A));
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toMatch(/^REGISTRY_ERROR/);
  });
});
