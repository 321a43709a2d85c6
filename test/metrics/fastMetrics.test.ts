/**
 * The bound-series metrics (ts/fastpath/fastMetrics.ts) must expose exactly what
 * prom-client's own Counter and Histogram expose for the same observations: text format,
 * JSON (what the cluster aggregation reads), and after a cluster-style aggregation.
 */
import { AggregatorRegistry, Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../../ts/fastpath/fastMetrics.js';

const BUCKETS = [10e-6, 25e-6, 50e-6, 100e-6, 1e-3];
const OBSERVATIONS: [string, string, number][] = [
  ['json', 'allow', 5e-6],
  ['json', 'allow', 25e-6],
  ['json', 'deny', 75e-6],
  ['nginx', 'allow', 2],
  ['json', 'allow', 1e-3],
  ['nginx', 'unavailable', 0],
];

function both(): { ours: Registry<RegistryContentType>; theirs: Registry<RegistryContentType> } {
  const ours = new Registry<RegistryContentType>();
  const theirs = new Registry<RegistryContentType>();
  const counter = new FastCounter('t_decisions_total', 'Decisions.', ['door', 'result'], [ours]);
  const histogram = new FastHistogram('t_duration_seconds', 'Duration.', ['door', 'result'], BUCKETS, [ours]);
  const promCounter = new Counter({ name: 't_decisions_total', help: 'Decisions.', labelNames: ['door', 'result'], registers: [theirs] });
  const promHistogram = new Histogram({
    name: 't_duration_seconds',
    help: 'Duration.',
    labelNames: ['door', 'result'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  for (const [door, result, seconds] of OBSERVATIONS) {
    counter.series({ door, result }).inc();
    histogram.series({ door, result }).observe(seconds);
    promCounter.inc({ door, result });
    promHistogram.observe({ door, result }, seconds);
  }
  return { ours, theirs };
}

describe('bound-series metrics', () => {
  it('expose the same text as prom-client for the same observations', async () => {
    const { ours, theirs } = both();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    theirs.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('aggregate across processes like prom-client metrics', async () => {
    const a = both();
    const b = both();
    const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()]);
    const theirs = AggregatorRegistry.aggregate([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('keeps counting through a bound series after a reset', async () => {
    const registry = new Registry();
    const counter = new FastCounter('t_total', 'T.', ['door'], [registry]);
    const series = counter.series({ door: 'json' });
    series.inc();
    registry.resetMetrics();
    series.inc();
    expect(await registry.metrics()).toContain('t_total{door="json"} 1\n');
  });
});
