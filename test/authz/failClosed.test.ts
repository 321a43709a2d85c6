/**
 * Fail closed: every way the authorizer can fail to decide ends in a deny with its own
 * reason (and an `unavailable` kind where the fault is ours), never an allow.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reasonKind } from '../../ts/authz/reasons.js';
import { Verifier, VerifierFailure } from '../../ts/authz/verifier.js';
import { loadEngine } from '../../ts/engine/load.js';
import { EnginePool } from '../../ts/engine/pool.js';
import type { Engine } from '../../ts/engine/types.js';
import type { AuthzRegistry } from '../../ts/authz/decision.js';
import { testAuthorizer } from './authorizer.js';
import { certificate, identity, type Cert } from './pki.js';
import { SNI_A, createWorld, type World } from './world.js';

/** The real registry with one method slowed down (fault injection, not a fake). */
function slowed(registry: AuthzRegistry, method: keyof AuthzRegistry, ms: number): AuthzRegistry {
  return new Proxy(registry, {
    get(target, prop, receiver) {
      // Without its synchronous reads the registry answers like PostgreSQL: every read waits.
      if (typeof prop === 'string' && prop.endsWith('Sync')) return undefined;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      if (prop !== method) return fn.bind(target);
      return async (...args: unknown[]) => {
        await new Promise((r) => setTimeout(r, ms));
        return fn.apply(target, args);
      };
    },
  });
}

describe('failing closed', () => {
  let world: World;
  let leaf: Cert;
  let caLeaf: Cert;
  beforeEach(async () => {
    world = await createWorld();
    leaf = certificate({ subject: identity('device', 'p256') });
    caLeaf = certificate({ subject: identity('ca-device', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, {});
    await world.register(caLeaf, { caId: world.ca.id });
  });
  afterEach(() => world.dispose());

  it('denies with REGISTRY_ERROR when the registry cannot be read', async () => {
    const { authorizer } = testAuthorizer(world);
    await world.registry.close();
    const d = await authorizer.authorize(SNI_A, [leaf.pem]);
    expect(d).toMatchObject({ allow: false, reason: 'REGISTRY_ERROR' });
    expect(reasonKind(d.reason)).toBe('unavailable');
  });

  it('denies with REGISTRY_ERROR when the registry fails after the same chain was allowed (cached path)', async () => {
    const { authorizer } = testAuthorizer(world);
    for (const pem of [leaf.pem, caLeaf.pem]) expect(await authorizer.authorize(SNI_A, [pem])).toMatchObject({ allow: true });
    // Everything but the standing is now at hand, and the decision is synchronous; the
    // registry read must still happen, and its failure refuse at once.
    expect(authorizer.decide(SNI_A, [caLeaf.pem])).toMatchObject({ allow: true });
    await world.registry.close();
    expect(authorizer.decide(SNI_A, [caLeaf.pem])).toMatchObject({ allow: false, reason: 'REGISTRY_ERROR' });
    for (const pem of [leaf.pem, caLeaf.pem])
      expect(await authorizer.authorize(SNI_A, [pem])).toMatchObject({ allow: false, reason: 'REGISTRY_ERROR' });
  });

  it('denies with DEADLINE_EXCEEDED when the decision outlives deadlineMs', async () => {
    const registry = slowed(world.registry as AuthzRegistry, 'getCertificateStanding', 200);
    const { authorizer } = testAuthorizer(world, { registry, limits: { deadlineMs: 20 } });
    // What was known when time ran out is in the answer: the leaf had parsed.
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({
      allow: false,
      reason: 'DEADLINE_EXCEEDED',
      certificateId: leaf.id,
    });
  });

  it('denies with ENGINE_ERROR when the engine throws instead of answering', async () => {
    const real = loadEngine('native');
    const broken: Engine = {
      ...real,
      inspect: () => {
        throw new Error('simulated engine bug');
      },
    };
    const { authorizer } = testAuthorizer(world, { engine: broken });
    expect(await authorizer.authorize(SNI_A, [leaf.pem])).toMatchObject({ allow: false, reason: 'ENGINE_ERROR' });
  });

  it('sheds pool overflow with QUEUE_FULL and allows only what was actually verified', async () => {
    const pool = new EnginePool({ engine: 'native', threads: 1, maxQueue: 0 });
    try {
      // Budget 0 sends every verification to the pool; cache 0 makes each one a miss.
      const { authorizer } = testAuthorizer(world, { pool, inlineBudgetUs: 0, cacheSize: 0 });
      // The worker up first (no deadline): on a loaded machine its start alone can outlast
      // the 100 ms deadline of the first decision.
      await pool.call('inspect', [caLeaf.der]);
      const decisions = await Promise.all(Array.from({ length: 16 }, () => authorizer.authorize(SNI_A, [caLeaf.pem])));
      const reasons = new Set(decisions.map((d) => d.reason));
      expect(reasons).toEqual(new Set(['CERTIFICATE_ACTIVE', 'QUEUE_FULL']));
      for (const d of decisions) expect(d.allow).toBe(d.reason === 'CERTIFICATE_ACTIVE');
    } finally {
      await pool.close();
    }
  });

  it('reports WORKER_FAILED when a pool worker throws, and the pool keeps serving', async () => {
    const pool = new EnginePool({ engine: 'native', threads: 1 });
    try {
      const verifier = new Verifier(loadEngine('native'), pool);
      const bad = { leaf: 'not bytes', intermediates: [], anchors: [], at: 0, eku: 'client' } as never;
      const failure = await Promise.resolve(verifier.verify(bad, 'pool', 1000)).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(VerifierFailure);
      expect((failure as VerifierFailure).reason).toBe('WORKER_FAILED');
      const { authorizer } = testAuthorizer(world, { pool, inlineBudgetUs: 0 });
      expect((await authorizer.authorize(SNI_A, [caLeaf.pem])).allow).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
