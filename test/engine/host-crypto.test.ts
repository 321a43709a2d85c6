/**
 * The wasm engine's signature seam: the host verifier installed by `loadEngine` decides,
 * a host that cannot answer leaves the decision to the built-in RustCrypto code, and
 * the key slots the engine numbers (crates/certgate-wasm/src/host.rs) keep the host's
 * parsed keys matched to the right SPKI, also when slots are reused.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CANNOT_ANSWER, createHostVerifier, INVALID, VALID, type HostVerifier } from '../../ts/engine/host-crypto.js';
import { loadEngine, type WasmBinding } from '../../ts/engine/load.js';
import { projectRoot, wasmModulePath } from '../../ts/paths.js';
import { certificate, DATES, identity } from '../authz/pki.js';

interface Case {
  name: string;
  call: { leaf: string; anchors: string[]; at: number };
}
const cases = JSON.parse(readFileSync(path.join(projectRoot, 'test', 'fixtures', 'engine', 'cases.json'), 'utf8')) as Case[];
const chain = cases.find((c) => c.name === 'leaf_signed_by_registered_ca_is_accepted')?.call;
if (!chain) throw new Error('fixture missing');
const leaf = Buffer.from(chain.leaf, 'base64');
const anchors = chain.anchors.map((a) => Buffer.from(a, 'base64'));

const engine = loadEngine('wasm');
const wasm = createRequire(import.meta.url)(wasmModulePath) as WasmBinding;
const fresh = () => createHostVerifier(wasm.hostAlgorithms());
const verifyCa = (caLeaf: Uint8Array, ca: Uint8Array, at = chain.at) => engine.verifyChain(caLeaf, [], [ca], at, 'client');

/** A host that records each call (the SPKI copied: the engine's view lives only during the call) and answers with `inner`. */
function recording(inner: HostVerifier): { host: HostVerifier; calls: { algorithm: string; slot: number; spki: Buffer }[] } {
  const calls: { algorithm: string; slot: number; spki: Buffer }[] = [];
  const names = wasm.hostAlgorithms();
  return {
    calls,
    host: {
      verify(algorithm, slot, spki, message, signature) {
        calls.push({ algorithm: names[algorithm] ?? '?', slot, spki: Buffer.from(spki) });
        return inner.verify(algorithm, slot, spki, message, signature);
      },
    },
  };
}

describe('the wasm engine signature seam', () => {
  afterEach(() => wasm.setHostVerifier(fresh()));

  it('asks the host with the algorithm index and sends a signer SPKI once, naming its slot after', () => {
    const { host, calls } = recording(fresh());
    wasm.setHostVerifier(host);
    expect(engine.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
    expect(engine.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
    expect(calls.map((c) => c.algorithm)).toEqual(['SHA256WITHRSA', 'SHA256WITHRSA']);
    const [first, second] = calls;
    expect(first?.spki.length).toBeGreaterThan(0);
    expect(second?.spki.length).toBe(0);
    expect(second?.slot).toBe(first?.slot);
  });

  it('denies when the host says the signature is bad', () => {
    wasm.setHostVerifier({ verify: () => INVALID });
    expect(engine.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('falls back to its own code when the host cannot answer', () => {
    wasm.setHostVerifier({ verify: () => CANNOT_ANSWER });
    expect(engine.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
    wasm.setHostVerifier({
      verify: () => {
        throw new Error('host failure');
      },
    });
    expect(engine.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
  });

  it('sends the SPKI again to a newly installed host', () => {
    engine.verifyChain(leaf, [], anchors, chain.at, 'client');
    const { host, calls } = recording(fresh());
    wasm.setHostVerifier(host);
    expect(engine.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
    expect(calls[0]?.spki.length).toBeGreaterThan(0);
  });

  it('answers CANNOT_ANSWER for algorithms outside the seven and for keys OpenSSL cannot load, on every later call too', () => {
    const outside = createHostVerifier(['SHA1WITHRSA']);
    expect(outside.verify(0, 0, new Uint8Array([0x30, 0]), new Uint8Array(), new Uint8Array())).toBe(CANNOT_ANSWER);
    const host = fresh();
    const rsa = wasm.hostAlgorithms().indexOf('SHA256WITHRSA');
    expect(host.verify(rsa, 3, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), new Uint8Array(), new Uint8Array())).toBe(CANNOT_ANSWER);
    expect(host.verify(rsa, 3, new Uint8Array(), new Uint8Array(), new Uint8Array())).toBe(CANNOT_ANSWER);
    expect(host.verify(rsa, 4, new Uint8Array(), new Uint8Array(), new Uint8Array())).toBe(CANNOT_ANSWER);
  });

  it('keeps every key matched to its SPKI when more CAs than slots are seen (the least recently used slot reused)', () => {
    const { host, calls } = recording(fresh());
    wasm.setHostVerifier(host);
    const slots = 1024;
    const chains = Array.from({ length: slots + 2 }, (_, i) => {
      const caId = identity(`slot CA ${i}`, 'p256', false);
      const ca = certificate({ subject: caId, ca: true });
      return { ca: ca.der, leaf: certificate({ subject: identity(`slot leaf ${i}`), issuer: caId }).der };
    });
    for (const c of chains) expect(verifyCa(c.leaf, c.ca, DATES.now)).toMatchObject({ ok: true });
    // Every call brought a new key; the last two took the slots of the first two.
    expect(calls.filter((c) => c.spki.length > 0)).toHaveLength(slots + 2);
    expect(calls.at(-2)?.slot).toBe(calls[0]?.slot);
    expect(calls.at(-1)?.slot).toBe(calls[1]?.slot);
    // The first CA lost its slot: its key is sent again, and every answer came from the host
    // (a stale key in a reused slot would have answered INVALID: BAD_SIGNATURE).
    const before = calls.length;
    const first = chains[0] as { ca: Buffer; leaf: Buffer };
    expect(verifyCa(first.leaf, first.ca, DATES.now)).toMatchObject({ ok: true });
    expect(calls[before]?.spki.length).toBeGreaterThan(0);
    const last = chains.at(-1) as { ca: Buffer; leaf: Buffer };
    expect(verifyCa(last.leaf, last.ca, DATES.now)).toMatchObject({ ok: true });
    expect(calls.at(-1)?.spki.length).toBe(0);
  });

  it('the host answers VALID and INVALID itself for what it can check', () => {
    const caId = identity('host CA', 'p256', false);
    const ca = certificate({ subject: caId, ca: true });
    const good = certificate({ subject: identity('host leaf'), issuer: caId });
    const answers: number[] = [];
    const inner = fresh();
    wasm.setHostVerifier({ verify: (...args) => (answers.push(inner.verify(...args)), answers.at(-1) as 0 | 1 | 2) });
    expect(verifyCa(good.der, ca.der, DATES.now)).toMatchObject({ ok: true });
    expect(answers).toEqual([VALID]);
    // Same issuer name, other key: the host says INVALID and the engine refuses.
    const forged = certificate({ subject: identity('host leaf'), issuer: { ...caId, key: identity('forger', 'p256', false).key } });
    expect(verifyCa(forged.der, ca.der, DATES.now)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(answers).toEqual([VALID, INVALID]);
  });
});
