/**
 * Loading the two builds of the engine. Each build is produced by the setup script
 * (`scripts/setup.sh`): the napi addon into `build/native`, the wasm-bindgen output
 * into `build/wasm`. The wasm engine gets `node:crypto` as its signature backend
 * (`host-crypto.ts`); `CERTGATE_WASM_PURE=1` keeps its built-in RustCrypto code instead
 * (the benchmark measures both). The wasm build answers `verifyChain` packed into one
 * string (`crates/certgate-wasm/src/lib.rs`, `pack_verified`), unpacked here into the
 * native engine's shape.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { nativeAddonPath, wasmModulePath } from '../paths.js';
import { createHostVerifier, type HostVerifier } from './host-crypto.js';
import type { Engine, EngineBinding, EngineName, Outcome, VerifiedChain } from './types.js';

const require = createRequire(import.meta.url);
const loaded = new Map<EngineName, Engine>();

function bindingPath(name: EngineName): string {
  return name === 'native' ? nativeAddonPath : wasmModulePath;
}

/** The wasm build's exports: the engine binding with `verifyChain` packed, and the host seam. */
export interface WasmBinding extends Omit<EngineBinding, 'verifyChain'> {
  verifyChainPacked(...args: Parameters<EngineBinding['verifyChain']>): string;
  setHostVerifier(host: HostVerifier | undefined): void;
  hostAlgorithms(): string[];
}

/**
 * `verifyChain`'s outcome from its packed form: accepted, `notAfter TAB path TAB serials`
 * (ids and serials joined by spaces); refused, `!code TAB message`.
 */
export function unpackVerified(packed: string): Outcome<VerifiedChain> {
  const tab = packed.indexOf('\t');
  if (packed.startsWith('!')) return { ok: false, code: packed.slice(1, tab), message: packed.slice(tab + 1) };
  const second = packed.indexOf('\t', tab + 1);
  const path = packed.slice(tab + 1, second).split(' ');
  return {
    ok: true,
    leafCertificateId: path[0] as string,
    anchorCertificateId: path[path.length - 1] as string,
    path,
    serials: packed.slice(second + 1).split(' '),
    notAfter: Number(packed.slice(0, tab)),
  };
}

/** The engine binding of a wasm build (`verifyChain` unpacked), its host verifier installed unless `pure`. */
export function wasmEngineBinding(wasm: WasmBinding, pure = process.env.CERTGATE_WASM_PURE === '1'): EngineBinding {
  wasm.setHostVerifier(pure ? undefined : createHostVerifier(wasm.hostAlgorithms()));
  const packed = wasm.verifyChainPacked;
  return { ...wasm, verifyChain: (leaf, intermediates, anchors, at, eku) => unpackVerified(packed(leaf, intermediates, anchors, at, eku)) };
}

/** Load (once per thread) the named engine. Throws if it has not been built. */
export function loadEngine(name: EngineName): Engine {
  const cached = loaded.get(name);
  if (cached) return cached;
  const file = bindingPath(name);
  if (!existsSync(file)) {
    throw new Error(`the ${name} engine is not built (${file} is missing); run \`npm run setup\``);
  }
  const binding = name === 'wasm' ? wasmEngineBinding(require(file) as WasmBinding) : (require(file) as EngineBinding);
  const engine: Engine = Object.freeze({
    name,
    inspect: binding.inspect,
    inspectChain: binding.inspectChain,
    verifyChain: binding.verifyChain,
    verifyRegistrationProof: binding.verifyRegistrationProof,
    issueCertificate: binding.issueCertificate,
    issueCertificates: binding.issueCertificates,
    generateKeys: binding.generateKeys,
    issueFromCsr: binding.issueFromCsr,
    createIssuingCa: binding.createIssuingCa,
    verifyCrl: binding.verifyCrl,
    errorCodes: binding.errorCodes,
  });
  loaded.set(name, engine);
  return engine;
}

/** Parse an `--engine` value; anything else is a usage error. */
export function parseEngineName(value: string): EngineName {
  if (value === 'native' || value === 'wasm') return value;
  throw new Error(`unknown engine "${value}": expected "native" or "wasm"`);
}
