/**
 * The client id binding (AWS IoT's `iot:Connection.Thing.IsAttached`): per account, off
 * by default; when on, only a client id naming a thing attached to the certificate is
 * allowed, through every door that carries one (JSON `clientId`, NGINX and Envoy HTTP
 * `x-certgate-client-id`, gRPC dynamic metadata `certgate.client` / `client_id`).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID_METADATA_NAMESPACE, checkInput } from '../../ts/ingress/grpc.js';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { PATHS } from '../../ts/ingress/http.js';
import { projectRoot } from '../../ts/paths.js';
import type { RunningNode } from '../../ts/server/node.js';
import { certificate, escapePem, identity, type Cert } from './pki.js';
import { ACCOUNT_A, ACCOUNT_B, SNI_A, createWorld, type World } from './world.js';
import { testNode } from '../ingress/node.js';

const run = promisify(execFile);

describe('client id bound to an attached thing', () => {
  let world: World;
  let node: RunningNode;
  let device: Cert;
  const url = (p: string) => `http://127.0.0.1:${node.ports.authz}${p}`;

  async function json(clientId: unknown, sni: string | null = SNI_A): Promise<{ status: number; reason: string }> {
    const res = await request(url(PATHS.json), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sni, certChain: [device.pem], ...(clientId === undefined ? {} : { clientId }) }),
    });
    const body = (await res.body.json()) as { reason: string };
    return { status: res.statusCode, reason: body.reason };
  }
  async function nginx(clientId?: string): Promise<string | string[] | undefined> {
    const res = await request(url(PATHS.nginx), {
      headers: {
        'x-ssl-client-cert': escapePem(device.pem),
        'x-ssl-server-name': SNI_A,
        ...(clientId ? { 'x-certgate-client-id': clientId } : {}),
      },
    });
    await res.body.dump();
    return res.headers['x-certgate-reason'];
  }
  async function envoyHttp(clientId?: string): Promise<string | string[] | undefined> {
    const res = await request(url(`${PATHS.envoyHttp}/x`), {
      headers: {
        'x-forwarded-client-cert': `Cert="${escapePem(device.pem)}"`,
        'x-certgate-sni': SNI_A,
        ...(clientId ? { 'x-certgate-client-id': clientId } : {}),
      },
    });
    await res.body.dump();
    return res.headers['x-certgate-reason'];
  }
  const cli = (...args: string[]) =>
    run(process.execPath, [
      path.join(projectRoot, 'bin', 'certgate.js'),
      'account',
      'settings',
      '--db',
      world.dbPath,
      '--account',
      ACCOUNT_A,
      ...args,
    ]);

  beforeAll(async () => {
    world = await createWorld();
    node = await testNode(world, { configCacheMs: '0' });
    device = certificate({ subject: identity('thermostat-7', 'p256', false) });
    await world.register(device, { mode: 'DEFAULT' });
    await world.registry.attachThingPrincipal(ACCOUNT_A, 'thermostat-7', `arn:aws:iot:us-east-1:${ACCOUNT_A}:cert/${device.id}`);
  });
  afterAll(async () => {
    await node?.close();
    await world?.dispose();
  });

  it('is off by default: any client id, or none, is allowed', async () => {
    expect(await json('anything')).toEqual({ status: 200, reason: 'CERTIFICATE_ACTIVE' });
    expect(await json(undefined)).toEqual({ status: 200, reason: 'CERTIFICATE_ACTIVE' });
    const { stdout } = await cli('--json');
    expect(JSON.parse(stdout)).toEqual({ accountId: ACCOUNT_A, bindClientIdToThing: false });
  });

  it('when turned on with `certgate account settings`, allows only the attached thing as client id, at every door', async () => {
    const { stdout } = await cli('--bind-client-id-to-thing', 'on', '--json');
    expect(JSON.parse(stdout)).toEqual({ accountId: ACCOUNT_A, bindClientIdToThing: true });
    // Warm first (a cached allow), so the synchronous path is the one that must refuse.
    expect(await json('thermostat-7')).toEqual({ status: 200, reason: 'CERTIFICATE_ACTIVE' });
    expect(await json('thermostat-8')).toEqual({ status: 403, reason: 'CLIENT_ID_NOT_ATTACHED_THING' });
    expect(await json(undefined)).toEqual({ status: 403, reason: 'CLIENT_ID_NOT_ATTACHED_THING' });
    expect(await json('')).toEqual({ status: 403, reason: 'CLIENT_ID_NOT_ATTACHED_THING' });
    expect([await nginx('thermostat-7'), await nginx('impostor'), await nginx()]).toEqual([
      'CERTIFICATE_ACTIVE',
      'CLIENT_ID_NOT_ATTACHED_THING',
      'CLIENT_ID_NOT_ATTACHED_THING',
    ]);
    expect([await envoyHttp('thermostat-7'), await envoyHttp('impostor')]).toEqual(['CERTIFICATE_ACTIVE', 'CLIENT_ID_NOT_ATTACHED_THING']);
    // Without SNI the (DEFAULT-mode, single-account) certificate's account binding applies too.
    expect(await json('impostor', null)).toEqual({ status: 403, reason: 'CLIENT_ID_NOT_ATTACHED_THING' });
    expect(await json('thermostat-7', null)).toEqual({ status: 200, reason: 'CERTIFICATE_ACTIVE' });
  });

  it('binds per account: account B keeps its default', async () => {
    expect((await world.registry.getAccount(ACCOUNT_B))?.bindClientIdToThing).toBe(false);
  });

  it('refuses bad input clearly and changes nothing', async () => {
    const res = await request(url(PATHS.json), {
      method: 'POST',
      body: JSON.stringify({ sni: SNI_A, certChain: [device.pem], clientId: 7 }),
    });
    expect([res.statusCode, ((await res.body.json()) as { message: string }).message]).toEqual([
      400,
      '"clientId" must be a string or null',
    ]);
    expect(await json('x'.repeat(65_536))).toEqual({ status: 400, reason: 'BAD_REQUEST' });
    const err = await cli('--bind-client-id-to-thing', 'yes').catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((await world.registry.getAccount(ACCOUNT_A))?.bindClientIdToThing).toBe(true);
  });

  it('reads the client id from Envoy dynamic metadata on the gRPC door', () => {
    const input = checkInput(
      {
        attributes: {
          source: { certificate: escapePem(device.pem) },
          tls_session: { sni: SNI_A },
          metadata_context: {
            filter_metadata: { [CLIENT_ID_METADATA_NAMESPACE]: { fields: { client_id: { stringValue: 'thermostat-7' } } } },
          },
        },
      },
      DEFAULT_LIMITS,
    );
    expect(input.clientId).toBe('thermostat-7');
    expect(checkInput({ attributes: { source: { certificate: escapePem(device.pem) } } }, DEFAULT_LIMITS).clientId).toBeNull();
  });

  it('turns off again', async () => {
    await cli('--bind-client-id-to-thing', 'off');
    expect(await json('anything')).toEqual({ status: 200, reason: 'CERTIFICATE_ACTIVE' });
  });
});
