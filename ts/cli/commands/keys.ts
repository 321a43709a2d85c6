/**
 * `certgate account key ...` (branch keys): several access keys per account, read-only
 * keys, rotation and deletion, through the same rules as the admin API's
 * CreateAccessKey / ListAccessKeys / UpdateAccessKey / DeleteAccessKey.
 */
import type { Command } from 'commander';
import { createAccessKey } from '../../control/accounts.js';
import { runAudited } from '../../control/audit.js';
import { withSession, isoDate, type OperatorOptions } from '../../control/operator.js';
import { group } from '../group.js';
import { printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

interface CreateKeyOptions extends OperatorOptions {
  readOnly?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

function keyTable(keys: readonly Record<string, unknown>[]): void {
  printTable(
    ['ACCESS KEY', 'SCOPE', 'STATUS', 'CREATED'],
    keys.map((k) => [k['accessKeyId'], k['scope'], k['status'], k['createDate'] === 0 ? '-' : isoDate(k['createDate'])]),
  );
}

export function register(program: Command): void {
  const account = group(program, 'account', 'accounts, their SigV4 credentials and custom domains');
  const key = account
    .command('key')
    .description('access keys of an account: create (full or read-only), list, activate, deactivate, delete')
    .addHelpText(
      'after',
      examples(
        'certgate account key create --account 123456789012              # a second full-access key',
        'certgate account key create --account 123456789012 --read-only  # List*/Describe*/Get* only',
        'certgate account key list --account 123456789012',
        'certgate account key deactivate AKIAOLDKEY0000000001 --account 123456789012',
        'certgate account key delete AKIAOLDKEY0000000001 --account 123456789012',
      ) +
        '\nRotation: create a new key, move clients to it, deactivate the old key, then delete it.\nAn account always keeps one active full-access key.\n',
    );

  operatorOptions(
    key
      .command('create')
      .description(
        'add an access key to the account; always prints {accountId, accessKeyId, secretAccessKey, scope, status, createDate} as JSON (the secret is shown only here)',
      )
      .option('--read-only', 'the key may call List*, Describe* and Get* operations only')
      .option('--access-key-id <key>', 'access key id (generated when omitted)')
      .option('--secret-access-key <secret>', 'secret access key (generated when omitted)')
      .addHelpText(
        'after',
        examples(
          'certgate account key create --account 123456789012 --read-only',
          'CERTGATE_DB=/var/lib/certgate/registry.db certgate account key create',
        ),
      ),
    true,
    'json',
  ).action(
    action(async (options: CreateKeyOptions) => {
      await withSession(options, async (session) => {
        const accountId = await session.accountId();
        // Not session.call: only the operator may choose the id and secret (the API generates
        // them), so this runs createAccessKey itself, audited as the API's CreateAccessKey.
        const call = { accountId, accessKeyId: null, operation: 'CreateAccessKey', params: {}, requestId: null };
        const out = await runAudited(session.registry, call, async (audit) => ({
          accessKey: await createAccessKey(
            session.registry,
            accountId,
            {
              scope: options.readOnly ? 'READ_ONLY' : 'FULL',
              ...(options.accessKeyId !== undefined ? { accessKeyId: options.accessKeyId } : {}),
              ...(options.secretAccessKey !== undefined ? { secretAccessKey: options.secretAccessKey } : {}),
            },
            audit,
          ),
        }));
        printJson(out?.['accessKey']);
      });
    }),
  );

  operatorOptions(
    key
      .command('list')
      .description('list the access keys of the account (never their secrets)')
      .addHelpText('after', examples('certgate account key list --account 123456789012', 'certgate account key list --json')),
  ).action(
    action(async (options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const out = await session.call('ListAccessKeys');
        const keys = (out['accessKeys'] as Record<string, unknown>[] | undefined) ?? [];
        if (options.json) return printJson({ accountId: await session.accountId(), accessKeys: keys });
        keyTable(keys);
      });
    }),
  );

  for (const [name, status, help] of [
    ['activate', 'ACTIVE', 'let the key sign requests again'],
    ['deactivate', 'INACTIVE', 'refuse requests signed with the key (UnrecognizedClientException) until it is activated again'],
  ] as const) {
    operatorOptions(
      key
        .command(name)
        .description(help)
        .argument('<accessKeyId>', 'access key id')
        .addHelpText('after', examples(`certgate account key ${name} AKIAOLDKEY0000000001 --account 123456789012`)),
    ).action(
      action(async (accessKeyId: string, options: OperatorOptions) => {
        await withSession(options, async (session) => {
          const out = await session.call('UpdateAccessKey', { params: { accessKeyId }, body: { status } });
          const updated = out['accessKey'] as Record<string, unknown>;
          if (options.json) return printJson({ accountId: await session.accountId(), accessKey: updated });
          keyTable([updated]);
        });
      }),
    );
  }

  operatorOptions(
    key
      .command('delete')
      .description("delete the key for good (refused for the account's last active full-access key)")
      .argument('<accessKeyId>', 'access key id')
      .addHelpText('after', examples('certgate account key delete AKIAOLDKEY0000000001 --account 123456789012')),
  ).action(
    action(async (accessKeyId: string, options: OperatorOptions) => {
      await withSession(options, async (session) => {
        await session.call('DeleteAccessKey', { params: { accessKeyId } });
        if (options.json) printJson({ accountId: await session.accountId(), deleted: accessKeyId });
        else process.stdout.write(`deleted ${accessKeyId}\n`);
      });
    }),
  );
}
