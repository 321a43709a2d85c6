/**
 * `certgate cert ...`: device certificates (create, register, status, describe, list,
 * delete, transfer). `cert inspect` / `cert verify` live in the engine's command file.
 */
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { isoDate, readTextFile, withSession, type OperatorOptions } from '../../control/operator.js';
import { group } from '../group.js';
import { CliError, EXIT, printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

interface RegisterOptions extends OperatorOptions {
  caCert?: string;
  status?: string;
}

/** Create `dir` (owner-only) and prove it is writable, or fail before anything is issued. */
function prepareOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new CliError(`cannot write to --out-dir ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; nothing was created`);
  }
}

export function register(program: Command): void {
  const cert = group(program, 'cert', 'device certificates');

  operatorOptions(
    cert
      .command('create')
      .description('create an RSA key pair and a certificate signed by certgate (CreateKeysAndCertificate)')
      .option('--set-as-active', 'create as ACTIVE (default INACTIVE)')
      .option('--out-dir <dir>', 'write <id>.cert.pem, <id>.private.key, <id>.public.key there'),
  ).action(
    action(async (options: OperatorOptions & { setAsActive?: boolean; outDir?: string }) => {
      // Make sure the key can be written before a certificate exists: the private key is
      // returned once, and a registered certificate without it is useless.
      if (options.outDir) prepareOutDir(options.outDir);
      await withSession(options, async (session) => {
        const out = await session.call('CreateKeysAndCertificate', { query: { setAsActive: options.setAsActive ? 'true' : undefined } });
        const id = String(out['certificateId']);
        const keys = (out['keyPair'] ?? {}) as { PublicKey?: string; PrivateKey?: string };
        if (options.outDir) {
          writeFileSync(path.join(options.outDir, `${id}.cert.pem`), String(out['certificatePem']));
          writeFileSync(path.join(options.outDir, `${id}.private.key`), keys.PrivateKey ?? '', { mode: 0o600 });
          writeFileSync(path.join(options.outDir, `${id}.public.key`), keys.PublicKey ?? '');
        }
        if (options.json || !options.outDir) printJson(out);
        else process.stdout.write(`${id}\n`);
      });
    }),
  );

  operatorOptions(
    cert
      .command('create-from-csr')
      .description(
        'issue a certificate for a CSR (CreateCertificateFromCsr); prints the JSON answer, or with --out only the certificate id',
      )
      .argument('<csr.pem>', 'PKCS#10 request')
      .option('--set-as-active', 'create as ACTIVE (default INACTIVE)')
      .option('--out <file>', 'write the certificate PEM to this new file (refused if it exists)'),
  ).action(
    action(async (file: string, options: OperatorOptions & { setAsActive?: boolean; out?: string }) => {
      const csr = readTextFile(file, 'CSR');
      if (options.out !== undefined && existsSync(options.out))
        throw new CliError(`${options.out} already exists; not overwriting it`, EXIT.usage);
      await withSession(options, async (session) => {
        const out = await session.call('CreateCertificateFromCsr', {
          query: { setAsActive: options.setAsActive ? 'true' : undefined },
          body: { certificateSigningRequest: csr },
        });
        if (options.out !== undefined) writeFileSync(options.out, String(out['certificatePem']), { flag: 'wx' });
        if (options.json || options.out === undefined) printJson(out);
        else process.stdout.write(`${String(out['certificateId'])}\n`);
      });
    }),
  );

  for (const [name, operation, help] of [
    ['register', 'RegisterCertificate', 'register a certificate signed by a registered ACTIVE CA'],
    ['register-no-ca', 'RegisterCertificateWithoutCA', 'register a certificate without its CA (SNI_ONLY mode)'],
  ] as const) {
    const command = cert
      .command(name)
      .description(help)
      .argument('<cert.pem>', 'the device certificate')
      .option('--status <status>', 'ACTIVE, INACTIVE or REVOKED (default INACTIVE)');
    if (name === 'register')
      command.option('--ca-cert <file>', 'the issuing CA (needed when several registered CAs share its subject and key)');
    operatorOptions(command).action(
      action(async (file: string, options: RegisterOptions) => {
        await withSession(options, async (session) => {
          const out = await session.call(operation, {
            body: {
              certificatePem: readTextFile(file, 'certificate'),
              ...(options.status ? { status: options.status } : {}),
              ...(options.caCert ? { caCertificatePem: readTextFile(options.caCert, 'CA certificate') } : {}),
            },
          });
          if (options.json) printJson(out);
          else process.stdout.write(`${String(out['certificateId'])}\n`);
        });
      }),
    );
  }

  for (const [name, status] of [
    ['activate', 'ACTIVE'],
    ['deactivate', 'INACTIVE'],
    ['revoke', 'REVOKED'],
  ] as const) {
    operatorOptions(
      cert
        .command(name)
        .description(`set a certificate ${status}${status === 'REVOKED' ? ' (final)' : ''}`)
        .argument('<id>', 'certificate id'),
    ).action(
      action(async (id: string, options: OperatorOptions) => {
        await withSession(options, async (session) => {
          await session.call('UpdateCertificate', { params: { certificateId: id }, query: { newStatus: status } });
        });
      }),
    );
  }

  operatorOptions(cert.command('describe').description('describe a certificate').argument('<id>', 'certificate id')).action(
    action(async (id: string, options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const out = await session.call('DescribeCertificate', { params: { certificateId: id } });
        if (options.json) return printJson(out);
        const d = (out['certificateDescription'] ?? {}) as Record<string, unknown>;
        const validity = (d['validity'] ?? {}) as Record<string, unknown>;
        printTable(
          ['FIELD', 'VALUE'],
          [
            ['certificateId', d['certificateId']],
            ['status', d['status']],
            ['mode', d['certificateMode']],
            ['caCertificateId', d['caCertificateId']],
            ['ownedBy', d['ownedBy']],
            ['previousOwnedBy', d['previousOwnedBy']],
            ['created', isoDate(d['creationDate'])],
            ['lastModified', isoDate(d['lastModifiedDate'])],
            ['notBefore', isoDate(validity['notBefore'])],
            ['notAfter', isoDate(validity['notAfter'])],
          ],
        );
      });
    }),
  );

  operatorOptions(
    cert.command('list').description('list certificates, newest first').option('--ca <id>', 'only those registered under this CA'),
  ).action(
    action(async (options: OperatorOptions & { ca?: string }) => {
      await withSession(options, async (session) => {
        const all: Record<string, unknown>[] = [];
        let marker: string | undefined;
        do {
          const query = { pageSize: '250', marker };
          const page = options.ca
            ? await session.call('ListCertificatesByCA', { params: { caCertificateId: options.ca }, query })
            : await session.call('ListCertificates', { query });
          all.push(...((page['certificates'] as Record<string, unknown>[] | undefined) ?? []));
          marker = page['nextMarker'] as string | undefined;
        } while (marker);
        if (options.json) return printJson({ certificates: all });
        printTable(
          ['CERTIFICATE ID', 'STATUS', 'MODE', 'CREATED'],
          all.map((c) => [c['certificateId'], c['status'], c['certificateMode'], isoDate(c['creationDate'])]),
        );
      });
    }),
  );

  operatorOptions(
    cert
      .command('delete')
      .description('delete a certificate that is not ACTIVE')
      .argument('<id>', 'certificate id')
      .option('--force', 'also detach its policies'),
  ).action(
    action(async (id: string, options: OperatorOptions & { force?: boolean }) => {
      await withSession(options, async (session) => {
        await session.call('DeleteCertificate', {
          params: { certificateId: id },
          query: { forceDelete: options.force ? 'true' : undefined },
        });
      });
    }),
  );

  operatorOptions(
    cert
      .command('transfer')
      .description('offer an INACTIVE certificate to another account')
      .argument('<id>', 'certificate id')
      .requiredOption('--to <account>', 'target account id (required)')
      .option('--message <text>', 'transfer message'),
  ).action(
    action(async (id: string, options: OperatorOptions & { to: string; message?: string }) => {
      await withSession(options, async (session) => {
        const out = await session.call('TransferCertificate', {
          params: { certificateId: id },
          query: { targetAwsAccount: options.to },
          body: options.message !== undefined ? { transferMessage: options.message } : {},
        });
        if (options.json) printJson(out);
        else process.stdout.write(`${String(out['transferredCertificateArn'])}\n`);
      });
    }),
  );

  for (const [name, operation, help] of [
    ['accept-transfer', 'AcceptCertificateTransfer', 'accept a certificate offered to this account'],
    ['reject-transfer', 'RejectCertificateTransfer', 'reject a certificate offered to this account'],
    ['cancel-transfer', 'CancelCertificateTransfer', 'withdraw an offer made by this account'],
  ] as const) {
    const command = cert.command(name).description(help).argument('<id>', 'certificate id');
    if (name === 'accept-transfer') command.option('--set-as-active', 'accept as ACTIVE');
    if (name === 'reject-transfer') command.option('--reason <text>', 'reject reason');
    operatorOptions(command).action(
      action(async (id: string, options: OperatorOptions & { setAsActive?: boolean; reason?: string }) => {
        await withSession(options, async (session) => {
          await session.call(operation, {
            params: { certificateId: id },
            query: { setAsActive: options.setAsActive ? 'true' : undefined },
            body: options.reason !== undefined ? { rejectReason: options.reason } : {},
          });
        });
      }),
    );
  }
}
