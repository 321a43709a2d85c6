/**
 * The README's quick start is run, not just read: its shell blocks go through bash
 * against a real `certgate serve` (the built CLI, a real SQLite file), and the answers
 * must be the ones the README shows. Its NGINX snippet must be part of the file the
 * NGINX end-to-end test runs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../ts/paths.js';

const run = promisify(execFile);
const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
const cli = path.join(projectRoot, 'bin', 'certgate.js');

/** Fenced blocks of a language, in order. */
function blocks(lang: string): string[] {
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
}

function blockStartingWith(lang: string, prefix: string): string {
  const found = blocks(lang).find((b) => b.startsWith(prefix));
  if (found === undefined) throw new Error(`README has no \`\`\`${lang} block starting with ${prefix}`);
  return found;
}

/** The words of a table line (columns are padded to the widest value). */
function words(line: string | undefined): string[] {
  return (line ?? '').trim().split(/\s+/);
}

describe('the README quick start', () => {
  let dir: string;
  let server: ChildProcess;
  let authzUrl: string;

  /** Run a README block in bash, the way a reader pastes it, against our server. */
  async function paste(script: string, prelude = ''): Promise<string> {
    const body = script.replaceAll('node bin/certgate.js', `node ${cli}`).replaceAll('http://127.0.0.1:9441', authzUrl);
    const { stdout } = await run('bash', ['-c', `set -e\nshopt -s expand_aliases\n${prelude}\n${body}`], {
      cwd: dir,
      env: { ...process.env, CERTGATE_DB: path.join(dir, 'certgate.db'), CERTGATE_AUTHZ_URL: authzUrl },
    });
    return stdout;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-readme-'));
    server = spawn(
      process.execPath,
      [
        cli,
        'serve',
        '--db',
        path.join(dir, 'certgate.db'),
        '--admin-port',
        '0',
        '--authz-port',
        '0',
        '--grpc-port',
        '0',
        '--processes',
        '1',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    authzUrl = await new Promise<string>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`certgate serve exited with ${code}`)));
      createInterface({ input: server.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; authz?: string };
        if (entry.msg === 'listening' && entry.authz) resolve(entry.authz);
      });
    });
  });

  afterAll(() => {
    server?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const quickStart = blockStartingWith('sh', 'alias certgate=');
  const curlBlock = blockStartingWith('sh', 'node -e');

  it('creates an account and a certificate, and the authorizer allows it as shown', async () => {
    const out = await paste(quickStart);
    const shown = blockStartingWith('text', 'DECISION').trim().split('\n');
    const lines = out.trim().split('\n');
    const table = lines.slice(-2);
    expect(table[0]).toBe(shown[0]);
    // The README shows a placeholder for the id; everything before it must match.
    const fixedPart = (shown[1] ?? '').replace('<your certificate id>', '');
    expect(table[1]?.startsWith(fixedPart)).toBe(true);
    expect(table[1]).toMatch(/[0-9a-f]{64}$/);
  });

  it('provisions a fleet and load-tests the authorizer with the commands shown; every answer is right', async () => {
    const block = blockStartingWith('sh', 'certgate fleet create');
    const out = await paste(block, `alias certgate="node ${cli}"`);
    const shown = blockStartingWith('text', 'ACCOUNT').split('\n');
    const lines = out.trim().split('\n');
    // The same tables: the fleet summary, then the load summary (figures differ by run).
    // Columns are padded to the widest value, so compare the headers word by word.
    expect(words(lines[0])).toEqual(words(shown[0]));
    expect(words(lines[2])).toEqual(words(shown[2]));
    const fleet = lines[1]?.split(/\s+/) ?? [];
    expect(fleet.slice(2, 6)).toEqual(['1000', '1000', '100', '0']);
    const load = Object.fromEntries((lines[2] ?? '').split(/\s{2,}/).map((h, i) => [h, (lines[3] ?? '').split(/\s{2,}/)[i]]));
    // 200/s for 5 s on a fixed schedule: the 1000th is due at the very end (999 or 1000).
    expect(Number(load['REQUESTS'])).toBeGreaterThanOrEqual(990);
    expect(Number(load['REQUESTS'])).toBeLessThanOrEqual(1000);
    expect(load['WRONG']).toBe('0');
    expect(load['ERROR']).toBe('0');
  }, 120_000);

  it('answers the curl request with the JSON shown, and denies once the certificate is revoked', async () => {
    const sni = `SNI=$(node ${cli} account list --json | node -p 'JSON.parse(require("fs").readFileSync(0)).accounts[0].endpoint')`;
    const shown = JSON.parse(blockStartingWith('json', '{"allow"')) as Record<string, unknown>;
    const allowed = JSON.parse(await paste(curlBlock, sni)) as Record<string, unknown>;
    expect({ ...allowed, certificateId: '…' }).toEqual(shown);

    const id = String(allowed['certificateId']);
    await run(process.execPath, [cli, 'cert', 'revoke', id], {
      cwd: dir,
      env: { ...process.env, CERTGATE_DB: path.join(dir, 'certgate.db') },
    });
    const denied = JSON.parse(await paste(curlBlock, sni)) as Record<string, unknown>;
    expect([denied['allow'], denied['reason']]).toEqual([false, 'CERTIFICATE_REVOKED']);

    // `certgate authorize` says the same with its exit code: 1 is a deny.
    const refused = await paste(`${sni}\nnode ${cli} authorize --json --sni "$SNI" device/*.cert.pem || echo "exit=$?"`);
    expect(refused).toContain('"reason": "CERTIFICATE_REVOKED"');
    expect(refused.trim().endsWith('exit=1')).toBe(true);
  });
});

describe('the README NGINX snippet', () => {
  it('is part of the configuration the NGINX end-to-end test runs', () => {
    const example = readFileSync(path.join(projectRoot, 'examples', 'nginx', 'certgate-http.conf'), 'utf8');
    const exampleLines = new Set(example.split('\n').map((l) => l.trim()));
    const snippet = blockStartingWith('nginx', '');
    for (const line of snippet
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && l !== '}')) {
      expect(exampleLines, `README line not in examples/nginx/certgate-http.conf: ${line}`).toContain(line);
    }
  });
});

describe('the README "Devices over MQTT" section', () => {
  let dir: string;
  let server: ChildProcess;
  let authzPort: string;
  const ports: Record<string, string> = {};

  /** Run a README block in bash as a reader pastes it, with free ports for the listeners. */
  async function paste(script: string): Promise<string> {
    const body = script.replaceAll('node examples/', `node ${projectRoot}/examples/`);
    const prelude = [
      'shopt -s expand_aliases',
      `alias certgate="node ${cli}"`,
      `SNI=$(node ${cli} account list --json | node -p 'JSON.parse(require("fs").readFileSync(0)).accounts[0].endpoint')`,
    ].join('\n');
    const { stdout } = await run('bash', ['-c', `set -e\n${prelude}\n${body}`], {
      cwd: dir,
      env: { ...process.env, CERTGATE_DB: path.join(dir, 'certgate.db'), AUTHZ_PORT: authzPort, ...ports },
    });
    return stdout;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'certgate-readme-mqtt-'));
    const { freePort } = await import('../e2e/nginxHarness.js');
    for (const name of ['BROKER_PORT', 'MQTT_PORT', 'HTTPS_PORT']) ports[name] = String(await freePort());
    server = spawn(
      process.execPath,
      [
        cli,
        'serve',
        '--db',
        path.join(dir, 'certgate.db'),
        '--admin-port',
        '0',
        '--authz-port',
        '0',
        '--grpc-port',
        '0',
        '--processes',
        '1',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`certgate serve exited with ${code}`)));
      createInterface({ input: server.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; authz?: string };
        if (entry.msg === 'listening' && entry.authz) resolve(entry.authz);
      });
    });
    authzPort = new URL(url).port;
    await run(process.execPath, [cli, 'account', 'create', '--account-id', '123456789012'], {
      cwd: dir,
      env: { ...process.env, CERTGATE_DB: path.join(dir, 'certgate.db') },
    });
  });

  afterAll(async () => {
    if (dir) {
      await run('nginx', [
        '-p',
        path.join(dir, 'nginx'),
        '-c',
        path.join(dir, 'nginx', 'nginx.conf'),
        '-e',
        path.join(dir, 'nginx', 'logs', 'error.log'),
        '-s',
        'quit',
      ]).catch(() => undefined);
      await run('bash', ['-c', `kill "$(cat ${dir}/mosquitto.pid)"`]).catch(() => undefined);
    }
    server?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts the broker and NGINX, and the device connects, publishes and gets its message back; revoked, it is refused', async () => {
    // Daemons started by the block must not hold our stdout pipe open.
    await paste(`{\n${blockStartingWith('sh', '# 1. The broker')}\n} </dev/null >${dir}/daemons.log 2>&1`);
    const device = blockStartingWith('sh', '# 3. A device');
    let out = '';
    // NGINX daemonizes; give it a moment to listen.
    for (let i = 0; i < 40 && !out.includes('received'); i++) {
      out = await paste(
        device.replace(
          'certgate cert create --set-as-active --out-dir device\n',
          i === 0 ? 'certgate cert create --set-as-active --out-dir device\n' : '',
        ),
      ).catch((e: { stdout?: string }) => e.stdout ?? '');
      if (!out.includes('received')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(out).toContain('connected as thermostat-1');
    expect(out).toContain('received on devices/hello: hello from thermostat-1');
    const id = readdirSync(path.join(dir, 'device'))
      .find((f) => f.endsWith('.cert.pem'))
      ?.replace('.cert.pem', '');
    await run(process.execPath, [cli, 'cert', 'revoke', String(id)], {
      cwd: dir,
      env: { ...process.env, CERTGATE_DB: path.join(dir, 'certgate.db') },
    });
    const refused = await paste(device.replace('certgate cert create --set-as-active --out-dir device\n', '')).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stdout: string }).stdout).toContain('refused:');
    expect(readFileSync(path.join(dir, 'nginx', 'logs', 'certgate-mqtt.log'), 'utf8')).toContain(
      'client_id=thermostat-1 reason=CERTIFICATE_REVOKED',
    );
  }, 60_000);
});
