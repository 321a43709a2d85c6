/**
 * The packed store behind `--view-standings all` (ts/view/allStandings.ts): what goes in
 * comes out as the `CertificateStanding` a decision reads, for every status, mode, CA
 * and thing count, and for ids that cannot be packed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AllStandings, packId } from '../../ts/view/allStandings.js';

const hexId = () => randomBytes(32).toString('hex');

describe('AllStandings', () => {
  it('returns what was set, for every status and mode, with or without a CA and things', () => {
    const held = new AllStandings();
    const statuses = ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'];
    const cas = [null, hexId(), hexId()];
    const cases = statuses.flatMap((status) =>
      ['DEFAULT', 'SNI_ONLY'].flatMap((mode) =>
        cas.flatMap((ca) => [[], ['only'], ['a', 'b', 'c']].map((things) => ({ id: hexId(), status, mode, ca, things }))),
      ),
    );
    for (const c of cases) held.set('111111111111', c.id, { status: c.status, mode: c.mode, caCertificateId: c.ca }, c.things);
    expect(held.size).toBe(cases.length);
    for (const c of cases)
      expect(held.get('111111111111', c.id)).toEqual({
        accountId: '111111111111',
        certificateId: c.id,
        status: c.status,
        certificateMode: c.mode,
        caCertificateId: c.ca,
        things: c.things,
      });
  });

  it('answers null for what is not held, in another account, or deleted', () => {
    const held = new AllStandings();
    const id = hexId();
    held.set('111111111111', id, { status: 'ACTIVE', mode: 'SNI_ONLY', caCertificateId: null });
    expect(held.get('222222222222', id)).toBeNull();
    expect(held.get('111111111111', hexId())).toBeNull();
    // The same id in upper case is another certificate id (not packed, not confused).
    expect(held.get('111111111111', id.toUpperCase())).toBeNull();
    held.set('111111111111', id, null);
    expect(held.get('111111111111', id)).toBeNull();
    expect(held.size).toBe(0);
    held.set('111111111111', id, null); // deleting what is not held changes nothing
    expect(held.size).toBe(0);
  });

  it('keeps ids that are not 64 lowercase hex digits whole, apart from packed ones', () => {
    const held = new AllStandings();
    const odd = ['short', 'A'.repeat(64), `${'a'.repeat(63)}g`, packId(hexId())];
    for (const [i, id] of odd.entries())
      held.set('111111111111', id, { status: i % 2 === 0 ? 'ACTIVE' : 'REVOKED', mode: 'DEFAULT', caCertificateId: null });
    for (const [i, id] of odd.entries()) expect(held.get('111111111111', id)?.status).toBe(i % 2 === 0 ? 'ACTIVE' : 'REVOKED');
    expect(packId(hexId())).toHaveLength(32);
  });

  it('replaces a standing and its things; an empty list drops them; addThing adds to a held one only', () => {
    const held = new AllStandings();
    const id = hexId();
    held.set('111111111111', id, { status: 'ACTIVE', mode: 'SNI_ONLY', caCertificateId: null }, ['t1', 't2']);
    held.set('111111111111', id, { status: 'REVOKED', mode: 'SNI_ONLY', caCertificateId: null }, []);
    expect(held.get('111111111111', id)).toMatchObject({ status: 'REVOKED', things: [] });
    expect(held.addThing('111111111111', id, 'x')).toBe(true);
    expect(held.addThing('111111111111', id, 'y')).toBe(true);
    expect(held.get('111111111111', id)?.things).toEqual(['x', 'y']);
    expect(held.addThing('111111111111', hexId(), 'z')).toBe(false);
    expect(held.size).toBe(1);
  });

  it('gives the same object while a standing is unchanged, and a new one after it changed', () => {
    const held = new AllStandings(2);
    const id = hexId();
    held.set('111111111111', id, { status: 'ACTIVE', mode: 'SNI_ONLY', caCertificateId: null });
    const first = held.get('111111111111', id);
    expect(held.get('111111111111', id)).toBe(first);
    held.set('111111111111', id, { status: 'REVOKED', mode: 'SNI_ONLY', caCertificateId: null });
    expect(held.get('111111111111', id)).toMatchObject({ status: 'REVOKED' });
    held.addThing('111111111111', id, 't');
    expect(held.get('111111111111', id)?.things).toEqual(['t']);
    held.set('111111111111', id, null);
    expect(held.get('111111111111', id)).toBeNull();
  });

  it('answers a kept object only for its own account, and a first sight with a fresh one', () => {
    const held = new AllStandings(10);
    const id = hexId();
    held.set('111111111111', id, { status: 'ACTIVE', mode: 'DEFAULT', caCertificateId: null });
    held.set('222222222222', id, { status: 'REVOKED', mode: 'SNI_ONLY', caCertificateId: null });
    const a = held.get('111111111111', id);
    expect(Object.isFrozen(a)).toBe(true);
    expect(held.get('222222222222', id)).toMatchObject({ accountId: '222222222222', status: 'REVOKED' });
    expect(held.get('111111111111', id)).toMatchObject({ accountId: '111111111111', status: 'ACTIVE' });
    const fresh = held.get('111111111111', id, false);
    expect(fresh).toEqual(held.get('111111111111', id, false));
    expect(fresh).not.toBe(held.get('111111111111', id, false));
  });

  it('refuses a value it cannot pack instead of holding a wrong one', () => {
    const held = new AllStandings();
    // Two bits of mode: DEFAULT, SNI_ONLY and two more fit; a fifth distinct mode does not.
    for (const mode of ['M3', 'M4']) expect(() => held.set('1', hexId(), { status: 'ACTIVE', mode, caCertificateId: null })).not.toThrow();
    expect(() => held.set('1', hexId(), { status: 'ACTIVE', mode: 'M5', caCertificateId: null })).toThrow(RangeError);
    expect(held.size).toBe(2);
  });
});
