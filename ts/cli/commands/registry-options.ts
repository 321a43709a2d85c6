/**
 * Options and error handling shared by the operator commands (`account`, `ca`, `cert`):
 * `--db PATH` (or CERTGATE_DB), `--account ID` (or CERTGATE_ACCOUNT), `--json`.
 */
import { Option, type Command } from 'commander';
import { AwsError, fromRegistryError } from '../../control/errors.js';
import { MasterKeyError } from '../../registry/secrets.js';
import { RegistryError } from '../../registry/types.js';
import { CliError, EXIT } from '../output.js';

/** Add the options every operator command takes. */
export function operatorOptions(command: Command, withAccount = true, output: 'table' | 'json' = 'table'): Command {
  command.addOption(new Option('--db <path>', 'registry: SQLite file or postgres:// URL [env CERTGATE_DB, default data/certgate.db]'));
  command.addOption(
    new Option(
      '--master-key-file <file>',
      "master key encrypting the registry's secrets: 32 bytes, raw or base64 [env CERTGATE_MASTER_KEY_FILE]",
    ),
  );
  if (withAccount) command.addOption(new Option('--account <id>', '12-digit account id [env CERTGATE_ACCOUNT; default: the only account]'));
  command.addOption(new Option('--engine <name>', 'certificate engine: native or wasm').default('native'));
  // A command whose answer is always JSON (it carries a secret scripts must capture)
  // still accepts --json, but does not advertise it as a choice.
  const json = new Option('--json', 'print JSON instead of a table');
  command.addOption(output === 'json' ? json.hideHelp() : json);
  return command;
}

/** Wrap an action so AWS and registry refusals become one-line CLI errors (exit 3). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof AwsError) throw new CliError(`${err.errorType}: ${err.message}`, EXIT.failed);
      // A master key file that is missing or malformed is a bad argument.
      if (err instanceof MasterKeyError) throw new CliError(err.message, EXIT.usage);
      if (err instanceof RegistryError) {
        // Same names as the API answers with (e.g. ResourceAlreadyExistsException).
        const aws = fromRegistryError(err);
        throw new CliError(`${aws.errorType}: ${aws.message}`, EXIT.failed);
      }
      throw err;
    }
  };
}
