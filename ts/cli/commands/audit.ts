/**
 * `certgate audit list` (branch keys): an account's audit log of admin writes, through
 * the admin API's ListAuditEvents. Rows never carry secrets.
 */
import type { Command } from 'commander';
import { withSession, isoDate, type OperatorOptions } from '../../control/operator.js';
import { group } from '../group.js';
import { printJson, printTable } from '../output.js';
import { action, operatorOptions } from './registry-options.js';

interface AuditListOptions extends OperatorOptions {
  after?: string;
  max?: string;
}

export function register(program: Command): void {
  const audit = group(program, 'audit', 'the audit log of admin writes (who, what, when, result)');
  operatorOptions(
    audit
      .command('list')
      .description(
        "list the account's audit rows, oldest first: sequence, time, access key (- = operator CLI), operation, resource, result",
      )
      .option('--after <sequence>', 'only rows after this sequence (the nextSequence of the previous page)', '0')
      .option('--max <n>', 'at most this many rows (1..1000)', '100')
      .addHelpText(
        'after',
        [
          '',
          'Examples:',
          '  $ certgate audit list --account 123456789012',
          '  $ certgate audit list --account 123456789012 --after 200 --max 50',
          '  $ certgate audit list --account 123456789012 --json | jq -r \'.auditEvents[] | select(.result != "OK")\'',
          '',
        ].join('\n'),
      ),
  ).action(
    action(async (options: AuditListOptions) => {
      await withSession(options, async (session) => {
        const out = await session.call('ListAuditEvents', { query: { afterSequence: options.after, maxResults: options.max } });
        const rows = (out['auditEvents'] as Record<string, unknown>[] | undefined) ?? [];
        if (options.json) return printJson({ accountId: await session.accountId(), ...out });
        printTable(
          ['SEQ', 'TIME', 'ACCESS KEY', 'OPERATION', 'RESOURCE', 'RESULT'],
          rows.map((r) => [r['sequence'], isoDate(r['time']), r['accessKeyId'] ?? '-', r['operation'], r['resource'] ?? '-', r['result']]),
        );
        if (rows.length > 0) process.stderr.write(`next page: --after ${String(out['nextSequence'])}\n`);
      });
    }),
  );
}
