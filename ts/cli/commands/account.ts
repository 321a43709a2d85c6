/**
 * `certgate account ...`: operator bootstrap of accounts, credentials and custom domains.
 * `account create` always prints JSON (scripts capture the generated secret from it).
 */
import type { Command } from 'commander';
import { checkCredential, createAccount, generateCredential } from '../../control/accounts.js';
import { AwsError } from '../../control/errors.js';
import { auditedOperatorWrite } from '../../control/audit.js';
import { domainName } from '../../control/operations/domains.js';
import { endpointAddress } from '../../control/operations/endpoint.js';
import { withSession, isoDate, type OperatorOptions } from '../../control/operator.js';
import { group } from '../group.js';
import { printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

interface CreateOptions extends OperatorOptions {
  accountId?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function register(program: Command): void {
  const account = group(program, 'account', 'accounts, their SigV4 credentials and custom domains');

  operatorOptions(
    account
      .command('create')
      .description(
        'create an account with one credential; always prints {accountId, endpointPrefix, accessKeyId, secretAccessKey, endpoint, region} as JSON (the secret is shown only here)',
      )
      .option('--account-id <id>', '12-digit account id (generated when omitted)')
      .option('--access-key-id <key>', 'access key id (generated when omitted)')
      .option('--secret-access-key <secret>', 'secret access key (generated when omitted)')
      .option('--region <region>', 'region of a newly created database [env CERTGATE_REGION, default us-east-1]')
      .option(
        '--endpoint-domain <domain>',
        'endpoint DNS suffix of a newly created database [env CERTGATE_ENDPOINT_DOMAIN, default localhost]',
      ),
    false,
    'json',
  ).action(
    action(async (options: CreateOptions) => {
      if (options.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) {
        throw new AwsError('InvalidRequestException', `${options.region} is not a region name like us-east-1.`);
      }
      if (options.endpointDomain !== undefined) options.endpointDomain = domainName(options.endpointDomain);
      await withSession({ ...options, createRegistry: true }, async (session) => {
        const created = await createAccount(session.registry, {
          ...(options.accountId !== undefined ? { accountId: options.accountId } : {}),
          ...(options.accessKeyId !== undefined ? { accessKeyId: options.accessKeyId } : {}),
          ...(options.secretAccessKey !== undefined ? { secretAccessKey: options.secretAccessKey } : {}),
        });
        // The account exists only now, so only its creation (not a refusal) can be filed under it.
        await auditedOperatorWrite(session.registry, created.accountId, 'CreateAccount', {}, async () => ({
          accessKey: { accessKeyId: created.accessKeyId },
        }));
        const stored = await session.registry.getAccount(created.accountId);
        const endpoint = stored ? endpointAddress(session.plane.ctx, stored, 'iot:Data-ATS') : null;
        printJson({ ...created, endpoint, region: session.plane.ctx.settings.region });
      });
    }),
  );

  operatorOptions(account.command('list').description('list accounts with their endpoints and access key ids'), false).action(
    action(async (options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const rows = [];
        for (const a of await session.registry.listAccounts()) {
          const keys = (await session.registry.listCredentials(a.accountId)).map((c) => c.accessKeyId);
          const domains = await session.registry.listDomains(a.accountId);
          rows.push({
            accountId: a.accountId,
            endpointPrefix: a.endpointPrefix,
            endpoint: endpointAddress(session.plane.ctx, a, 'iot:Data-ATS'),
            accessKeyIds: keys,
            domains,
            createdAt: a.createdAt,
          });
        }
        if (options.json) return printJson({ accounts: rows });
        printTable(
          ['ACCOUNT', 'ENDPOINT', 'ACCESS KEYS', 'DOMAINS', 'CREATED'],
          rows.map((r) => [r.accountId, r.endpoint, r.accessKeyIds.join(','), r.domains.join(',') || '-', isoDate(r.createdAt)]),
        );
      });
    }),
  );

  operatorOptions(
    account
      .command('add-credential')
      .description('add a SigV4 credential to an account; prints it as JSON')
      .option('--access-key-id <key>', 'access key id (generated when omitted)')
      .option('--secret-access-key <secret>', 'secret access key (generated when omitted)'),
  ).action(
    action(async (options: CreateOptions & OperatorOptions) => {
      await withSession(options, async (session) => {
        const accountId = await session.accountId();
        if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
          throw new AwsError('InvalidRequestException', 'Give both --access-key-id and --secret-access-key, or neither.');
        }
        const credential =
          options.accessKeyId !== undefined && options.secretAccessKey !== undefined
            ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
            : generateCredential();
        checkCredential(credential.accessKeyId, credential.secretAccessKey);
        await auditedOperatorWrite(session.registry, accountId, 'CreateAccessKey', {}, async (audit) => {
          await session.registry.addCredential({ accountId, ...credential }, audit?.take(`accessKeyId=${credential.accessKeyId}`));
          return { accessKey: { accessKeyId: credential.accessKeyId } };
        });
        printJson({ accountId, ...credential });
      });
    }),
  );

  operatorOptions(
    account
      .command('add-domain')
      .description(
        'route TLS connections whose SNI is <domain> to the account (names under the endpoint namespace iot.<region>.<endpoint-domain> are refused)',
      )
      .argument('<domain>', 'DNS name'),
  ).action(
    action(async (domain: string, options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const accountId = await session.accountId();
        const name = domainName(domain);
        await auditedOperatorWrite(session.registry, accountId, 'AddDomain', { domainName: name }, async () => {
          await session.registry.addDomain(accountId, name);
          return undefined;
        });
        if (options.json) printJson({ accountId, domainName: name });
        else process.stdout.write(`${name} -> account ${accountId}\n`);
      });
    }),
  );

  operatorOptions(
    account
      .command('settings')
      .description("show the account's authorizer settings, or change them with a flag")
      .option(
        '--bind-client-id-to-thing <on|off>',
        'on: a device may connect only with a client id equal to a thing attached to its certificate (AWS iot:Connection.Thing.IsAttached); default off',
      )
      .addHelpText('after', '\nExamples:\n  certgate account settings --bind-client-id-to-thing on\n  certgate account settings --json'),
  ).action(
    action(async (options: OperatorOptions & { bindClientIdToThing?: string }) => {
      const flag = options.bindClientIdToThing;
      if (flag !== undefined && flag !== 'on' && flag !== 'off') {
        process.stderr.write(`error: --bind-client-id-to-thing takes on or off, not ${JSON.stringify(flag)}\n`);
        process.exitCode = 2;
        return;
      }
      await withSession(options, async (session) => {
        const settings =
          flag === undefined
            ? await session.call('GetAccountSettings')
            : await session.call('UpdateAccountSettings', { body: { bindClientIdToThing: flag === 'on' } });
        const accountId = await session.accountId();
        if (options.json) return printJson({ accountId, ...settings });
        printTable(['ACCOUNT', 'BIND CLIENT ID TO THING'], [[accountId, settings['bindClientIdToThing'] === true ? 'on' : 'off']]);
      });
    }),
  );

  operatorOptions(
    account.command('remove-domain').description('stop routing <domain> to the account').argument('<domain>', 'DNS name'),
  ).action(
    action(async (domain: string, options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const accountId = await session.accountId();
        const name = domainName(domain);
        await auditedOperatorWrite(session.registry, accountId, 'RemoveDomain', { domainName: name }, async () => {
          await session.registry.removeDomain(accountId, name);
          return undefined;
        });
      });
    }),
  );
}
