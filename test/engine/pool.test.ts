import { afterAll, describe, expect, it } from 'vitest';
import { EnginePool } from '../../ts/engine/pool.js';
import { loadEngine } from '../../ts/engine/load.js';
import { ENGINE_NAMES } from '../../ts/engine/types.js';

const garbage = new TextEncoder().encode('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n');

describe.each(ENGINE_NAMES)('the %s engine in a worker pool', (engine) => {
  const pool = new EnginePool({ engine, threads: 1, maxQueue: 0 });
  afterAll(() => pool.close());

  it('returns the same refusal data as the inline engine', async () => {
    const inline = loadEngine(engine).inspect(garbage);
    const pooled = await pool.call('inspect', [garbage]);
    expect(inline.ok).toBe(false);
    expect(pooled).toEqual(inline);
  });

  it('sheds load with POOL_QUEUE_FULL instead of queueing without bound', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.call('inspect', [garbage])));
    const inline = loadEngine(engine).inspect(garbage);
    const shed = results.filter((r) => !r.ok && r.code === 'POOL_QUEUE_FULL');
    expect(shed.length).toBeGreaterThan(0);
    // Every other task ran and got exactly the engine's own answer.
    for (const r of results.filter((x) => !shed.includes(x))) expect(r).toEqual(inline);
  });
});

describe('a closed pool', () => {
  it('refuses with POOL_CLOSED', async () => {
    const pool = new EnginePool({ engine: 'native', threads: 1 });
    await pool.close();
    const r = await pool.call('inspect', [garbage]);
    expect(r).toMatchObject({ ok: false, code: 'POOL_CLOSED' });
  });

  it('rejects a nonsensical size at construction', () => {
    expect(() => new EnginePool({ engine: 'native', threads: 0 })).toThrow(RangeError);
  });
});
