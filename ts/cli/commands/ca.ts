/** `certgate ca ...`: CA certificates and the registration code (same rules as the API). */
import type { Command } from 'commander';
import { isoDate, readTextFile, withSession, type OperatorOptions } from '../../control/operator.js';
import { group } from '../group.js';
import { printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

interface RegisterOptions extends OperatorOptions {
  verificationCert?: string;
  mode?: string;
  setAsActive?: boolean;
  allowAutoRegistration?: boolean;
}

function printRecord(options: OperatorOptions, value: Record<string, unknown>, columns: [string, string][]): void {
  if (options.json) return printJson(value);
  printTable(
    ['FIELD', 'VALUE'],
    columns.map(([label, key]) => [label, key.endsWith('Date') ? isoDate(value[key]) : value[key]]),
  );
}

export function register(program: Command): void {
  const ca = group(program, 'ca', 'CA certificates (RegisterCACertificate and friends)');

  operatorOptions(
    ca.command('registration-code').description('print the account registration code (the CN of a verification certificate)'),
  ).action(
    action(async (options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const out = await session.call('GetRegistrationCode');
        if (options.json) printJson(out);
        else process.stdout.write(`${String(out['registrationCode'])}\n`);
      });
    }),
  );

  operatorOptions(
    ca
      .command('register')
      .description('register a CA certificate (DEFAULT mode needs --verification-cert)')
      .argument('<ca-cert.pem>', 'the CA certificate')
      .option('--verification-cert <file>', 'certificate with CN = registration code, signed by the CA key')
      .option('--mode <mode>', 'DEFAULT or SNI_ONLY', 'DEFAULT')
      .option('--set-as-active', 'register as ACTIVE (default INACTIVE)')
      .option('--allow-auto-registration', 'enable just-in-time registration of certificates it signed'),
  ).action(
    action(async (file: string, options: RegisterOptions) => {
      await withSession(options, async (session) => {
        const out = await session.call('RegisterCACertificate', {
          query: {
            setAsActive: options.setAsActive ? 'true' : undefined,
            allowAutoRegistration: options.allowAutoRegistration ? 'true' : undefined,
          },
          body: {
            caCertificate: readTextFile(file, 'CA certificate'),
            ...(options.verificationCert
              ? { verificationCertificate: readTextFile(options.verificationCert, 'verification certificate') }
              : {}),
            certificateMode: options.mode,
          },
        });
        if (options.json) printJson(out);
        else process.stdout.write(`${String(out['certificateId'])}\n`);
      });
    }),
  );

  operatorOptions(ca.command('list').description('list CA certificates, newest first')).action(
    action(async (options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const all: Record<string, unknown>[] = [];
        let marker: string | undefined;
        do {
          const page = await session.call('ListCACertificates', { query: { pageSize: '250', marker } });
          all.push(...((page['certificates'] as Record<string, unknown>[] | undefined) ?? []));
          marker = page['nextMarker'] as string | undefined;
        } while (marker);
        if (options.json) return printJson({ certificates: all });
        printTable(
          ['CA CERTIFICATE ID', 'STATUS', 'CREATED'],
          all.map((c) => [c['certificateId'], c['status'], isoDate(c['creationDate'])]),
        );
      });
    }),
  );

  operatorOptions(ca.command('describe').description('describe a CA certificate').argument('<id>', 'CA certificate id')).action(
    action(async (id: string, options: OperatorOptions) => {
      await withSession(options, async (session) => {
        const out = await session.call('DescribeCACertificate', { params: { caCertificateId: id } });
        if (options.json) return printJson(out);
        const d = (out['certificateDescription'] ?? {}) as Record<string, unknown>;
        printRecord(options, d, [
          ['certificateId', 'certificateId'],
          ['status', 'status'],
          ['mode', 'certificateMode'],
          ['autoRegistration', 'autoRegistrationStatus'],
          ['ownedBy', 'ownedBy'],
          ['created', 'creationDate'],
          ['lastModified', 'lastModifiedDate'],
        ]);
      });
    }),
  );

  for (const [name, query, help] of [
    ['activate', { newStatus: 'ACTIVE' }, 'set a CA certificate ACTIVE'],
    ['deactivate', { newStatus: 'INACTIVE' }, 'set a CA certificate INACTIVE (registered device certificates keep working)'],
    ['enable-auto-registration', { newAutoRegistrationStatus: 'ENABLE' }, 'enable just-in-time registration'],
    ['disable-auto-registration', { newAutoRegistrationStatus: 'DISABLE' }, 'disable just-in-time registration'],
  ] as const) {
    operatorOptions(ca.command(name).description(help).argument('<id>', 'CA certificate id')).action(
      action(async (id: string, options: OperatorOptions) => {
        await withSession(options, async (session) => {
          await session.call('UpdateCACertificate', { params: { caCertificateId: id }, query });
        });
      }),
    );
  }

  operatorOptions(ca.command('delete').description('delete an INACTIVE CA certificate').argument('<id>', 'CA certificate id')).action(
    action(async (id: string, options: OperatorOptions) => {
      await withSession(options, async (session) => {
        await session.call('DeleteCACertificate', { params: { caCertificateId: id } });
      });
    }),
  );
}
