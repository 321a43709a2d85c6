/**
 * `certgate cert inspect FILE`: what the engine reads from a certificate (PEM or DER),
 * as JSON. Exit 0 when it parses, 1 when the engine refuses it (`{ ok: false, code }`),
 * 3 when the file cannot be read.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadEngine, parseEngineName } from '../../engine/load.js';
import { group } from '../group.js';
import { CliError, EXIT, printJson } from '../output.js';

/** Read a file the user named; unreadable files are exit 3 with the path in the message. */
export function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, EXIT.failed);
  }
}

/** Parse `--engine`, mapping a bad value to a usage error. */
export function engineOption(value: string): ReturnType<typeof loadEngine> {
  try {
    return loadEngine(parseEngineName(value));
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err), EXIT.usage);
  }
}

export function register(program: Command): void {
  group(program, 'cert', 'device certificates')
    .command('inspect')
    .description('parse a certificate (PEM or DER) and print its fields as JSON')
    .argument('<file>', 'certificate file')
    .option('--all', 'every certificate of a PEM bundle (prints { ok, certificates })')
    .option('--engine <name>', 'engine: native or wasm', 'native')
    .action((file: string, options: { all?: boolean; engine: string }) => {
      const engine = engineOption(options.engine);
      const input = readInput(file);
      const outcome = options.all ? engine.inspectChain(input) : engine.inspect(input);
      printJson(outcome);
      if (!outcome.ok) process.exitCode = EXIT.negative;
    });
}
