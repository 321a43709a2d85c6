/**
 * The V8 flags `certgate serve` gives its forked server processes (ts/server/serve.ts),
 * in a module of their own so the benches can give their baseline servers the same
 * flags without loading the server.
 */
import type { EngineName } from '../engine/types.js';

/**
 * V8 flags for the forked server processes (a command-line flag, so only forked processes
 * get it: `v8.setFlagsFromString` after start-up did not take effect; with
 * `--processes 1` V8's defaults apply). `CERTGATE_V8_DEFAULTS=1` keeps V8's defaults.
 *
 * - `--interrupt-budget=16384` (V8's default 67584, Node 20): a function is considered for
 *   optimisation after a quarter of the bytecode V8 otherwise runs first, so a new server
 *   process reaches optimised code on the decision path within fewer requests
 *   (https://v8.dev/blog/sparkplug describes the tiers). The total compilation is about the
 *   same; it happens sooner. Measured (bench/README.md, "Admitted on second sight"):
 *   ~−12 µs of server CPU per cold decision in the first 8,000 after a 1,500-request
 *   warm-up, ~−5 µs over 40,000, and no slower warm requests.
 * - `--no-liftoff` with the wasm engine: V8 compiles each wasm function with its
 *   optimising compiler (TurboFan) when first called, instead of its baseline compiler
 *   (Liftoff) first and TurboFan only once the function has run enough
 *   (https://v8.dev/blog/wasm-dynamic-tiering). A decision calls many engine functions
 *   once each, and some were still baseline code at the server long after start-up:
 *   `--no-liftoff` saved ~4.5 µs of ~195 µs of server CPU per cold wasm decision
 *   (bench/README.md "Remembered on second sight"), for ~70 ms of compilation at the first
 *   verification, which each process makes before it listens (ts/engine/warmUp.ts).
 *   `CERTGATE_WASM_LIFTOFF=1` keeps V8's default for this one.
 */
export function serverV8Flags(engine: EngineName, env: NodeJS.ProcessEnv): string[] {
  if (env.CERTGATE_V8_DEFAULTS === '1') return [];
  return ['--interrupt-budget=16384', ...(engine === 'wasm' && env.CERTGATE_WASM_LIFTOFF !== '1' ? ['--no-liftoff'] : [])];
}
