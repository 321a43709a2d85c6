/**
 * The `certgate` command line. Each command lives in `commands/<name>.ts` and exports
 * `register(program)`; this file only assembles them and maps failures to exit codes.
 *
 * Exit codes (documented in README "CLI"):
 *   0  success / allowed / verified
 *   1  a negative answer (denied, not verified)
 *   2  usage error (bad flags or arguments)
 *   3  the operation failed (bad input file, registry error, service error; `serve`: start-up failed)
 *   4  `serve` took the service down: replacements of a dead server process failed to start
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { projectRoot } from '../paths.js';
import path from 'node:path';
import { CliError, EXIT } from './output.js';
import { registerCommands } from './commands/index.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Build the program; exported so tests can drive it without spawning a process. */
export function buildProgram(): Command {
  const program = new Command('certgate')
    .description('X.509 client-certificate registry and TLS handshake authorizer (AWS IoT compatible)')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Run the CLI with `argv` (without node and script), returning the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`certgate: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`certgate: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
}
