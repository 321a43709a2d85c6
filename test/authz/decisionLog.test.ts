import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Decision, DecisionEvent } from '../../ts/authz/decision.js';
import { DecisionLog, REQUEST_ID_MAX_CHARS } from '../../ts/metrics/decisionLog.js';
import { createLogger } from '../../ts/server/serve.js';
import { VERSION } from '../../ts/version.js';

function sink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { lines, stream };
}

function capture(): { lines: Record<string, unknown>[]; logger: pino.Logger } {
  const { lines, stream } = sink();
  const parsed: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, stream);
  return {
    get lines() {
      parsed.length = 0;
      for (const l of lines) parsed.push(JSON.parse(l) as Record<string, unknown>);
      return parsed;
    },
    logger,
  };
}

const event = (decision: Partial<Decision>, requestId?: string): DecisionEvent => ({
  door: 'nginx',
  sni: 'a-ats.iot.us-east-1.localhost',
  decision: {
    allow: true,
    reason: 'CERTIFICATE_ACTIVE',
    certificateId: 'ab',
    accountId: '111111111111',
    certificateMode: 'DEFAULT',
    things: [],
    ...decision,
  },
  seconds: 0.0000425,
  stages: new Map(),
  cacheHit: true,
  requestId,
});

const tick = () => new Promise((r) => setImmediate(r));

describe('the decision log', () => {
  it('summarises OVERLOADED sheds in one line per interval instead of one line each', async () => {
    const c = capture();
    const log = new DecisionLog(c.logger, { allowSample: 1 });
    const shed = event({
      allow: false,
      reason: 'OVERLOADED',
      certificateId: null,
      accountId: null,
      certificateMode: null,
      message: 'busy',
    });
    for (let i = 0; i < 1000; i++) log.decided(shed);
    await tick();
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0]).toMatchObject({ msg: 'requests shed', reason: 'OVERLOADED', shed: 1 });
  });

  it('writes one line per logged decision with ids, reason, request id and duration in ms, never a certificate body', async () => {
    const c = capture();
    new DecisionLog(c.logger, { allowSample: 1 }).decided(event({}, 'req-7'));
    await tick();
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0]).toMatchObject({
      msg: 'decision',
      door: 'nginx',
      requestId: 'req-7',
      allow: true,
      reason: 'CERTIFICATE_ACTIVE',
      certificateId: 'ab',
      durationMs: 0.043,
    });
    expect(c.lines[0]).not.toHaveProperty('durationUs');
    expect(JSON.stringify(c.lines[0])).not.toContain('BEGIN CERTIFICATE');
  });

  it('samples only allows: every deny and every unavailable decision is logged', async () => {
    const c = capture();
    let next = 0;
    const rolls = [0.05, 0.5, 0.95];
    // Rolls that would sample a deny out are never drawn for one.
    const log = new DecisionLog(c.logger, { allowSample: 0.1, random: () => rolls[next++ % rolls.length] ?? 1 });
    for (let i = 0; i < 3; i++) log.decided(event({}));
    log.decided(event({ allow: false, reason: 'CERTIFICATE_REVOKED' }));
    log.decided(event({ allow: false, reason: 'CERTIFICATE_REVOKED' }));
    log.decided(event({ allow: false, reason: 'REGISTRY_ERROR' }));
    await tick();
    expect(c.lines.map((l) => l.reason)).toEqual(['CERTIFICATE_ACTIVE', 'CERTIFICATE_REVOKED', 'CERTIFICATE_REVOKED', 'REGISTRY_ERROR']);
    // Level: info for allow and deny, warn for unavailable.
    expect(c.lines.map((l) => l.level)).toEqual([30, 30, 30, 40]);
  });

  it('logs denies with an allow sample of 0', async () => {
    const c = capture();
    const log = new DecisionLog(c.logger, { allowSample: 0, random: () => 0 });
    log.decided(event({}));
    log.decided(event({ allow: false, reason: 'CA_NOT_FOUND' }));
    await tick();
    expect(c.lines.map((l) => l.reason)).toEqual(['CA_NOT_FOUND']);
  });

  it('logs a request error as a deny with its detail, and caps a long request id', async () => {
    const c = capture();
    new DecisionLog(c.logger, { allowSample: 0 }).requestError('json', 'BAD_REQUEST', 'not JSON', 'x'.repeat(1000));
    await tick();
    expect(c.lines[0]).toMatchObject({ door: 'json', allow: false, reason: 'BAD_REQUEST', requestError: true, detail: 'not JSON' });
    expect(c.lines[0]?.requestId).toBe('x'.repeat(REQUEST_ID_MAX_CHARS));
  });

  it('rejects a sample rate outside [0, 1]', () => {
    expect(() => new DecisionLog(capture().logger, { allowSample: 1.5 })).toThrow(RangeError);
    expect(() => new DecisionLog(capture().logger, { allowSample: Number.NaN })).toThrow(RangeError);
  });
});

describe('the service logger', () => {
  it('json: string levels, ISO-8601 UTC time, service, version and pid on every line', async () => {
    const { lines, stream } = sink();
    const logger = createLogger({ logLevel: 'info', logFormat: 'json' }, stream);
    new DecisionLog(logger.child({ component: 'decision' }), { allowSample: 0 }).decided(
      event({ allow: false, reason: 'CERTIFICATE_REVOKED' }, 'abc'),
    );
    logger.warn('something');
    await tick();
    const [decision, warning] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(decision).toMatchObject({
      level: 'info',
      service: 'certgate',
      version: VERSION,
      pid: process.pid,
      component: 'decision',
      requestId: 'abc',
      reason: 'CERTIFICATE_REVOKED',
    });
    expect(warning).toMatchObject({ level: 'warn', msg: 'something' });
    expect(String(decision?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(String(decision?.time)) - Date.now())).toBeLessThan(60_000);
  });

  it('pretty: one readable line per entry with the level word and the fields', async () => {
    const { lines, stream } = sink();
    const logger = createLogger({ logLevel: 'info', logFormat: 'pretty' }, stream);
    new DecisionLog(logger, { allowSample: 0 }).decided(event({ allow: false, reason: 'CERTIFICATE_REVOKED' }, 'abc'));
    await new Promise((r) => setTimeout(r, 50));
    const text = lines.join('\n');
    expect(text).toMatch(/INFO.*decision/);
    expect(text).toContain('reason: "CERTIFICATE_REVOKED"');
    expect(text).toContain('requestId: "abc"');
    expect(() => JSON.parse(lines[0] ?? '')).toThrow();
  });
});
