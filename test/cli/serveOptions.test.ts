/**
 * `certgate serve` flags and environment variables, parsed by the real commander program
 * (only the final `serve(config)` call is replaced), so a flag whose value never reaches
 * the configuration fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServeConfig } from '../../ts/server/config.js';
import { buildProgram } from '../../ts/cli/main.js';
import { serveConfigFromOptions } from '../../ts/cli/commands/serve.js';

async function parse(argv: string[]): Promise<ServeConfig> {
  const program = buildProgram();
  const serve = program.commands.find((c) => c.name() === 'serve');
  if (!serve) throw new Error('no serve command');
  let captured: ServeConfig | undefined;
  serve.action((options: Record<string, unknown>) => {
    captured = serveConfigFromOptions(options);
  });
  await program.parseAsync(['serve', ...argv], { from: 'user' });
  if (!captured) throw new Error('serve action did not run');
  return captured;
}

describe('certgate serve options', () => {
  afterEach(() => {
    delete process.env['CERTGATE_WEBHOOKS'];
  });

  it('passes every --webhook URL to the configuration', async () => {
    const config = await parse(['--webhook', 'http://127.0.0.1:1/a', '--webhook', 'https://hooks.example/b']);
    expect(config.webhooks).toEqual(['http://127.0.0.1:1/a', 'https://hooks.example/b']);
  });

  it('reads CERTGATE_WEBHOOKS as a comma-separated list', async () => {
    process.env['CERTGATE_WEBHOOKS'] = 'http://127.0.0.1:1/a,http://127.0.0.1:2/b';
    const config = await parse([]);
    expect(config.webhooks).toEqual(['http://127.0.0.1:1/a', 'http://127.0.0.1:2/b']);
  });

  it('keeps safe defaults: loopback, no webhooks', async () => {
    const config = await parse([]);
    expect(config.host).toBe('127.0.0.1');
    expect(config.webhooks).toEqual([]);
  });

  it('refuses a webhook that is not an http(s) URL as a usage error', async () => {
    await expect(parse(['--webhook', 'file:///etc/passwd'])).rejects.toMatchObject({ exitCode: 2 });
  });

  it('reaches the configuration for every documented flag', async () => {
    const config = await parse([
      '--verify-cache-size',
      '7',
      '--deadline-ms',
      '55',
      '--envoy-sni-header',
      'x-sni',
      '--max-chain-length',
      '3',
    ]);
    expect(config).toMatchObject({ verifyCacheSize: 7, envoySniHeader: 'x-sni' });
    expect(JSON.stringify(config)).toContain('55');
    expect(JSON.stringify(config)).toContain('"maxChainLength":3');
  });

  // branch keys
  it('passes --admin-rate-limit and CERTGATE_ADMIN_RATE_LIMIT to the configuration', async () => {
    expect((await parse(['--admin-rate-limit', '3'])).adminRateLimit).toBe(3);
    process.env['CERTGATE_ADMIN_RATE_LIMIT'] = '0';
    try {
      expect((await parse([])).adminRateLimit).toBe(0);
    } finally {
      delete process.env['CERTGATE_ADMIN_RATE_LIMIT'];
    }
  });
});

describe('admission, shedding and metrics flags', () => {
  it('reach the configuration, with documented defaults', async () => {
    const defaults = await parse([]);
    expect(defaults.metricsPort).toBeUndefined();
    expect(defaults.admission).toEqual({ maxConnections: 512, headersTimeoutMs: 5000, requestTimeoutMs: 10_000 });
    expect(defaults.shedding).toStrictEqual({ maxInFlight: 64, shedAfterMs: 5, requestStartHeader: undefined });
    const set = await parse([
      '--metrics-port',
      '0',
      '--max-connections',
      '9',
      '--headers-timeout-ms',
      '700',
      '--request-timeout-ms',
      '900',
      '--max-in-flight',
      '3',
      '--shed-after-ms',
      '0',
      '--request-start-header',
      'X-Request-Start',
    ]);
    expect(set).toMatchObject({
      metricsPort: 0,
      admission: { maxConnections: 9, headersTimeoutMs: 700, requestTimeoutMs: 900 },
      shedding: { maxInFlight: 3, shedAfterMs: 0, requestStartHeader: 'x-request-start' },
    });
  });

  it('refuses a header timeout longer than the request timeout, and a zero in-flight bound, as usage errors', async () => {
    await expect(parse(['--headers-timeout-ms', '5000', '--request-timeout-ms', '1000'])).rejects.toMatchObject({ exitCode: 2 });
    await expect(parse(['--max-in-flight', '0'])).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('the loopback check behind the --host warning', () => {
  it('knows loopback from the network', async () => {
    const { isLoopback } = await import('../../ts/server/serve.js');
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', '127.0.0.1.example']) expect(isLoopback(host)).toBe(false);
  });
});
