/**
 * "Remembered on second sight" (ts/fastpath/index.ts): the fast path's memos keep what a
 * decision read or made only for a certificate met before (its chain's verification was
 * cached). A device's first decision leaves nothing in them; from its second on, its
 * allow is one shared object; answers are the same either way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthzRegistry, Decision } from '../../ts/authz/decision.js';
import { escapedChain, escapedPemMemo, rememberDecoded } from '../../ts/ingress/requestError.js';
import { testAuthorizer } from './authorizer.js';
import { certificate, escapePem, identity } from './pki.js';
import { ACCOUNT_A, SNI_A, createWorld, type World } from './world.js';

/** The registry, recording the `seenBefore` argument of every synchronous standing read. */
function recording(registry: AuthzRegistry, seen: (boolean | undefined)[]): AuthzRegistry {
  return new Proxy(registry, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop !== 'getCertificateStandingSync') return fn.bind(target);
      return (...args: unknown[]) => {
        seen.push(args[2] as boolean | undefined);
        return fn.apply(target, args);
      };
    },
  });
}

const decide = (authorizer: ReturnType<typeof testAuthorizer>['authorizer'], pem: string): Decision => {
  const d = authorizer.decide(SNI_A, [pem]);
  if (d instanceof Promise) throw new Error('a decision over SQLite with an inline verification should not wait');
  return d;
};

describe('remembered on second sight', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  it('shares a device allow from its second decision on, and reads its first standing straight', async () => {
    const leaf = certificate({ subject: identity('second sight', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id });
    const seen: (boolean | undefined)[] = [];
    const { authorizer } = testAuthorizer(world, { registry: recording(world.registry, seen), jitr: false });
    const first = decide(authorizer, leaf.pem);
    const second = decide(authorizer, leaf.pem);
    const third = decide(authorizer, leaf.pem);
    for (const d of [first, second, third]) expect(d).toMatchObject({ allow: true, certificateId: leaf.id });
    expect(seen).toEqual([false, true, true]);
    expect(Object.isFrozen(first)).toBe(false);
    expect(Object.isFrozen(second)).toBe(true);
    expect(third).toBe(second);
    // A commit gives a new standing, hence a new shared allow; a deactivation refuses at once.
    await world.setStatus(ACCOUNT_A, leaf.id, 'INACTIVE');
    expect(decide(authorizer, leaf.pem)).toMatchObject({ allow: false, reason: 'CERTIFICATE_INACTIVE' });
    await world.setStatus(ACCOUNT_A, leaf.id, 'ACTIVE');
    const after = decide(authorizer, leaf.pem);
    expect(after).toMatchObject({ allow: true });
    expect(after).not.toBe(second);
    expect(decide(authorizer, leaf.pem)).toBe(after);
  });

  it('shares nothing with the fast path off', async () => {
    const leaf = certificate({ subject: identity('no fast path', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id });
    const { authorizer } = testAuthorizer(world, { jitr: false, fastPath: false });
    const answers = [decide(authorizer, leaf.pem), decide(authorizer, leaf.pem), decide(authorizer, leaf.pem)];
    for (const d of answers) expect(Object.isFrozen(d)).toBe(false);
    expect(new Set(answers).size).toBe(3);
  });

  it('keeps an escaped certificate decoded only after a shared decision (the NGINX and gRPC doors)', async () => {
    const leaf = certificate({ subject: identity('escaped', 'p256'), issuer: world.caIdentity });
    await world.register(leaf, { caId: world.ca.id });
    const { authorizer } = testAuthorizer(world, { jitr: false });
    const memo = escapedPemMemo();
    const escaped = escapePem(leaf.pem);
    const rounds = [];
    for (let i = 0; i < 3; i++) {
      const input = escapedChain(escaped, memo);
      const decision = decide(authorizer, input.chain[0] ?? '');
      rememberDecoded(memo, input, decision);
      rounds.push({ fromMemo: input.escaped === undefined, shared: Object.isFrozen(decision), pem: input.chain[0] });
    }
    // First: decoded, unshared, not kept. Second: decoded, shared, kept. Third: from the memo.
    expect(rounds.map((r) => [r.fromMemo, r.shared])).toEqual([
      [false, false],
      [false, true],
      [true, true],
    ]);
    for (const r of rounds) expect(r.pem).toBe(leaf.pem);
    // A refusal is never shared, so its text is never kept.
    const refusedMemo = escapedPemMemo();
    const garbage = escapePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    for (let i = 0; i < 2; i++) {
      const input = escapedChain(garbage, refusedMemo);
      expect(input.escaped).toBe(garbage);
      rememberDecoded(refusedMemo, input, decide(authorizer, input.chain[0] ?? ''));
    }
  });
});
