/**
 * The Envoy examples agree with certgate (ports, paths, header names, metadata
 * namespace), and certgate answers requests shaped as those configurations make Envoy
 * send them. (No Envoy binary exists here; see examples/envoy/README.md.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN_METADATA_NAMESPACE, CLIENT_ID_METADATA_NAMESPACE } from '../../ts/ingress/grpc.js';
import { PATHS } from '../../ts/ingress/http.js';
import { projectRoot } from '../../ts/paths.js';
import { SERVE_OPTIONS } from '../../ts/server/config.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, escapePem, identity } from '../authz/pki.js';
import { SNI_A, createWorld, type World } from '../authz/world.js';
import { testNode } from './node.js';
import { checkMessage, type NewerFields } from './envoySchema.js';

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

/** The cluster (not the filter referring to it) named `name`. */
function cluster(config: unknown, name: string): Json {
  const found = named(config, name).find((o) => 'load_assignment' in o);
  if (found === undefined) throw new Error(`no cluster ${name}`);
  return found;
}

describe('the Envoy example configurations', () => {
  const grpcHttp = JSON.parse(load('grpc-http-filter.json')) as Json;
  const httpService = JSON.parse(load('http-service.json')) as Json;
  const network = JSON.parse(load('grpc-network-filter.json')) as Json;

  /**
   * Fields newer than the Envoy API bundled in @grpc/grpc-js-xds 1.14, named one by one:
   * `send_tls_alert_on_denial` (network ext_authz, documented in Envoy 1.36:
   * https://www.envoyproxy.io/docs/envoy/v1.36.2/configuration/listeners/network_filters/ext_authz_filter),
   * `upstream_connect_mode` (TCP proxy, Envoy 1.37:
   * https://www.envoyproxy.io/docs/envoy/v1.37.0/configuration/listeners/network_filters/tcp_proxy_filter)
   * and `max_early_data_bytes`, which Envoy 1.38 requires beside it.
   */
  const NEWER: NewerFields = {
    'envoy.extensions.filters.network.ext_authz.v3.ExtAuthz': { send_tls_alert_on_denial: 'boolean' },
    'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': { upstream_connect_mode: 'string', max_early_data_bytes: 'number' },
  };
  const all = { 'grpc-http-filter.json': grpcHttp, 'http-service.json': httpService, 'grpc-network-filter.json': network };
  const typed = (config: unknown, name: string): Json => {
    const [found] = named(config, name);
    if (found === undefined) throw new Error(`no ${name}`);
    return found.typed_config as Json;
  };

  it.each(Object.keys(all))("%s is a valid Envoy bootstrap field by field (Envoy's own protos)", (file) => {
    expect(checkMessage(all[file as keyof typeof all], 'envoy.config.bootstrap.v3.Bootstrap', NEWER)).toEqual([]);
  });

  it('the schema check catches a misspelt field and a wrong enum value (it can fail)', () => {
    const typo = JSON.parse(JSON.stringify(grpcHttp).replace('"status_on_error"', '"status_on_eror"')) as Json;
    expect(checkMessage(typo, 'envoy.config.bootstrap.v3.Bootstrap', NEWER).join()).toContain('has no field status_on_eror');
    const badEnum = JSON.parse(JSON.stringify(grpcHttp).replace('"ServiceUnavailable"', '"ServiceUnavilable"')) as Json;
    expect(checkMessage(badEnum, 'envoy.config.bootstrap.v3.Bootstrap', NEWER).join()).toContain('ServiceUnavilable is not a value');
    const newer = JSON.parse(
      JSON.stringify(network).replace('"send_tls_alert_on_denial":true', '"send_tls_alert_on_denial":"yes"'),
    ) as Json;
    expect(checkMessage(newer, 'envoy.config.bootstrap.v3.Bootstrap', NEWER).join()).toContain('must be a boolean');
  });

  it('fail fast and closed: 200 ms checks, 503 on an authorizer error, no allow on failure', () => {
    for (const config of [grpcHttp, httpService]) {
      const f = typed(config, 'envoy.filters.http.ext_authz');
      expect(f.status_on_error).toEqual({ code: 'ServiceUnavailable' });
      expect(f.failure_mode_allow).toBe(false);
      expect(JSON.stringify(f)).toContain('"timeout":"0.2s"');
    }
    const n = typed(network, 'envoy.filters.network.ext_authz');
    expect([n.failure_mode_allow, n.send_tls_alert_on_denial, (n.grpc_service as Json).timeout]).toEqual([false, true, '0.2s']);
  });

  it('bound live MQTT sessions: every reconnect is re-authorized; no upstream connection before data', () => {
    const t = typed(network, 'envoy.filters.network.tcp_proxy');
    expect(t.max_downstream_connection_duration).toBe('3600s');
    expect(t.upstream_connect_mode).toBe('ON_DOWNSTREAM_DATA');
    expect(t.max_early_data_bytes).toBeGreaterThan(0);
    // The authorizer runs before the proxy in the filter chain.
    const filters =
      JSON.stringify(network).indexOf('envoy.filters.network.ext_authz') <
      JSON.stringify(network).indexOf('envoy.filters.network.tcp_proxy');
    expect(filters).toBe(true);
  });

  it('health-check the certgate clusters (gRPC health on the gRPC port, /readyz on the HTTP one) and bound them with circuit breakers', () => {
    for (const [config, name] of [
      [grpcHttp, 'certgate_grpc'],
      [network, 'certgate_grpc'],
      [httpService, 'certgate_http'],
    ] as const) {
      const c = cluster(config, name);
      const [hc] = c.health_checks as Json[];
      if (name === 'certgate_grpc') {
        // grpc.health.v1 on the same port the checks go to (ts/ingress/grpcHealth.ts).
        expect(hc?.grpc_health_check).toEqual({ service_name: 'envoy.service.auth.v3.Authorization' });
        expect(JSON.stringify(c)).not.toContain('health_check_config');
      } else {
        expect(hc?.http_health_check).toEqual({ path: '/readyz', codec_client_type: 'HTTP1' });
        expect(String(portOf(config, name))).toBe(defaultOf('authzPort'));
      }
      expect(hc?.timeout).toBe('0.2s');
      const [threshold] = (c.circuit_breakers as { thresholds: Json[] }).thresholds;
      expect(threshold).toMatchObject({ priority: 'DEFAULT', max_retries: 0 });
    }
  });

  it('log the decision reason from dynamic metadata and keep it from the client; admin on loopback', () => {
    for (const config of [grpcHttp, httpService, network]) {
      expect(JSON.stringify(config.admin)).toContain('"address":"127.0.0.1"');
      expect(JSON.stringify(config)).toMatch(
        /"certgate_reason":"%DYNAMIC_METADATA\(envoy\.filters\.(http|network)\.ext_authz:(x-certgate-)?reason\)%"/,
      );
    }
    const response = (typed(httpService, 'envoy.filters.http.ext_authz').http_service as Json).authorization_response as Json;
    // Unset, Envoy would hand the device every header of the deny answer; set, only these.
    expect(response.allowed_client_headers).toEqual({ patterns: [{ exact: 'content-type' }] });
    expect(response.dynamic_metadata_from_headers).toEqual({ patterns: [{ prefix: 'x-certgate-' }] });
  });

  it('point the gRPC filters at the default gRPC port, with peer certificate and TLS session included', () => {
    for (const config of [grpcHttp, network]) {
      expect(String(portOf(config, 'certgate_grpc'))).toBe(defaultOf('grpcPort'));
      const filter = JSON.stringify(named(config, config === network ? 'envoy.filters.network.ext_authz' : 'envoy.filters.http.ext_authz'));
      expect(filter).toContain('"include_peer_certificate":true');
      expect(filter).toContain('"include_tls_session":true');
      expect(filter).toContain('"failure_mode_allow":false');
    }
    expect(JSON.stringify(grpcHttp)).toContain(
      `"metadata_context_namespaces":["${CHAIN_METADATA_NAMESPACE}","${CLIENT_ID_METADATA_NAMESPACE}"]`,
    );
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

    it('answers an http_service deny with a body that tells the device nothing; the reason is in the headers Envoy logs', async () => {
      const stranger = certificate({ subject: identity('stranger', 'p256', false) });
      const res = await request(`http://127.0.0.1:${node.ports.authz}${PATHS.envoyHttp}/telemetry`, {
        headers: { 'x-forwarded-client-cert': `Cert="${escapePem(stranger.pem)}"`, 'x-certgate-sni': SNI_A },
      });
      expect(res.statusCode).toBe(403);
      expect(await res.body.json()).toEqual({ allow: false });
      expect(res.headers['x-certgate-reason']).toBe('CERTIFICATE_NOT_REGISTERED');
    });
  });
});
