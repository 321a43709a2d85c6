/**
 * Test harness for the admin API: a real server on 127.0.0.1 (random port) over a real
 * SQLite file in a temp dir, two accounts with credentials, an SDK client per account
 * and a runner for the real AWS CLI.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import { createAdminServer } from '../../ts/control/server.js';
import type { EngineName } from '../../ts/engine/types.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';
import type { Registry } from '../../ts/registry/types.js';

export interface TestAccount {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpointPrefix: string;
}

export const ACCOUNT_A: TestAccount = {
  accountId: '123456789012',
  accessKeyId: 'AKIDACCOUNTA0000001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  endpointPrefix: 'a1b2c3d4e5f6g7',
};
export const ACCOUNT_B: TestAccount = {
  accountId: '210987654321',
  accessKeyId: 'AKIDACCOUNTB0000001',
  secretAccessKey: 'bPxRfiCYEXAMPLEKEYwJalrXUtnFEMI/K7MDENG',
  endpointPrefix: 'h8i9j0k1l2m3n4',
};
export const REGION = 'us-east-1';

export interface AdminHarness {
  url: string;
  dbPath: string;
  registry: Registry;
  server: http.Server;
  client(account: TestAccount): IoTClient;
  close(): Promise<void>;
}

/** Start a server with accounts A and B. */
export async function startAdmin(
  options: {
    now?: () => number;
    engine?: EngineName;
    adminRateLimit?: number;
    /** Another registry than a new SQLite file in the temp dir (e.g. PostgreSQL); the harness closes it. */
    registry?: Registry;
  } = {},
): Promise<AdminHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'certgate-admin-'));
  const dbPath = path.join(dir, 'registry.db');
  const registry = options.registry ?? openSqliteRegistry({ path: dbPath, region: REGION });
  for (const account of [ACCOUNT_A, ACCOUNT_B]) {
    await registry.createAccount({ accountId: account.accountId, endpointPrefix: account.endpointPrefix });
    await registry.addCredential({
      accountId: account.accountId,
      accessKeyId: account.accessKeyId,
      secretAccessKey: account.secretAccessKey,
    });
  }
  const server = await createAdminServer({
    registry,
    engine: options.engine ?? 'native',
    ...(options.now ? { now: options.now } : {}),
    // Off unless a test asks: clients here make one attempt (maxAttempts: 1), so a
    // throttled call would fail a test that is not about throttling.
    adminRateLimit: options.adminRateLimit ?? 0,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: IoTClient[] = [];
  return {
    url,
    dbPath,
    registry,
    server,
    client(account) {
      const client = new IoTClient({
        region: REGION,
        endpoint: url,
        credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Debian AWS CLI (signs with `execute-api`); falls back to `aws` on PATH. */
export const AWS_CLI = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | null;
}

/** Run `aws iot <args>` against the harness, isolated from any user configuration. */
export function awsIot(harness: Pick<AdminHarness, 'url'>, account: TestAccount, args: string[]): Promise<CliResult> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    AWS_ACCESS_KEY_ID: account.accessKeyId,
    AWS_SECRET_ACCESS_KEY: account.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
  };
  const argv = ['iot', ...args, '--endpoint-url', harness.url, '--output', 'json', '--no-cli-pager'];
  return new Promise((resolve) => {
    execFile(AWS_CLI, argv, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      let json: Record<string, unknown> | null = null;
      if (stdout.trim() !== '') {
        try {
          json = JSON.parse(stdout) as Record<string, unknown>;
        } catch {
          json = null;
        }
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** The AWS error name of a rejected SDK call. */
export async function sdkError(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string; error: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message, error: err as Record<string, unknown> };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The hash constructor @smithy/signature-v4 wants, over node:crypto. */
export class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: Buffer | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export interface RawResponse {
  status: number;
  errorType: string | null;
  requestId: string | null;
  body: string;
  json: Record<string, unknown> | null;
  headers: Headers;
}

/** Send a SigV4-signed request (independent signer: @smithy/signature-v4) with an arbitrary body. */
export async function signedFetch(
  harness: AdminHarness,
  account: TestAccount,
  req: { method: string; path: string; query?: Record<string, string>; body?: string; headers?: Record<string, string> },
): Promise<RawResponse> {
  const url = new URL(harness.url);
  const signer = new SignatureV4({
    service: 'iot',
    region: REGION,
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: url.host, ...req.headers };
  if (req.body !== undefined && req.headers?.['content-type'] === undefined) headers['content-type'] = 'application/json';
  const signed = await signer.sign({
    method: req.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: req.path,
    query: req.query ?? {},
    headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  const query = new URLSearchParams(req.query ?? {}).toString();
  const res = await fetch(`${harness.url}${req.path}${query ? `?${query}` : ''}`, {
    method: req.method,
    headers: Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'host')),
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  const body = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = body === '' ? null : (JSON.parse(body) as Record<string, unknown>);
  } catch {
    json = null;
  }
  return {
    status: res.status,
    errorType: res.headers.get('x-amzn-errortype'),
    requestId: res.headers.get('x-amzn-requestid'),
    body,
    json,
    headers: res.headers,
  };
}
