/**
 * Loading the two builds of the engine. Each build is produced by the setup script
 * (`scripts/setup.sh`): the napi addon into `build/native`, the wasm-bindgen output
 * into `build/wasm`. The wasm engine gets `node:crypto` as its signature backend
 * (`host-crypto.ts`); `CERTGATE_WASM_PURE=1` keeps its built-in RustCrypto code instead
 * (the benchmark measures both).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { nativeAddonPath, wasmModulePath } from '../paths.js';
import { hostVerify } from './host-crypto.js';
import type { Engine, EngineBinding, EngineName } from './types.js';

const require = createRequire(import.meta.url);
const loaded = new Map<EngineName, Engine>();

function bindingPath(name: EngineName): string {
  return name === 'native' ? nativeAddonPath : wasmModulePath;
}

interface WasmExtras {
  setHostVerifier(fn: typeof hostVerify | undefined): void;
}

/** Load (once per thread) the named engine. Throws if it has not been built. */
export function loadEngine(name: EngineName): Engine {
  const cached = loaded.get(name);
  if (cached) return cached;
  const file = bindingPath(name);
  if (!existsSync(file)) {
    throw new Error(`the ${name} engine is not built (${file} is missing); run \`npm run setup\``);
  }
  const binding = require(file) as EngineBinding & Partial<WasmExtras>;
  if (name === 'wasm' && typeof binding.setHostVerifier === 'function') {
    binding.setHostVerifier(process.env.CERTGATE_WASM_PURE === '1' ? undefined : hostVerify);
  }
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
