/**
 * The engine rule catalogue (`crates/certgate-testkit/src/cases/`, exported to
 * `test/fixtures/engine/cases.json`) through both engines, plus the wasm engine with its
 * built-in RustCrypto backend instead of node:crypto. Every engine must give the
 * expected verdict and exactly the same result object.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostVerifier } from '../../ts/engine/host-crypto.js';
import { loadEngine, type WasmBinding } from '../../ts/engine/load.js';
import { projectRoot, wasmModulePath } from '../../ts/paths.js';
import { ENGINE_NAMES, type Engine, type EngineBinding, type Outcome, type VerifiedChain } from '../../ts/engine/types.js';

type Call = { method: string } & Record<string, unknown>;
interface Case {
  name: string;
  call: Call;
  code?: string;
  fields?: Record<string, unknown>;
}

const cases = JSON.parse(readFileSync(path.join(projectRoot, 'test', 'fixtures', 'engine', 'cases.json'), 'utf8')) as Case[];

const b = (s: unknown): Uint8Array => Buffer.from(String(s), 'base64');
const list = (v: unknown): Uint8Array[] => (v as string[]).map(b);

/** Run one catalogued call with the binding's positional arguments. */
function run(engine: EngineBinding, c: Call): Outcome<object> {
  switch (c.method) {
    case 'inspect':
      return engine.inspect(b(c.input));
    case 'inspectChain':
      return engine.inspectChain(b(c.input));
    case 'verifyChain':
      return engine.verifyChain(b(c.leaf), list(c.intermediates), list(c.anchors), Number(c.at), c.eku as 'client');
    case 'verifyRegistrationProof':
      return engine.verifyRegistrationProof(b(c.ca), b(c.verification), String(c.registrationCode), Number(c.at));
    case 'issueFromCsr':
      return engine.issueFromCsr(b(c.csr), b(c.issuerCertificate), b(c.issuerKey), b(c.serial), Number(c.notBefore));
    case 'issueCertificate':
      return engine.issueCertificate(b(c.publicKey), b(c.issuerCertificate), b(c.issuerKey), b(c.serial), Number(c.notBefore));
    case 'createIssuingCa':
      return engine.createIssuingCa(b(c.key), String(c.subject), b(c.serial), Number(c.notBefore), Number(c.notAfter));
    case 'verifyCrl':
      return engine.verifyCrl(b(c.crl), b(c.ca), Number(c.at), c.previousNumber === null ? null : String(c.previousNumber));
    default:
      throw new Error(`unknown method ${c.method}`);
  }
}

function expectVerdict(c: Case, out: Outcome<object>): void {
  if (c.code === undefined) {
    expect(out, JSON.stringify(out)).toMatchObject({ ok: true, ...c.fields });
  } else {
    expect(out, JSON.stringify(out)).toMatchObject({ ok: false, code: c.code });
  }
}

describe.each(ENGINE_NAMES)('the %s engine', (name) => {
  const engine: Engine = loadEngine(name);
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    expectVerdict(c, run(engine, c.call));
  });
});

describe('the native and wasm engines', () => {
  it.each(cases.map((c) => [c.name, c] as const))('agree on %s', (_n, c) => {
    expect(run(loadEngine('wasm'), c.call)).toEqual(run(loadEngine('native'), c.call));
  });

  it('both refuse a 10,000-certificate chain with TOO_MANY_CERTIFICATES', () => {
    const leafCase = cases.find((c) => c.name === 'leaf_signed_by_registered_ca_is_accepted');
    const leaf = b(leafCase?.call.leaf);
    const anchors = list(leafCase?.call.anchors);
    const garbage = Array.from({ length: 10_000 }, () => new Uint8Array([0x30, 0x00]));
    for (const engine of ENGINE_NAMES.map(loadEngine)) {
      expect(engine.verifyChain(leaf, garbage, anchors, 1.75e9, 'client')).toMatchObject({ ok: false, code: 'TOO_MANY_CERTIFICATES' });
    }
  });
});

describe.each(ENGINE_NAMES)('verifyChain of the %s engine', (name) => {
  const engine: Engine = loadEngine(name);
  const accepted = cases.filter((c) => c.call.method === 'verifyChain' && c.code === undefined);

  it('is tested on accepted chains with intermediates', () => {
    expect(accepted.some((c) => (c.call.intermediates as string[]).length > 0)).toBe(true);
  });

  it.each(accepted.map((c) => [c.name, c] as const))('names the serial of each certificate on the path: %s', (_n, c) => {
    const out = run(engine, c.call) as Outcome<VerifiedChain>;
    if (!out.ok) throw new Error(`expected an accepted chain, got ${out.code}`);
    // Every certificate the call was given, by certificateId, as inspect reads it.
    const given = new Map<string, string>();
    for (const der of [b(c.call.leaf), ...list(c.call.intermediates), ...list(c.call.anchors)]) {
      const info = engine.inspectChain(der);
      if (info.ok) for (const cert of info.certificates) given.set(cert.certificateId, cert.serialNumber);
    }
    expect(out.serials).toHaveLength(out.path.length);
    expect(out.serials).toEqual(out.path.map((id) => given.get(id)));
  });
});

describe('the wasm engine with its built-in RustCrypto backend', () => {
  const require = createRequire(import.meta.url);
  const wasm = require(wasmModulePath) as WasmBinding;
  beforeAll(() => {
    loadEngine('wasm');
    wasm.setHostVerifier(undefined);
  });
  afterAll(() => wasm.setHostVerifier(createHostVerifier(wasm.hostAlgorithms())));

  it.each(cases.filter((c) => c.call.method !== 'inspect').map((c) => [c.name, c] as const))('agrees with native on %s', (_n, c) => {
    const out = run(loadEngine('wasm'), c.call);
    expectVerdict(c, out);
    expect(out).toEqual(run(loadEngine('native'), c.call));
  });
});
