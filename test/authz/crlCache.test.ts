/**
 * The CRL sets per CA (ts/authz/crls.ts) on the one configuration cache (configCache.ts):
 * the CRL's id is read whenever the entry is not fresh (every time with TTL 0), the set
 * is reused while the id is unchanged, a new CRL is loaded and verified again once
 * however many decisions ask at the same time, a read that fails is a state that is not
 * ok and is not remembered, and a fleet view's generation change ends an entry at once,
 * also the answer of a load still in flight. Real SQLite registry and engine; CRLs are
 * stored through the same replaceCrl the admin API uses.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CaCrls, type CrlState } from '../../ts/authz/crls.js';
import { decisionReads, type DecisionReads } from '../../ts/authz/reads.js';
import { replaceCrl } from '../../ts/crl/replace.js';
import { loadEngine } from '../../ts/engine/load.js';
import { DATES, crlPem, revocationList } from './pki.js';
import { ACCOUNT_A, createWorld, type World } from './world.js';

/** The listed serials of a state that is ok, else its message. */
function serialsOf(state: CrlState): string[] | string {
  return state.ok ? [...(state.view?.serials ?? [])] : state.message;
}

describe('the CRL sets per CA (crls.ts) on the configuration cache', () => {
  let world: World;
  const native = loadEngine('native');
  const verifyCrl = vi.fn(native.verifyCrl);
  const engine = { ...native, verifyCrl };
  const nowMs = DATES.now * 1000;
  beforeEach(async () => {
    world = await createWorld();
    verifyCrl.mockClear();
  });
  afterEach(() => world.dispose());

  async function putCrl(serials: bigint[], number: bigint): Promise<void> {
    const der = revocationList({ issuer: world.caIdentity, serials, number, thisUpdate: DATES.now - 60, nextUpdate: DATES.notAfter });
    const out = await replaceCrl(
      world.registry,
      native,
      { accountId: ACCOUNT_A, caCertificateId: world.ca.id, bytes: Buffer.from(crlPem(der)), source: 'UPLOAD', sourceUrl: null },
      DATES.now,
    );
    if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
  }

  /** The SQLite reads with `caCrlMeta` counted; `async`: answered later and without a stamp, as PostgreSQL's. */
  function countedReads(o: { async?: boolean; generation?: () => number } = {}) {
    const reads = decisionReads(world.registry);
    const meta = vi.fn(o.async ? (a: string, c: string) => world.registry.getCaCrlMeta(a, c) : reads.caCrlMeta);
    const counted: DecisionReads = { ...reads, caCrlMeta: meta, configGeneration: o.generation ?? reads.configGeneration };
    // PostgreSQL read directly has no stamp (reads.ts configStamp).
    if (o.async) delete counted.configStamp;
    return { reads: counted, meta };
  }

  it('with TTL 0 reads the CRL id every time, and loads and verifies the CRL again only when the id changes', async () => {
    await putCrl([0x10n], 1n);
    const { reads, meta } = countedReads();
    const crls = new CaCrls(world.registry, reads, engine, 0);
    const first = await crls.state(ACCOUNT_A, world.ca.id, nowMs);
    expect(serialsOf(first)).toEqual(['10']);
    // The same CRL: answered synchronously, the very same set, not verified again.
    const again = crls.state(ACCOUNT_A, world.ca.id, nowMs);
    expect(again).toBe(first);
    expect(crls.state(ACCOUNT_A, world.ca.id, nowMs)).toBe(first);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs)).toBeUndefined();
    expect(meta).toHaveBeenCalledTimes(3);
    expect(verifyCrl).toHaveBeenCalledTimes(1);
    await putCrl([0x10n, 0x11n], 2n);
    expect(serialsOf(await crls.state(ACCOUNT_A, world.ca.id, nowMs))).toEqual(['10', '11']);
    expect(verifyCrl).toHaveBeenCalledTimes(2);
  });

  it('past the TTL reads the id again and reuses the set while it is unchanged (no stamp: PostgreSQL read directly)', async () => {
    await putCrl([0x20n], 1n);
    const { reads, meta } = countedReads({ async: true });
    const crls = new CaCrls(world.registry, reads, engine, 1000);
    const first = await crls.state(ACCOUNT_A, world.ca.id, nowMs);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs + 999)).toBe(first);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs + 1000)).toBeUndefined();
    expect(await crls.state(ACCOUNT_A, world.ca.id, nowMs + 1000)).toBe(first);
    expect(meta).toHaveBeenCalledTimes(2);
    expect(verifyCrl).toHaveBeenCalledTimes(1);
  });

  it('loads a new CRL once for concurrent decisions, the id read synchronously or later', async () => {
    await putCrl([0x30n], 1n);
    const getCaCrl = vi.spyOn(world.registry, 'getCaCrl');
    for (const async of [false, true]) {
      const crls = new CaCrls(world.registry, countedReads({ async }).reads, engine, 1000);
      const states = await Promise.all([1, 2, 3].map((i) => crls.state(ACCOUNT_A, world.ca.id, nowMs + i)));
      expect(states.map(serialsOf)).toEqual([['30'], ['30'], ['30']]);
      expect(states[1]).toBe(states[0]);
    }
    expect(getCaCrl).toHaveBeenCalledTimes(2);
    expect(verifyCrl).toHaveBeenCalledTimes(2);
  });

  it('with TTL 0 still verifies a new CRL once for the decisions that read its id while it loads', async () => {
    await putCrl([0x31n], 1n);
    const crls = new CaCrls(world.registry, countedReads({ async: true }).reads, engine, 0);
    const states = await Promise.all([1, 2, 3].map((i) => crls.state(ACCOUNT_A, world.ca.id, nowMs + i)));
    expect(states.map(serialsOf)).toEqual([['31'], ['31'], ['31']]);
    expect(verifyCrl).toHaveBeenCalledTimes(1);
    // Settled loads are not kept: a new CRL is loaded again.
    await putCrl([0x31n, 0x32n], 2n);
    expect(serialsOf(await crls.state(ACCOUNT_A, world.ca.id, nowMs + 4))).toEqual(['31', '32']);
    expect(verifyCrl).toHaveBeenCalledTimes(2);
  });

  it('a read that fails is a state that is not ok, for every decision sharing it, and is not remembered', async () => {
    await putCrl([0x40n], 1n);
    const { reads, meta } = countedReads({ async: true });
    const crls = new CaCrls(world.registry, reads, engine, 1000);
    meta.mockRejectedValueOnce(new Error('connection lost'));
    const failed = await Promise.all([crls.state(ACCOUNT_A, world.ca.id, nowMs), crls.state(ACCOUNT_A, world.ca.id, nowMs)]);
    expect(failed).toEqual([
      { ok: false, message: `CRL of ${world.ca.id} could not be read: connection lost` },
      { ok: false, message: `CRL of ${world.ca.id} could not be read: connection lost` },
    ]);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs)).toBeUndefined();
    // Within the TTL, the next decision reads again.
    vi.spyOn(world.registry, 'getCaCrl').mockRejectedValueOnce(new Error('CRL bytes lost'));
    expect(await crls.state(ACCOUNT_A, world.ca.id, nowMs + 1)).toMatchObject({
      ok: false,
      message: expect.stringContaining('CRL bytes lost'),
    });
    expect(serialsOf(await crls.state(ACCOUNT_A, world.ca.id, nowMs + 2))).toEqual(['40']);
    // A synchronous read that throws (SQLite) is not ok the same way.
    const sync = countedReads();
    sync.meta.mockImplementationOnce(() => {
      throw new Error('database is locked');
    });
    const onSqlite = new CaCrls(world.registry, sync.reads, engine, 1000);
    expect(onSqlite.state(ACCOUNT_A, world.ca.id, nowMs)).toMatchObject({
      ok: false,
      message: expect.stringContaining('database is locked'),
    });
    expect(serialsOf(await onSqlite.state(ACCOUNT_A, world.ca.id, nowMs))).toEqual(['40']);
  });

  it('a generation change (a fleet view applied a change) ends the entry at once, also the answer of a load in flight', async () => {
    await putCrl([0x50n], 1n);
    let generation = 0;
    const { reads } = countedReads({ async: true, generation: () => generation });
    const crls = new CaCrls(world.registry, reads, engine, 1000);
    const settled = await crls.state(ACCOUNT_A, world.ca.id, nowMs);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs + 1)).toBe(settled);
    generation = 1;
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs + 1)).toBeUndefined();
    // A load that started before the next change: its answer is given, not kept as current.
    const getCaCrl = vi.spyOn(world.registry, 'getCaCrl');
    await putCrl([0x50n, 0x51n], 2n);
    const raced = crls.state(ACCOUNT_A, world.ca.id, nowMs + 2);
    generation = 2;
    expect(serialsOf(await raced)).toEqual(['50', '51']);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs + 3)).toBeUndefined();
    // A decision that starts after the change reads the CRL id itself; only a load of the
    // CRL that id names (the same bytes) is shared with it.
    await putCrl([0x52n], 3n);
    const before = crls.state(ACCOUNT_A, world.ca.id, nowMs + 4);
    generation = 3;
    const after = crls.state(ACCOUNT_A, world.ca.id, nowMs + 5);
    expect(serialsOf(await before)).toEqual(['52']);
    expect(serialsOf(await after)).toEqual(['52']);
    expect(getCaCrl).toHaveBeenCalledTimes(2);
    expect(crls.peek(ACCOUNT_A, world.ca.id, nowMs + 6)).toBe(await after);
  });
});
