/**
 * `certgate ca import-issuing` and `certgate ca issuing`: bring your own issuing CA for
 * CreateKeysAndCertificate / CreateCertificateFromCsr (docs/api.md "Issuing CA"), for the
 * whole installation or one account. Operator-only: CA private keys never cross the
 * admin API.
 */
import { Option, type Command } from 'commander';
import { AwsError } from '../../control/errors.js';
import { checkIssuingCa } from '../../control/operations/issuing-ca.js';
import { isoDate, readTextFile, withSession, type OperatorSession } from '../../control/operator.js';
import type { IssuingCaRecord } from '../../registry/types.js';
import { group } from '../group.js';
import { printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

interface IssuingOptions {
  db?: string;
  engine?: string;
  json?: boolean;
  masterKeyFile?: string;
  cert?: string;
  key?: string;
  account?: string;
}

async function requireAccount(session: OperatorSession, accountId: string): Promise<void> {
  if (!(await session.registry.getAccount(accountId)))
    throw new AwsError('ResourceNotFoundException', `Account ${accountId} does not exist in this registry.`);
}

function describe(session: OperatorSession, record: IssuingCaRecord, scope: string): Record<string, unknown> {
  const info = session.plane.ctx.engine.inspect(Buffer.from(record.certificatePem, 'utf8'));
  if (!info.ok) throw new AwsError('InternalFailureException', `The stored issuing CA certificate does not parse: ${info.message}`);
  return {
    scope,
    certificateId: info.certificateId,
    subject: info.subject,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    certificatePem: record.certificatePem,
  };
}

function print(options: IssuingOptions, value: Record<string, unknown>): void {
  if (options.json) return printJson(value);
  printTable(
    ['FIELD', 'VALUE'],
    [
      ['SCOPE', value['scope']],
      ['CERTIFICATE ID', value['certificateId']],
      ['SUBJECT', value['subject']],
      ['NOT AFTER', isoDate(value['notAfter'])],
    ],
  );
}

const accountOption = () => new Option('--account <id>', 'only this account (default: the whole installation)');

export function register(program: Command): void {
  const ca = group(program, 'ca', 'CA certificates (RegisterCACertificate and friends)');

  operatorOptions(
    ca
      .command('import-issuing')
      .description("sign CreateKeysAndCertificate / CreateCertificateFromCsr with your own CA instead of certgate's")
      .requiredOption('--cert <file>', 'the CA certificate (PEM; basicConstraints CA, keyUsage keyCertSign)')
      .requiredOption('--key <file>', 'its private key (unencrypted PEM: PKCS#8, PKCS#1 or SEC1; RSA >= 2048 or EC P-256/384/521)')
      .addOption(accountOption())
      .addHelpText(
        'after',
        `
The key is checked against the certificate and a throwaway certificate is signed and
verified before anything is stored; it is stored encrypted when the registry has a
master key (--master-key-file). Importing again replaces the CA of that scope;
certificates already issued stay registered.

Examples:
  certgate ca import-issuing --cert issuing-ca.pem --key issuing-ca.key --master-key-file /etc/certgate/master.key
  certgate ca import-issuing --cert tenant-ca.pem --key tenant-ca.key --account 123456789012 --json`,
      ),
    false,
  ).action(
    action(async (options: IssuingOptions) => {
      await withSession(options, async (session) => {
        const accountId = options.account ?? null;
        if (accountId !== null) await requireAccount(session, accountId);
        const record = checkIssuingCa(
          session.plane.ctx,
          readTextFile(options.cert ?? '', 'issuing CA certificate'),
          readTextFile(options.key ?? '', 'issuing CA private key'),
        );
        await session.registry.importIssuingCa(record, accountId);
        const { certificatePem: _pem, ...shown } = describe(session, record, accountId === null ? 'installation' : `account ${accountId}`);
        print(options, shown);
      });
    }),
  );

  operatorOptions(
    ca
      .command('issuing')
      .description('show the CA that signs certificates issued by certgate (for an account: its own, else the installation’s)')
      .addOption(accountOption())
      .addHelpText(
        'after',
        `
Examples:
  certgate ca issuing
  certgate ca issuing --account 123456789012 --json    # includes certificatePem`,
      ),
    false,
  ).action(
    action(async (options: IssuingOptions) => {
      await withSession(options, async (session) => {
        if (options.account !== undefined) {
          await requireAccount(session, options.account);
          const own = await session.registry.getAccountIssuingCa(options.account);
          if (own) return print(options, describe(session, own, `account ${options.account}`));
        }
        const existing = await session.registry.getIssuingCa();
        // Showing it must not create certgate's own CA as a side effect of a read.
        if (existing === null) {
          if (options.json) return printJson({ scope: 'installation', certificateId: null });
          process.stdout.write('No issuing CA yet: certgate creates its own at the first issuance, unless one is imported.\n');
          return;
        }
        print(options, describe(session, existing, 'installation'));
      });
    }),
  );
}
