/**
 * The dashboard's arithmetic: the exposition parser and the frame (rates, quantiles as
 * Prometheus's histogram_quantile computes them, counter resets).
 */
import { describe, expect, it } from 'vitest';
import { frame, index, quantile } from '../../ts/dashboard/frames.js';
import { parsePromText } from '../../ts/dashboard/promText.js';

const exposition = (allow: number, deny: number, buckets: [string, number][]) => `# HELP certgate_decisions_total x
# TYPE certgate_decisions_total counter
certgate_decisions_total{door="json",result="allow",reason="CERTIFICATE_ACTIVE"} ${allow}
certgate_decisions_total{door="json",result="deny",reason="CERTIFICATE_NOT_REGISTERED"} ${deny}
${buckets.map(([le, n]) => `certgate_decision_duration_seconds_bucket{le="${le}",door="json",result="allow"} ${n}`).join('\n')}
`;

const byWorker = (a: number, b: number) => `certgate_decisions_total{door="json",result="allow",reason="CERTIFICATE_ACTIVE"} ${a + b}
certgate_decisions_total{door="json",result="deny",reason="CERTIFICATE_NOT_REGISTERED"} ${a}
certgate_worker_decisions_total{worker="1"} ${2 * a}
certgate_worker_decisions_total{worker="2"} ${b}
`;

describe('parsePromText', () => {
  it('reads names, labels (escaped values) and values', () => {
    const s = parsePromText('a_total{x="q\\"uo\\\\te\\n",y=""} 3\nb 1.5e-3\nc +Inf\n# comment\n');
    expect(s).toEqual([
      { name: 'a_total', labels: { x: 'q"uo\\te\n', y: '' }, value: 3 },
      { name: 'b', labels: {}, value: 0.0015 },
      { name: 'c', labels: {}, value: Infinity },
    ]);
  });
  it("reads NaN and Inf in any case, as Prometheus does (prom-client writes 'Nan')", () => {
    const s = parsePromText('nodejs_eventloop_lag_mean_seconds Nan\na NaN\nb inf\nc -Inf\n');
    expect(s.map((x) => x.value)).toEqual([NaN, NaN, Infinity, -Infinity]);
  });
  it('refuses a line it cannot read, naming it', () => {
    expect(() => parsePromText('a{x="1} 2')).toThrow(/unterminated label value.*a\{x=/);
    expect(() => parsePromText('a 1 2\nb nope')).toThrow(/bad value.*b nope/);
    expect(() => parsePromText('{x="1"} 2')).toThrow(/not a Prometheus sample line/);
  });
});

describe('quantile (histogram_quantile)', () => {
  it('interpolates inside the bucket holding the rank, from 0 for the first', () => {
    // 10 observations ≤ 1, 10 more ≤ 2: the median is the top of the first bucket.
    expect(
      quantile(0.5, [
        [1, 10],
        [2, 20],
        [Infinity, 20],
      ]),
    ).toBe(1);
    expect(
      quantile(0.25, [
        [1, 10],
        [2, 20],
        [Infinity, 20],
      ]),
    ).toBe(0.5);
    expect(
      quantile(0.75, [
        [1, 10],
        [2, 20],
        [Infinity, 20],
      ]),
    ).toBe(1.5);
  });
  it('answers the highest finite bound for a rank in +Inf, null without observations', () => {
    expect(
      quantile(0.99, [
        [1, 1],
        [2, 1],
        [Infinity, 100],
      ]),
    ).toBe(2);
    expect(
      quantile(0.5, [
        [1, 0],
        [Infinity, 0],
      ]),
    ).toBeNull();
  });
});

describe('frame', () => {
  it('turns counter and bucket deltas into per-second rates and quantiles of the interval only', () => {
    const before = index(
      parsePromText(
        exposition(100, 10, [
          ['0.001', 100],
          ['0.01', 110],
          ['+Inf', 110],
        ]),
      ),
    );
    // In 2 s: 40 allows and 4 denies; every new observation ≤ 10 ms, 20 of them ≤ 1 ms.
    const now = index(
      parsePromText(
        exposition(140, 14, [
          ['0.001', 120],
          ['0.01', 154],
          ['+Inf', 154],
        ]),
      ),
    );
    const f = frame(now, before, 2, 1000);
    expect(f.decisions).toEqual({ allow: 20, deny: 2, unavailable: 0 });
    expect(f.refusals).toEqual({ CERTIFICATE_NOT_REGISTERED: 2 });
    expect(f.latency.p50).toBeCloseTo(0.001 + 0.009 * (2 / 24), 12);
    expect(f.cacheHitRatio).toBeNull();
    expect(f.pool).toBeNull();
  });
  it('gives decisions per process from certgate_worker_decisions_total, none without it', () => {
    const f = frame(index(parsePromText(byWorker(13, 30))), index(parsePromText(byWorker(10, 20))), 1, 1);
    expect(f.perProcess).toEqual({ 1: 6, 2: 10 });
    expect(f.decisions).toEqual({ allow: 13, deny: 3, unavailable: 0 });
    const plain = index(parsePromText(exposition(1, 1, [['+Inf', 2]])));
    expect(frame(plain, plain, 1, 1).perProcess).toEqual({});
  });
  it('reads a counter that went down as a reset, never a negative rate', () => {
    const before = index(parsePromText(exposition(100, 10, [['+Inf', 110]])));
    const now = index(parsePromText(exposition(5, 1, [['+Inf', 6]])));
    expect(frame(now, before, 1, 1).decisions).toEqual({ allow: 5, deny: 1, unavailable: 0 });
  });
});
