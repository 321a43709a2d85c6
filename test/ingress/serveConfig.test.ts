import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../ts/authz/limits.js';
import { ConfigError, parseServeConfig, SERVE_OPTIONS } from '../../ts/server/config.js';

describe('certgate serve configuration', () => {
  it('defaults to loopback and ports 9440/9441/9442 with the documented limits', () => {
    const c = parseServeConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      adminPort: 9440,
      authzPort: 9441,
      grpcPort: 9442,
      engine: 'native',
      verifyCacheSize: 100000,
    });
    expect(c.limits).toEqual(DEFAULT_LIMITS);
  });

  it('accepts port 0 (any free port) and reads comma-separated webhooks', () => {
    const c = parseServeConfig({ authzPort: '0', webhooks: 'http://a.example/hook, https://b.example/x' });
    expect(c.authzPort).toBe(0);
    expect(c.webhooks).toEqual(['http://a.example/hook', 'https://b.example/x']);
  });

  it.each([
    [{ authzPort: '70000' }, /--authz-port must be an integer in \[0, 65535\], got "70000"/],
    [{ grpcPort: 'abc' }, /--grpc-port/],
    [{ engine: 'java' }, /--engine must be native or wasm/],
    [{ decisionLogSample: '2' }, /--decision-log-sample/],
    [{ logFormat: 'xml' }, /--log-format must be json or pretty, got "xml"/],
    [{ maxChainLength: '0' }, /--max-chain-length/],
    [{ webhooks: ['ftp://x'] }, /--webhook must be an http\(s\) URL/],
    [{ viewStandings: 'some' }, /--view-standings must be all or seen, got "some"/],
  ])('rejects %o with a message naming the flag', (raw, message) => {
    expect(() => parseServeConfig(raw)).toThrow(ConfigError);
    expect(() => parseServeConfig(raw)).toThrow(message);
  });

  it('gives every option an environment variable', () => {
    for (const o of SERVE_OPTIONS) expect(o.env).toMatch(/^CERTGATE_[A-Z_]+$/);
  });

  it('holds every standing in the fleet view unless --view-standings seen', () => {
    expect(parseServeConfig({}).viewStandings).toBe('all');
    expect(parseServeConfig({ viewStandings: 'seen' }).viewStandings).toBe('seen');
  });

  it('keeps the fast path on unless --no-fast-path (or its variable) turns it off', () => {
    expect(parseServeConfig({}).fastPath).toBe(true);
    expect(parseServeConfig({ fastPath: false }).fastPath).toBe(false);
    expect(parseServeConfig({ fastPath: 'false' }).fastPath).toBe(false);
  });
});
