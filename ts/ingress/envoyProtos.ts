/**
 * The real Envoy ext_authz protos, vendored in `protos/` (the 19 files the Authorization
 * service imports, laid out by import path as in Envoy's `api/` tree; sources and licence
 * in protos/README.md). `longs`/`enums` must be the String constructor (the string
 * "String" silently yields numbers).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { projectRoot } from '../paths.js';

const require = createRequire(import.meta.url);

/** Entry file of the Authorization service. */
export const EXTERNAL_AUTH_PROTO = 'envoy/service/auth/v3/external_auth.proto';

/** Loader options verified against Envoy's messages (test/ingress/grpc.test.ts sends real CheckRequests). */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The include directory of {@link EXTERNAL_AUTH_PROTO} and everything it imports. */
export const ENVOY_PROTOS_DIR = path.join(projectRoot, 'protos');

/** The gRPC health-checking proto, as shipped in `grpc-health-check` (grpcHealth.ts). */
export const HEALTH_PROTO = 'health/v1/health.proto';

/** The include directory of {@link HEALTH_PROTO}. */
export function healthIncludeDir(): string {
  return path.dirname(path.dirname(path.dirname(require.resolve('grpc-health-check/proto/health/v1/health.proto'))));
}

let definition: protoLoader.PackageDefinition | undefined;

/**
 * Every service the gRPC port serves (Authorization and Health), loaded once: the
 * Authorization service is built from it and server reflection describes it.
 */
export function grpcPackageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync([EXTERNAL_AUTH_PROTO, HEALTH_PROTO], {
    ...LOADER_OPTIONS,
    includeDirs: [ENVOY_PROTOS_DIR, healthIncludeDir()],
  });
  return definition;
}

let cached: grpc.ServiceClientConstructor | undefined;

/** `envoy.service.auth.v3.Authorization` (its `.service` is the definition a server adds). */
export function authorizationService(): grpc.ServiceClientConstructor {
  if (cached !== undefined) return cached;
  const pkg = grpc.loadPackageDefinition(grpcPackageDefinition()) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } };
  };
  cached = pkg.envoy.service.auth.v3.Authorization;
  return cached;
}
