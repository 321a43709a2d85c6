/**
 * Runs the real Debian NGINX on loopback with the shipped `examples/nginx/` files,
 * rendered by `examples/nginx/render.mjs` (the documented way) with free loopback ports
 * and a temp prefix, and drives it with the real curl (client certificates, `--resolve`
 * for SNI). Child processes run asynchronously: certgate serves in this same process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../ts/paths.js';
import { certificate, identity, keyPem, type Cert } from '../authz/pki.js';

const run = promisify(execFile);

/** The shipped example directory. */
export const NGINX_EXAMPLES = path.join(projectRoot, 'examples', 'nginx');

/** A free loopback port (bind 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, deadlineMs: number, what = 'nginx'): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `node examples/nginx/render.mjs OUTDIR` with `values` as its environment, as a user runs it. */
export async function renderExamples(out: string, values: Record<string, string>): Promise<void> {
  await run(process.execPath, [path.join(NGINX_EXAMPLES, 'render.mjs'), out], { env: { ...process.env, ...values } });
}

/** A server certificate for `hosts` (and its CA) written where the examples expect it. */
export function writeServerTls(prefix: string, hosts: string[]): Cert {
  const serverCaId = identity('NGINX test server CA', 'p256', false);
  const serverCa = certificate({ subject: serverCaId, ca: true });
  const serverId = identity(hosts[0] ?? 'server', 'p256', false);
  const server = certificate({ subject: serverId, issuer: serverCaId, dns: hosts, eku: 'server' });
  writeFileSync(path.join(prefix, 'tls', 'server.pem'), server.pem);
  writeFileSync(path.join(prefix, 'tls', 'server.key'), keyPem(serverId));
  return serverCa;
}

/** `nginx -t` on a rendered prefix; rejects with NGINX's message. */
export async function nginxTest(prefix: string): Promise<string> {
  const { stderr } = await run('nginx', [
    '-t',
    '-p',
    prefix,
    '-c',
    path.join(prefix, 'nginx.conf'),
    '-e',
    path.join(prefix, 'logs', 'error.log'),
  ]);
  return stderr;
}

/** The protected application: answers 200 with the x-certgate-* headers NGINX handed it. */
export interface App {
  port: number;
  close(): Promise<void>;
}
export async function startApp(): Promise<App> {
  const server = http.createServer((req, res) => {
    const seen = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-certgate-')));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

export interface Nginx {
  /** HTTPS port (certgate-http.conf). */
  port: number;
  /** MQTT over TLS port (certgate-mqtt.conf). */
  mqttPort: number;
  prefix: string;
  serverCa: Cert;
  stop(): Promise<void>;
  errorLog(): string;
  /** certgate-http.conf's access log (decision reasons). */
  accessLog(): string;
  /** certgate-mqtt.conf's access log, written when a session ends. */
  mqttLog(): string;
}

export interface NginxOptions {
  authzPort: number;
  /** SNI names in the server certificate. */
  hosts: string[];
  appPort?: number;
  brokerPort?: number;
  /** Further render.mjs values (e.g. MAX_SESSION_SECONDS). */
  render?: Record<string, string>;
}

/** Render the shipped examples into `dir/nginx` with free ports and start NGINX on them. */
export async function startNginx(dir: string, o: NginxOptions, name = 'nginx'): Promise<Nginx> {
  const prefix = path.join(dir, name);
  const port = await freePort();
  const mqttPort = await freePort();
  await renderExamples(prefix, {
    CERTGATE_AUTHZ: `127.0.0.1:${o.authzPort}`,
    HTTPS_LISTEN: `127.0.0.1:${port}`,
    MQTT_LISTEN: `127.0.0.1:${mqttPort}`,
    APP: `127.0.0.1:${o.appPort ?? (await freePort())}`,
    BROKER: `127.0.0.1:${o.brokerPort ?? (await freePort())}`,
    ...o.render,
  });
  const serverCa = writeServerTls(prefix, o.hosts);
  const errorLog = path.join(prefix, 'logs', 'error.log');
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', prefix, '-e', errorLog, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off; master_process off;'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    Promise.all([waitForPort(port, 10_000), waitForPort(mqttPort, 10_000)]),
    exited.then(() => Promise.reject(new Error(read(errorLog)))),
  ]);
  return {
    port,
    mqttPort,
    prefix,
    serverCa,
    errorLog: () => read(errorLog),
    accessLog: () => read(path.join(prefix, 'logs', 'certgate-http.log')),
    mqttLog: () => read(path.join(prefix, 'logs', 'certgate-mqtt.log')),
    async stop() {
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** HTTPS GET through NGINX with a client certificate, SNI `host` resolved to loopback. */
export async function curl(
  nginx: Nginx,
  dir: string,
  host: string,
  client: { cert: Cert; key: string } | null,
  extraHeaders: string[] = [],
): Promise<CurlResult> {
  const ca = path.join(dir, 'server-ca.pem');
  writeFileSync(ca, nginx.serverCa.pem);
  const bodyFile = path.join(dir, `body-${process.hrtime.bigint()}`);
  const args = ['-s', '-o', bodyFile, '-D', '-', '--cacert', ca, '--resolve', `${host}:${nginx.port}:127.0.0.1`];
  for (const h of extraHeaders) args.push('-H', h);
  if (client !== null) {
    const certFile = path.join(dir, `client-${client.cert.id.slice(0, 12)}.pem`);
    const keyFile = `${certFile}.key`;
    writeFileSync(certFile, client.cert.pem);
    writeFileSync(keyFile, client.key);
    args.push('--cert', certFile, '--key', keyFile);
  }
  args.push(`https://${host}:${nginx.port}/`);
  const { stdout } = await run('curl', args);
  const [statusLine = '', ...lines] = stdout.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: existsSync(bodyFile) ? readFileSync(bodyFile, 'utf8') : '' };
}
