/**
 * The load shedder's two bounds (ts/authz/shedding.ts). The in-flight bound is also
 * tripped end to end through a real server in test/ingress/admission.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { requestStartMs, SATURATION_WINDOW_MS, Shedder } from '../../ts/authz/shedding.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the one thread is saturated
  }
}

describe('the load shedder', () => {
  it('refuses what is read more than shedAfterMs into one busy event-loop turn, and admits again next turn', async () => {
    const shedder = new Shedder({ maxInFlight: 100, shedAfterMs: 50 });
    busy(SATURATION_WINDOW_MS + 20); // saturated: no idle time in the last window
    const first = shedder.refusal();
    const second = shedder.refusal();
    expect([first, second]).toEqual([undefined, undefined]);
    busy(60);
    expect(shedder.refusal()).toMatch(/shedAfterMs=50/);
    await new Promise((r) => setImmediate(r));
    expect(shedder.refusal()).toBeUndefined();
  });

  it('sheds a request whose proxy stamp is older than shedAfterMs, saturated or not, and never reads a stamp with shedAfterMs 0', async () => {
    const shedder = new Shedder({ maxInFlight: 100, shedAfterMs: 5, requestStartHeader: 'x-request-start' });
    await new Promise((r) => setTimeout(r, SATURATION_WINDOW_MS + 20)); // idle: not saturated
    expect(shedder.refusal(Date.now() - 50)).toMatch(/x-request-start stamp is older than shedAfterMs=5/);
    expect(shedder.refusal(Date.now())).toBeUndefined();
    expect(shedder.refusal()).toBeUndefined();
    const off = new Shedder({ maxInFlight: 100, shedAfterMs: 0, requestStartHeader: 'x-request-start' });
    expect(off.refusal(Date.now() - 60_000)).toBeUndefined();
  });

  it('gives the same refusal text for the same cause, so the doors answer with one pre-encoded refusal', () => {
    const shedder = new Shedder({ maxInFlight: 100, shedAfterMs: 5 });
    const a = shedder.refusal(Date.now() - 50);
    expect(a).toBeDefined();
    expect(shedder.refusal(Date.now() - 60)).toBe(a);
  });

  it('sheds nothing for one long turn of a process that had time to spare (a GC pause)', async () => {
    const shedder = new Shedder({ maxInFlight: 100, shedAfterMs: 5 });
    await new Promise((r) => setTimeout(r, SATURATION_WINDOW_MS + 20)); // idle
    expect(shedder.refusal()).toBeUndefined();
    busy(30);
    expect(shedder.refusal()).toBeUndefined();
  });

  it('never sheds by time with shedAfterMs 0', () => {
    const shedder = new Shedder({ maxInFlight: 100, shedAfterMs: 0 });
    busy(SATURATION_WINDOW_MS + 20);
    expect(shedder.refusal()).toBeUndefined();
    busy(10);
    expect(shedder.refusal()).toBeUndefined();
  });

  it('refuses past maxInFlight decisions in progress until one settles', async () => {
    const shedder = new Shedder({ maxInFlight: 2, shedAfterMs: 0 });
    const gates: (() => void)[] = [];
    const work = () => shedder.track(new Promise<void>((r) => gates.push(r)));
    const a = work();
    work();
    expect(shedder.inFlight).toBe(2);
    expect(shedder.refusal()).toMatch(/maxInFlight=2/);
    gates[0]?.();
    await a;
    expect(shedder.inFlight).toBe(1);
    expect(shedder.refusal()).toBeUndefined();
  });
});

describe('request-start stamps (X-Request-Start)', () => {
  const now = 1_733_140_000_500;
  it.each([
    ['t=1733140000.123', 1_733_140_000_123], // NGINX ${msec}: seconds with milliseconds
    ['1733140000.123', 1_733_140_000_123],
    ['t=1733140000123', 1_733_140_000_123], // milliseconds
    ['t=1733140000123456', 1_733_140_000_123.456], // microseconds
  ])('reads %s', (text, ms) => {
    expect(requestStartMs(text, now)).toBeCloseTo(ms, 3);
  });
  it.each([[undefined], [''], ['t='], ['soon'], ['t=-5'], ['1e12'], [['t=1', 't=2']]])('ignores %j', (value) => {
    expect(requestStartMs(value as string | string[] | undefined, now)).toBeUndefined();
  });
  it('takes a stamp from the future (clock skew) as now', () => {
    expect(requestStartMs(`t=${now + 10_000}`, now)).toBe(now);
  });
});
