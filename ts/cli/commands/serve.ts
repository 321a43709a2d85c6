/**
 * `certgate serve`: the registry's admin API, the authorizer's HTTP port and the Envoy
 * gRPC port. Every option also reads an environment variable (see `--help`).
 */
import { Option, type Command } from 'commander';
import { ConfigError, parseServeConfig, SERVE_OPTIONS, type ServeConfig } from '../../server/config.js';
import { serve } from '../../server/serve.js';
import { CliError, EXIT } from '../output.js';

/**
 * Turn commander's parsed options into a serve configuration. Commander names each value
 * after its flag (`--webhook` → `webhook`), which need not equal the configuration key
 * (`webhooks`), so every value is looked up by its option's attribute name.
 */
export function serveConfigFromOptions(options: Record<string, unknown>): ServeConfig {
  const raw: Record<string, unknown> = {};
  for (const spec of SERVE_OPTIONS) raw[spec.key] = options[new Option(spec.flag).attributeName()];
  try {
    return parseServeConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

export function register(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the admin API (default :9440), the authorizer over HTTP (:9441) and gRPC (:9442)');
  for (const spec of SERVE_OPTIONS) {
    // commander prints the environment variable itself.
    const option = new Option(spec.flag, spec.help).env(spec.env);
    if (spec.default !== undefined) option.default(spec.default);
    command.addOption(option);
  }
  command.addHelpText(
    'after',
    `
A non-loopback --host needs --admin-tls-cert and --admin-tls-key (or --danger-plain-admin).
A boolean flag's environment variable counts as set whatever its value.

Examples:
  certgate serve                                   # loopback, ./data/certgate.db, one process per core
  certgate serve --processes 1 --authz-port 0 --admin-port 0 --grpc-port 0
  certgate serve --metrics-port 9443               # scrapes off the decision path
  certgate serve --max-in-flight 32 --max-connections 512
  certgate serve --no-dashboard                    # no live page at http://127.0.0.1:9440/dashboard
  certgate serve --crl-refresh 3600                # fetch each CA's CRL from its distribution point hourly
  certgate serve --no-fast-path                    # same decisions without the warm-path memos (ts/fastpath/)
  certgate serve --processes 1 --log-format pretty --decision-log-sample 1   # every decision, readable
  certgate serve --master-key-file /etc/certgate/master.key
  certgate serve --host 0.0.0.0 --admin-tls-cert admin.pem --admin-tls-key admin.key \\
    --master-key-file /etc/certgate/master.key --db postgres://certgate@db/certgate
  CERTGATE_DB=/var/lib/certgate/registry.db CERTGATE_PROCESSES=2 certgate serve

Exit codes: 0 drained after SIGTERM/SIGINT, 2 bad flags, 3 start-up failed (busy port,
unreadable registry, ...), 4 taken down: 3 replacements of a dead server process failed.`,
  );
  command.action(async (options: Record<string, unknown>) => {
    await serve(serveConfigFromOptions(options));
  });
}
