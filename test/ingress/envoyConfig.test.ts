/**
 * The Envoy examples agree with certgate (ports, paths, header names, metadata
 * namespace), and certgate answers requests shaped as those configurations make Envoy
 * send them. (No Envoy binary exists here; see examples/envoy/README.md.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN_METADATA_NAMESPACE } from '../../ts/ingress/grpc.js';
import { PATHS } from '../../ts/ingress/http.js';
import { projectRoot } from '../../ts/paths.js';
import { SERVE_OPTIONS } from '../../ts/server/config.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, escapePem, identity } from '../authz/pki.js';
import { SNI_A, createWorld, type World } from '../authz/world.js';
import { testNode } from './node.js';

type Json = Record<string, unknown>;
const load = (name: string): string => readFileSync(path.join(projectRoot, 'examples', 'envoy', name), 'utf8');

/** Every object in a JSON tree whose `name` is `name`. */
function named(node: unknown, name: string): Json[] {
  if (Array.isArray(node)) return node.flatMap((n) => named(n, name));
  if (typeof node !== 'object' || node === null) return [];
  const o = node as Json;
  return [...(o.name === name ? [o] : []), ...Object.values(o).flatMap((v) => named(v, name))];
}
const defaultOf = (key: string) => SERVE_OPTIONS.find((o) => o.key === key)?.default;
const portOf = (config: unknown, clusterName: string): number | undefined =>
  (JSON.stringify(named(config, clusterName)).match(/"port_value":(\d+)/) ?? [])[1] as unknown as number | undefined;

describe('the Envoy example configurations', () => {
  const grpcHttp = JSON.parse(load('grpc-http-filter.json')) as Json;
  const httpService = JSON.parse(load('http-service.json')) as Json;
  const network = JSON.parse(load('grpc-network-filter.json')) as Json;

  it('point the gRPC filters at the default gRPC port, with peer certificate and TLS session included', () => {
    for (const config of [grpcHttp, network]) {
      expect(String(portOf(config, 'certgate_grpc'))).toBe(defaultOf('grpcPort'));
      const filter = JSON.stringify(named(config, config === network ? 'envoy.filters.network.ext_authz' : 'envoy.filters.http.ext_authz'));
      expect(filter).toContain('"include_peer_certificate":true');
      expect(filter).toContain('"include_tls_session":true');
      expect(filter).toContain('"failure_mode_allow":false');
    }
    expect(JSON.stringify(grpcHttp)).toContain(`"metadata_context_namespaces":["${CHAIN_METADATA_NAMESPACE}"]`);
  });

  it('send http_service checks to the Envoy HTTP door with XFCC and the SNI header allowed', () => {
    const text = JSON.stringify(httpService);
    expect(text).toContain(`"path_prefix":"${PATHS.envoyHttp}"`);
    expect(text).toContain(`"uri":"http://127.0.0.1:${defaultOf('authzPort')}"`);
    expect(text).toContain('{"exact":"x-forwarded-client-cert"}');
    expect(text).toContain(`{"exact":"${defaultOf('envoySniHeader')}"}`);
    expect(text).toContain('"forward_client_cert_details":"SANITIZE_SET"');
  });

  it('have the Lua filter write the chain to the namespace certgate reads and the SNI header certgate reads', () => {
    const lua = JSON.stringify(named(grpcHttp, 'envoy.filters.http.lua'));
    expect(lua).toContain(CHAIN_METADATA_NAMESPACE);
    expect(lua).toContain(defaultOf('envoySniHeader'));
  });

  describe('against a running node', () => {
    let world: World;
    let node: RunningNode;
    beforeAll(async () => {
      world = await createWorld();
      node = await testNode(world);
    });
    afterAll(async () => {
      await node.close();
      await world.dispose();
    });

    it('answers an http_service check exactly as Envoy sends it (method and path kept, XFCC Cert+Chain+Subject)', async () => {
      const intermediateId = identity('Fleet Intermediate', 'p256');
      const intermediate = certificate({ subject: intermediateId, issuer: world.caIdentity, ca: true });
      const leaf = certificate({ subject: identity('device', 'p256'), issuer: intermediateId });
      await world.register(leaf, { caId: world.ca.id });
      const xfcc =
        `Hash=00ff;Cert="${escapePem(leaf.pem)}";Chain="${escapePem(leaf.pem + intermediate.pem)}";` +
        'Subject="O=certgate tests,CN=device";URI=;DNS=device.example';
      const res = await request(`http://127.0.0.1:${node.ports.authz}${PATHS.envoyHttp}/telemetry?batch=1`, {
        method: 'PUT',
        headers: { host: `${SNI_A}:8443`, 'content-length': '0', 'x-forwarded-client-cert': xfcc, 'x-certgate-sni': SNI_A },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-certgate-certificate-id']).toBe(leaf.id);
      await res.body.dump();
    });
  });
});
