/**
 * `certgate cert verify LEAF --ca FILE ...`: RFC 5280 path validation of a device
 * certificate against the given CA certificates, as the authorizer does it. Prints the
 * engine's answer, `{ "ok": true, ... }` (exit 0) or `{ "ok": false, "code": ... }`
 * (exit 1).
 */
import type { Command } from 'commander';
import type { EkuPolicy } from '../../engine/types.js';
import { group } from '../group.js';
import { CliError, EXIT, printJson } from '../output.js';
import { engineOption, readInput } from './cert-inspect.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--at`: an ISO 8601 instant (epoch seconds for the engine); default now. */
function parseAt(value: string | undefined): number {
  if (value === undefined) return Math.floor(Date.now() / 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new CliError(`--at ${value} is not an ISO 8601 time`, EXIT.usage);
  return Math.floor(ms / 1000);
}

function parseEku(value: string): EkuPolicy {
  if (value === 'client' || value === 'any') return value;
  throw new CliError(`--eku ${value}: expected client or any`, EXIT.usage);
}

interface VerifyOptions {
  ca: string[];
  intermediate: string[];
  at?: string;
  eku: string;
  engine: string;
}

export function register(program: Command): void {
  group(program, 'cert', 'device certificates')
    .command('verify')
    .description('validate a certificate chain against CA certificates (RFC 5280, AWS IoT algorithms)')
    .argument('<leaf>', 'device certificate (PEM or DER; further PEM blocks count as intermediates)')
    .option('--ca <file>', 'registered CA certificate (repeatable)', collect, [])
    .option('--intermediate <file>', 'intermediate certificate (repeatable)', collect, [])
    .option('--at <iso8601>', 'validation time (default: now)')
    .option('--eku <policy>', 'client: require clientAuth when the leaf has an EKU; any: no EKU check', 'client')
    .option('--engine <name>', 'engine: native or wasm', 'native')
    .action((leafFile: string, options: VerifyOptions) => {
      const engine = engineOption(options.engine);
      const at = parseAt(options.at);
      const eku = parseEku(options.eku);
      const outcome = engine.verifyChain(readInput(leafFile), options.intermediate.map(readInput), options.ca.map(readInput), at, eku);
      printJson(outcome);
      if (!outcome.ok) process.exitCode = EXIT.negative;
    });
}
