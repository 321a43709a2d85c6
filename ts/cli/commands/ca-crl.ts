/**
 * `certgate ca crl put|show|delete` (branch crl): a registered CA's certificate
 * revocation list, through the same operations as `PUT|GET|DELETE /certgate/cas/{id}/crl`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AwsError } from '../../control/errors.js';
import { isoDate, withSession, type OperatorOptions } from '../../control/operator.js';
import { group } from '../group.js';
import { printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

function readCrlFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AwsError('InvalidRequestException', `Cannot read CRL file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const time = (v: unknown): unknown => (v === null ? '-' : isoDate(v));

function printCrl(options: OperatorOptions, out: Record<string, unknown>): void {
  if (options.json) return printJson(out);
  const crl = (out['crl'] ?? {}) as Record<string, unknown>;
  printTable(
    ['FIELD', 'VALUE'],
    [
      ['caCertificateId', crl['caCertificateId']],
      ['crlNumber', crl['crlNumber'] ?? '-'],
      ['thisUpdate', time(crl['thisUpdate'])],
      ['nextUpdate', time(crl['nextUpdate'])],
      ['entries', crl['entries']],
      ['source', crl['sourceUrl'] ? `${String(crl['source'])} ${String(crl['sourceUrl'])}` : crl['source']],
      ['crlId', crl['crlId']],
      ['updated', time(crl['updatedAt'])],
    ],
  );
}

const EXAMPLES = `
Examples:
  certgate ca crl put 4f9c…e1 ca.crl.pem        # PEM (an X509 CRL block, optionally the delegated signer's CERTIFICATE)
  certgate ca crl put 4f9c…e1 ca.crl            # DER
  certgate ca crl show 4f9c…e1 --json
  certgate ca crl delete 4f9c…e1

The CRL is verified by the engine (signed by the CA or a delegated CRL signer it issued,
cRLNumber not lower than the current one, nextUpdate not past) before it replaces the
current one; a refused CRL changes nothing (exit 3). See docs/api.md "CRLs".`;

export function register(program: Command): void {
  const ca = group(program, 'ca', 'CA certificates (RegisterCACertificate and friends)');
  const crl = group(ca, 'crl', "a CA's certificate revocation list (certgate's own; AWS IoT has none)");
  crl.addHelpText('after', EXAMPLES);

  operatorOptions(
    crl
      .command('put')
      .description("verify a CRL and make it the CA's current one")
      .argument('<ca-id>', 'CA certificate id')
      .argument('<file>', 'CRL file, PEM or DER'),
  )
    .addHelpText('after', EXAMPLES)
    .action(
      action(async (id: string, file: string, options: OperatorOptions) => {
        const raw = readCrlFile(file);
        await withSession(options, async (session) => {
          printCrl(options, await session.call('PutCaCrl', { params: { caCertificateId: id }, raw }));
        });
      }),
    );

  operatorOptions(
    crl
      .command('show')
      .description("the CA's current CRL: number, thisUpdate, nextUpdate, entries, source")
      .argument('<ca-id>', 'CA certificate id'),
  )
    .addHelpText('after', EXAMPLES)
    .action(
      action(async (id: string, options: OperatorOptions) => {
        await withSession(options, async (session) => {
          printCrl(options, await session.call('DescribeCaCrl', { params: { caCertificateId: id } }));
        });
      }),
    );

  operatorOptions(
    crl
      .command('delete')
      .description("remove the CA's CRL (its certificates are no longer checked against one)")
      .argument('<ca-id>', 'CA certificate id'),
  )
    .addHelpText('after', EXAMPLES)
    .action(
      action(async (id: string, options: OperatorOptions) => {
        await withSession(options, async (session) => {
          await session.call('DeleteCaCrl', { params: { caCertificateId: id } });
        });
      }),
    );
}
