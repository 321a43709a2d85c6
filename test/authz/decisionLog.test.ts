import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Decision, DecisionEvent } from '../../ts/authz/decision.js';
import { DecisionLog } from '../../ts/metrics/decisionLog.js';

function capture(): { lines: Record<string, unknown>[]; logger: pino.Logger } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

const event = (decision: Partial<Decision>): DecisionEvent => ({
  door: 'nginx',
  sni: 'a-ats.iot.us-east-1.localhost',
  decision: { allow: true, reason: 'CERTIFICATE_ACTIVE', certificateId: 'ab', accountId: '111111111111', certificateMode: 'DEFAULT', things: [], ...decision },
  seconds: 0.000042,
  stages: new Map(),
  cacheHit: true,
});

describe('the decision log', () => {
  it('summarises OVERLOADED sheds in one line per interval instead of one line each', async () => {
    const { lines, logger } = capture();
    const log = new DecisionLog(logger, 1);
    const shed = event({ allow: false, reason: 'OVERLOADED', certificateId: null, accountId: null, certificateMode: null, message: 'busy' });
    for (let i = 0; i < 1000; i++) log.decided(shed);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'requests shed', reason: 'OVERLOADED', shed: 1 });
  });

  it('writes one line per sampled decision with ids, reason and duration, never a certificate body', async () => {
    const { lines, logger } = capture();
    new DecisionLog(logger, 1).decided(event({}));
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'decision', door: 'nginx', allow: true, reason: 'CERTIFICATE_ACTIVE', certificateId: 'ab', durationUs: 42 });
    expect(JSON.stringify(lines[0])).not.toContain('BEGIN CERTIFICATE');
  });

  it('samples allows and denies by the configured ratio but always logs outages', async () => {
    const { lines, logger } = capture();
    let next = 0;
    const rolls = [0.05, 0.5, 0.95];
    const log = new DecisionLog(logger, 0.1, () => rolls[next++ % rolls.length] ?? 1);
    for (let i = 0; i < 3; i++) log.decided(event({}));
    log.decided(event({ allow: false, reason: 'REGISTRY_ERROR' }));
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.reason)).toEqual(['CERTIFICATE_ACTIVE', 'REGISTRY_ERROR']);
  });

  it('rejects a sample rate outside [0, 1]', () => {
    expect(() => new DecisionLog(capture().logger, 1.5)).toThrow(RangeError);
  });
});
