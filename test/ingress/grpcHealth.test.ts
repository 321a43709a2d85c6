/**
 * gRPC health checking and server reflection on the authorizer's gRPC port, asked the way
 * Kubernetes gRPC probes, Envoy's `grpc_health_check` and grpcurl ask: grpc-js clients
 * built from the protos those tools use (grpc.health.v1 from `grpc-health-check`,
 * grpc.reflection.v1 from `@grpc/reflection`), against a real serving node.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUTHORIZATION_SERVICE, GrpcHealth } from '../../ts/ingress/grpcHealth.js';
import type { RunningNode } from '../../ts/server/node.js';
import { createWorld, type World } from '../authz/world.js';
import { testNode } from './node.js';

const require = createRequire(import.meta.url);

type HealthResponse = { status: string };
type HealthClient = grpc.Client & {
  Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: HealthResponse) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<HealthResponse>;
};
const HealthClientCtor = grpc.makeGenericClientConstructor(healthServiceDefinition as grpc.ServiceDefinition, 'Health');

function healthClient(port: number): HealthClient {
  return new HealthClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

function check(client: HealthClient, service: string): Promise<{ err: grpc.ServiceError | null; res: HealthResponse }> {
  return new Promise((resolve) => client.Check({ service }, (err, res) => resolve({ err, res })));
}

/** A grpc.reflection.v1 client, from the proto shipped in @grpc/reflection. */
function reflectionClient(port: number): grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionResponse> } {
  const root = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const definition = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', {
    keepCase: true,
    defaults: true,
    oneofs: true,
    includeDirs: [root],
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  return new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
}
type ReflectionResponse = {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
};

describe('gRPC health and reflection on the authorizer port', () => {
  let world: World;
  let node: RunningNode | undefined;

  beforeEach(async () => {
    world = await createWorld();
    node = await testNode(world);
  });
  afterEach(async () => {
    await node?.close();
    await world.dispose();
  });

  it('answers SERVING for the server and the Authorization service, NOT_FOUND for others', async () => {
    const client = healthClient(node!.ports.grpc);
    try {
      expect((await check(client, '')).res.status).toBe('SERVING');
      expect((await check(client, AUTHORIZATION_SERVICE)).res.status).toBe('SERVING');
      const unknown = await check(client, 'no.such.Service');
      expect(unknown.err?.code).toBe(grpc.status.NOT_FOUND);
    } finally {
      client.close();
    }
  });

  it('tells a Watch stream NOT_SERVING and ends it when the node drains, without holding the shutdown', async () => {
    const client = healthClient(node!.ports.grpc);
    const seen: string[] = [];
    const stream = client.Watch({ service: '' });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', () => resolve());
      stream.on('error', () => resolve());
    });
    stream.on('data', (m: HealthResponse) => seen.push(m.status));
    await expect.poll(() => seen).toEqual(['SERVING']);
    const started = Date.now();
    await node!.close();
    node = undefined;
    await ended;
    client.close();
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    // grpc-js's tryShutdown waits for open calls; an open Watch would hold it until forced (5 s).
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('lists the Authorization and Health services through server reflection, with their descriptors', async () => {
    const client = reflectionClient(node!.ports.grpc);
    const call = client.ServerReflectionInfo();
    const answers: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: ReflectionResponse) => {
        answers.push(m);
        if (answers.length === 2) call.end();
      });
      call.on('end', () => resolve());
      call.on('error', reject);
    });
    call.write({ list_services: '*' });
    call.write({ file_containing_symbol: AUTHORIZATION_SERVICE });
    await done;
    client.close();
    const names = answers[0]?.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(expect.arrayContaining([AUTHORIZATION_SERVICE, 'grpc.health.v1.Health']));
    expect(answers[1]?.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
  });
});

describe('GrpcHealth readiness', () => {
  it('is NOT_SERVING while the registry cannot be read, and SERVING again once it can', async () => {
    let ready: boolean | Error = new Error('registry unreachable');
    const health = new GrpcHealth(async () => {
      if (ready instanceof Error) throw ready;
      return ready;
    });
    const server = new grpc.Server();
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const client = healthClient(port);
    try {
      expect((await check(client, '')).res.status).toBe('NOT_SERVING');
      ready = false;
      expect((await check(client, AUTHORIZATION_SERVICE)).res.status).toBe('NOT_SERVING');
      ready = true;
      expect((await check(client, '')).res.status).toBe('SERVING');
      health.drain();
      expect((await check(client, '')).res.status).toBe('NOT_SERVING');
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
