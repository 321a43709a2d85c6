/**
 * `certgate authorize`: ask a running authorizer what it would answer for a certificate
 * and an SNI, through its JSON door (`POST /v1/authorize`). The operator's "would this
 * device get in?" and the README's first request.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CliError, EXIT, printJson, printTable } from '../output.js';

interface AuthorizeOptions {
  sni?: string;
  url: string;
  json?: boolean;
}

interface DecisionBody {
  allow?: boolean;
  reason?: string;
  certificateId?: string | null;
  accountId?: string | null;
  certificateMode?: string | null;
}

export function register(program: Command): void {
  program
    .command('authorize')
    .description('ask a running authorizer for a decision (exit 0 allow, 1 deny, 3 no answer)')
    .argument('<chain.pem...>', 'the leaf certificate, then any intermediates (PEM files)')
    .option('--sni <host>', 'server name the device would send (omit for a connection without SNI)')
    .addOption(new Option('--url <url>', 'authorizer HTTP base URL').env('CERTGATE_AUTHZ_URL').default('http://127.0.0.1:9441'))
    .option('--json', 'print the decision as JSON instead of a table')
    .action(async (files: string[], options: AuthorizeOptions) => {
      const certChain = files.map((f) => {
        try {
          return readFileSync(f, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      });
      const url = new URL('/v1/authorize', options.url);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sni: options.sni ?? null, certChain }),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? String(err);
        throw new CliError(`no answer from ${url.origin} (${cause}); is \`certgate serve\` running?`);
      }
      const body = (await response.json().catch(() => null)) as DecisionBody | null;
      if (body === null || typeof body.allow !== 'boolean') {
        throw new CliError(`unexpected answer from ${url.href}: HTTP ${response.status}`);
      }
      if (options.json) printJson(body);
      else {
        printTable(
          ['DECISION', 'REASON', 'ACCOUNT', 'MODE', 'CERTIFICATE ID'],
          [[body.allow ? 'ALLOW' : 'DENY', body.reason, body.accountId, body.certificateMode, body.certificateId]],
        );
      }
      process.exitCode = body.allow ? EXIT.ok : EXIT.negative;
    });
}
