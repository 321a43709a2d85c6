/**
 * The start-up check (ts/engine/warmUp.ts): both engines accept the fixed chain; an engine
 * that refuses it, or names another leaf, stops the start with a clear error.
 */
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../../ts/engine/load.js';
import type { Engine } from '../../ts/engine/types.js';
import { warmUpEngine } from '../../ts/engine/warmUp.js';

describe('the engine start-up check', () => {
  for (const name of ['native', 'wasm'] as const) {
    it(`passes with the ${name} engine`, () => {
      expect(() => warmUpEngine(loadEngine(name))).not.toThrow();
    });
  }

  it('throws, naming the engine and why, when the engine refuses the chain or reports another leaf', () => {
    const native = loadEngine('native');
    const refusing: Engine = { ...native, verifyChain: () => ({ ok: false, code: 'BAD_SIGNATURE', message: 'no' }) };
    expect(() => warmUpEngine(refusing)).toThrow(/the native engine failed its start-up check .*BAD_SIGNATURE: no/);
    const wrongId: Engine = {
      ...native,
      verifyChain: (...args) => {
        const real = native.verifyChain(...args);
        return real.ok ? { ...real, leafCertificateId: '0'.repeat(64) } : real;
      },
    };
    expect(() => warmUpEngine(wrongId)).toThrow(/leaf id 0{64}/);
  });
});
