/**
 * The load shedder's two bounds (ts/authz/shedding.ts). The in-flight bound is also
 * tripped end to end through a real server in test/ingress/admission.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SATURATION_WINDOW_MS, Shedder } from '../../ts/authz/shedding.js';

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
