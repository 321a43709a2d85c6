/**
 * Loading the two builds of the engine. Each build is produced by the setup script
 * (`scripts/setup.mjs`): the napi addon into `build/native`, the wasm-bindgen output
 * into `build/wasm`.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { nativeAddonPath, wasmModulePath } from '../paths.js';
import type { Engine, EngineBinding, EngineName } from './types.js';

const require = createRequire(import.meta.url);
const loaded = new Map<EngineName, Engine>();

function bindingPath(name: EngineName): string {
  return name === 'native' ? nativeAddonPath : wasmModulePath;
}

/** Load (once per thread) the named engine. Throws if it has not been built. */
export function loadEngine(name: EngineName): Engine {
  const cached = loaded.get(name);
  if (cached) return cached;
  const file = bindingPath(name);
  if (!existsSync(file)) {
    throw new Error(`the ${name} engine is not built (${file} is missing); run \`npm run setup\``);
  }
  const binding = require(file) as EngineBinding;
  const engine: Engine = Object.freeze({ ...binding, name });
  loaded.set(name, engine);
  return engine;
}

/** Parse an `--engine` value; anything else is a usage error. */
export function parseEngineName(value: string): EngineName {
  if (value === 'native' || value === 'wasm') return value;
  throw new Error(`unknown engine "${value}": expected "native" or "wasm"`);
}
