/**
 * The wasm engine's signature seam: the host verifier installed by `loadEngine` decides,
 * and a host that cannot answer leaves the decision to the built-in RustCrypto code.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostVerify } from '../../ts/engine/host-crypto.js';
import { loadEngine } from '../../ts/engine/load.js';
import { projectRoot, wasmModulePath } from '../../ts/paths.js';
import type { EngineBinding } from '../../ts/engine/types.js';

interface Case {
  name: string;
  call: { leaf: string; anchors: string[]; at: number };
}
const cases = JSON.parse(readFileSync(path.join(projectRoot, 'test', 'fixtures', 'engine', 'cases.json'), 'utf8')) as Case[];
const chain = cases.find((c) => c.name === 'leaf_signed_by_registered_ca_is_accepted')?.call;
if (!chain) throw new Error('fixture missing');
const leaf = Buffer.from(chain.leaf, 'base64');
const anchors = chain.anchors.map((a) => Buffer.from(a, 'base64'));

loadEngine('wasm');
type HostVerifier = (algorithm: string, spki: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean | undefined;
const wasm = createRequire(import.meta.url)(wasmModulePath) as EngineBinding & {
  setHostVerifier(fn: HostVerifier | undefined): void;
};

describe('the wasm engine signature seam', () => {
  afterEach(() => wasm.setHostVerifier(hostVerify));

  it('asks the host verifier with the AWS algorithm name and the signer SPKI', () => {
    const seen: Parameters<HostVerifier>[] = [];
    wasm.setHostVerifier((...args) => {
      seen.push(args);
      return hostVerify(...args);
    });
    expect(wasm.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[0]).toBe('SHA256WITHRSA');
    expect(seen[0]?.[1]).toBeInstanceOf(Uint8Array);
  });

  it('denies when the host says the signature is bad', () => {
    wasm.setHostVerifier(() => false);
    expect(wasm.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('falls back to its own code when the host cannot answer', () => {
    wasm.setHostVerifier(() => undefined);
    expect(wasm.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
    wasm.setHostVerifier(() => {
      throw new Error('host failure');
    });
    expect(wasm.verifyChain(leaf, [], anchors, chain.at, 'client')).toMatchObject({ ok: true });
  });

  it('answers undefined for algorithms outside the seven', () => {
    expect(hostVerify('SHA1WITHRSA', new Uint8Array(), new Uint8Array(), new Uint8Array())).toBeUndefined();
  });
});
