/**
 * One decision path over both kinds of reads (ts/authz/reads.ts): the SQLite registry
 * answers synchronously, so a decision that waits on nothing is returned without a
 * promise; the same registry with its synchronous reads hidden answers like PostgreSQL
 * (every read a promise). Every answer must be the same either way, and with the fast
 * path (ts/fastpath/) on and off.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthzRegistry, Decision } from '../../ts/authz/decision.js';
import { testAuthorizer } from './authorizer.js';
import { DATES, certificate, identity } from './pki.js';
import { ACCOUNT_B, SNI_A, SNI_B, createWorld, type World } from './world.js';

/** The registry as an asynchronous one sees it: no `*Sync` reads. */
function asyncOnly(registry: AuthzRegistry): AuthzRegistry {
  return new Proxy(registry, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop.endsWith('Sync')) return undefined;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('one decision path, synchronous and asynchronous reads', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(() => world.dispose());

  it('gives the same answers, and a promise only where a read had to wait', async () => {
    const plain = certificate({ subject: identity('plain', 'p256') });
    const underCa = certificate({ subject: identity('under ca', 'p256'), issuer: world.caIdentity });
    const revoked = certificate({ subject: identity('revoked', 'p256'), issuer: world.caIdentity });
    const expired = certificate({ subject: identity('expired', 'p256'), notAfter: DATES.expired });
    const elsewhere = certificate({ subject: identity('elsewhere', 'p256') });
    const unknown = certificate({ subject: identity('unknown', 'p256'), issuer: identity('Other CA', 'p256') });
    await world.register(plain, {});
    await world.register(underCa, { caId: world.ca.id });
    await world.register(revoked, { caId: world.ca.id, status: 'REVOKED' });
    await world.register(expired, {});
    await world.register(elsewhere, { accountId: ACCOUNT_B });
    const cases: [string | null, string][] = [
      [SNI_A, plain.pem],
      [SNI_A, underCa.pem],
      [SNI_A, revoked.pem],
      [SNI_A, expired.pem],
      [SNI_A, elsewhere.pem],
      [SNI_B, elsewhere.pem],
      [SNI_A, unknown.pem],
      ['nowhere.example', plain.pem],
      [SNI_A, 'not a certificate'],
    ];
    const answers = new Map<string, Decision[]>();
    for (const fastPath of [true, false]) {
      for (const reads of ['sync', 'async'] as const) {
        const registry = reads === 'sync' ? world.registry : asyncOnly(world.registry);
        const { authorizer } = testAuthorizer(world, { registry, jitr: false, fastPath });
        const got: Decision[] = [];
        // Twice: the second time the chain's verification is cached.
        for (const round of [1, 2]) {
          for (const [sni, pem] of cases) {
            const decided = authorizer.decide(sni, [pem]);
            // Over the synchronous reads nothing here waits (inline verification, no JITR).
            if (reads === 'sync') expect(decided).not.toBeInstanceOf(Promise);
            else if (round === 2 && sni === SNI_A && pem === underCa.pem) expect(decided).toBeInstanceOf(Promise);
            got.push({ ...(await decided) });
          }
        }
        answers.set(`${reads}/${fastPath}`, got);
      }
    }
    const reference = answers.get('sync/true') ?? [];
    const once = [
      'CERTIFICATE_ACTIVE',
      'CERTIFICATE_ACTIVE',
      'CERTIFICATE_REVOKED',
      'CERTIFICATE_EXPIRED',
      'CERTIFICATE_NOT_REGISTERED',
      'CERTIFICATE_ACTIVE',
      'CERTIFICATE_NOT_REGISTERED',
      'UNKNOWN_SNI',
      'MALFORMED_CERTIFICATE',
    ];
    // Both rounds answer the same.
    expect(reference.map((d) => d.reason)).toEqual([...once, ...once]);
    for (const [way, got] of answers) expect(got, way).toEqual(reference);
  });
});
