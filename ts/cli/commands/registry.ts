/**
 * `certgate registry ...`: the registry's secrets at rest (docs/api.md "Secrets at rest").
 * `encrypt` seals a clear registry with a master key in place; `rotate-master-key`
 * re-wraps every secret's data key under a new master key; `secrets` says which state
 * the registry is in. Each is one transaction: it completes or changes nothing.
 */
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { AwsError } from '../../control/errors.js';
import { isPostgresUrl, openRegistry, resolveDbPath } from '../../registry/open.js';
import {
  MASTER_KEY_ENV,
  readMasterKeyFile,
  resolveMasterKey,
  rotationRewrite,
  sealingRewrite,
  type ResealReport,
} from '../../registry/secrets.js';
import type { Registry } from '../../registry/types.js';
import { group } from '../group.js';
import { CliError, EXIT, printJson, printTable } from '../output.js';
import { action } from './registry-options.js';

interface RegistryCommandOptions {
  db?: string;
  json?: boolean;
  masterKeyFile?: string;
  oldKeyFile?: string;
  newKeyFile?: string;
}

function dbOption(command: Command): Command {
  return command
    .addOption(new Option('--db <path>', 'registry: SQLite file or postgres:// URL [env CERTGATE_DB, default data/certgate.db]'))
    .addOption(new Option('--json', 'print JSON instead of a table'));
}

/**
 * Open an existing registry (never create one: a mistyped --db must not seal an empty
 * file) without a master key: each command passes its keys to the rewrite it runs.
 */
async function withRegistry<T>(options: RegistryCommandOptions, work: (registry: Registry) => Promise<T>): Promise<T> {
  const dbPath = resolveDbPath(options.db);
  if (!isPostgresUrl(dbPath) && !existsSync(dbPath)) {
    throw new AwsError('ResourceNotFoundException', `No registry at ${dbPath}; check --db / CERTGATE_DB.`);
  }
  const registry = openRegistry({ path: dbPath });
  try {
    await registry.settings();
    return await work(registry);
  } finally {
    await registry.close();
  }
}

function report(options: RegistryCommandOptions, what: string, result: ResealReport): void {
  if (options.json) return printJson({ ...result, encrypted: true });
  process.stdout.write(`${what}: ${result.secrets} secret(s) rewritten; the registry is encrypted with master key ${result.keyId}\n`);
}

function requireFile(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new CliError(`${flag} FILE is required`, EXIT.usage);
  return value;
}

export function register(program: Command): void {
  const registry = group(program, 'registry', "the registry's secrets at rest: encryption and master key rotation");

  dbOption(
    registry
      .command('encrypt')
      .description("encrypt the registry's clear secrets (SigV4 secret keys, issuing CA keys) with a master key, in place")
      .addOption(new Option('--master-key-file <file>', `32 random bytes, raw or base64 [env ${MASTER_KEY_ENV}]`))
      .addHelpText(
        'after',
        `
Opening a registry with a master key (serve or any command given --master-key-file)
also encrypts it; this command does it explicitly and reports what it did.

Examples:
  openssl rand -base64 32 > /etc/certgate/master.key && chmod 600 /etc/certgate/master.key
  certgate registry encrypt --db data/certgate.db --master-key-file /etc/certgate/master.key
  CERTGATE_MASTER_KEY_FILE=/etc/certgate/master.key certgate registry encrypt --json`,
      ),
  ).action(
    action(async (options: RegistryCommandOptions) => {
      const key = resolveMasterKey(options.masterKeyFile);
      if (key === undefined) throw new CliError(`--master-key-file FILE (or ${MASTER_KEY_ENV}) is required`, EXIT.usage);
      const result = await withRegistry(options, (r) => r.rewriteSecrets(sealingRewrite(key)));
      report(options, 'encrypted', result);
    }),
  );

  dbOption(
    registry
      .command('rotate-master-key')
      .description("re-wrap every secret's data key from the old master key to the new one, in one transaction")
      .option('--old-key-file <file>', 'the master key the registry is encrypted with now')
      .option('--new-key-file <file>', 'the master key to encrypt it with from now on')
      .addHelpText(
        'after',
        `
Processes still running with the old key cannot read secrets after the rotation
(admin requests answer InternalFailureException): restart them with the new key.

Examples:
  openssl rand -base64 32 > master.new.key
  certgate registry rotate-master-key --old-key-file master.key --new-key-file master.new.key
  certgate registry rotate-master-key --db postgres://certgate@db/certgate --old-key-file old.key --new-key-file new.key --json`,
      ),
  ).action(
    action(async (options: RegistryCommandOptions) => {
      const from = readMasterKeyFile(requireFile(options.oldKeyFile, '--old-key-file'));
      const to = readMasterKeyFile(requireFile(options.newKeyFile, '--new-key-file'));
      if (from.id === to.id) throw new CliError('--old-key-file and --new-key-file hold the same key', EXIT.usage);
      const result = await withRegistry(options, (r) => r.rewriteSecrets(rotationRewrite(from, to)));
      report(options, 'rotated', result);
    }),
  );

  dbOption(
    registry
      .command('secrets')
      .description('say whether the registry stores its secrets encrypted, and with which master key id')
      .addHelpText(
        'after',
        `
Examples:
  certgate registry secrets --db data/certgate.db
  certgate registry secrets --json`,
      ),
  ).action(
    action(async (options: RegistryCommandOptions) => {
      const keyId = await withRegistry(options, (r) => r.secretsKeyId());
      if (options.json) return printJson({ encrypted: keyId !== null, keyId });
      printTable(['SECRETS', 'MASTER KEY ID'], [[keyId === null ? 'clear' : 'encrypted', keyId ?? '-']]);
    }),
  );
}
