/**
 * `certgate serve`: the registry's admin API, the authorizer's HTTP port and the Envoy
 * gRPC port. Every option also reads an environment variable (see `--help`).
 */
import { Option, type Command } from 'commander';
import { ConfigError, parseServeConfig, SERVE_OPTIONS } from '../../server/config.js';
import { serve } from '../../server/serve.js';
import { CliError, EXIT } from '../output.js';

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
  command.action(async (options: Record<string, unknown>) => {
    let config;
    try {
      config = parseServeConfig(options);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
      throw err;
    }
    await serve(config);
  });
}
