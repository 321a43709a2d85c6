/**
 * Runs the real Debian NGINX on loopback with `examples/nginx/certgate.conf` in a temp
 * prefix, and drives it with the real curl (client certificates, `--resolve` for SNI).
 * Child processes run asynchronously: certgate serves in this same process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../ts/paths.js';
import { certificate, identity, keyPem, type Cert } from '../authz/pki.js';

const run = promisify(execFile);

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

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
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
    if (Date.now() > until) throw new Error(`nginx did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Nginx {
  port: number;
  serverCa: Cert;
  stop(): Promise<void>;
  errorLog(): string;
}

/** Start NGINX for `hosts` (SNI names in the server certificate) proxying auth to `authzPort`. */
export async function startNginx(dir: string, authzPort: number, hosts: string[]): Promise<Nginx> {
  const prefix = path.join(dir, 'nginx');
  mkdirSync(path.join(prefix, 'html'), { recursive: true });
  const serverCaId = identity('NGINX test server CA', 'p256', false);
  const serverCa = certificate({ subject: serverCaId, ca: true });
  const serverId = identity(hosts[0] ?? 'server', 'p256', false);
  const server = certificate({ subject: serverId, issuer: serverCaId, dns: hosts, eku: 'server' });
  writeFileSync(path.join(prefix, 'server.pem'), server.pem);
  writeFileSync(path.join(prefix, 'server.key'), keyPem(serverId));
  writeFileSync(path.join(prefix, 'html', 'index.html'), 'protected\n');
  const port = await freePort();
  const site = readFileSync(path.join(projectRoot, 'examples', 'nginx', 'certgate.conf'), 'utf8')
    .replaceAll('{{AUTHZ_PORT}}', String(authzPort))
    .replaceAll('{{TLS_PORT}}', String(port))
    .replaceAll('{{SERVER_CERT}}', path.join(prefix, 'server.pem'))
    .replaceAll('{{SERVER_KEY}}', path.join(prefix, 'server.key'))
    .replaceAll('{{HTML_ROOT}}', path.join(prefix, 'html'));
  writeFileSync(path.join(prefix, 'certgate.conf'), site);
  const temp = (name: string) => `${name} ${path.join(prefix, name)};`;
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    [
      'daemon off;',
      'master_process off;',
      'worker_processes 1;',
      `pid ${path.join(prefix, 'nginx.pid')};`,
      `error_log ${path.join(prefix, 'error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${path.join(prefix, 'access.log')};`,
      `  ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')}`,
      `  ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}`,
      `  include ${path.join(prefix, 'certgate.conf')};`,
      '}',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-e', path.join(prefix, 'error.log'), '-c', path.join(prefix, 'nginx.conf')], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([waitForPort(port, 10_000), exited.then(() => Promise.reject(new Error(readFileSync(path.join(prefix, 'error.log'), 'utf8'))))]);
  return {
    port,
    serverCa,
    errorLog: () => readFileSync(path.join(prefix, 'error.log'), 'utf8'),
    async stop() {
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
}

/** HTTPS GET through NGINX with a client certificate, SNI `host` resolved to loopback. */
export async function curl(
  nginx: Nginx,
  dir: string,
  host: string,
  client: { cert: Cert; key: string } | null,
): Promise<CurlResult> {
  const ca = path.join(dir, 'server-ca.pem');
  writeFileSync(ca, nginx.serverCa.pem);
  const args = ['-s', '-o', '/dev/null', '-D', '-', '--cacert', ca, '--resolve', `${host}:${nginx.port}:127.0.0.1`];
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
  return { status: Number(statusLine.split(' ')[1]), headers };
}
