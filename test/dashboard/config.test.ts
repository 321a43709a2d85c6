/**
 * `--no-dashboard` and `CERTGATE_NO_DASHBOARD` through the real CLI parser; on by default.
 */
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { register, serveConfigFromOptions } from '../../ts/cli/commands/serve.js';

async function dashboardOf(argv: string[]): Promise<boolean> {
  const program = new Command().exitOverride();
  register(program);
  let on: boolean | undefined;
  program.commands[0]?.action((options: Record<string, unknown>) => {
    on = serveConfigFromOptions(options).dashboard;
  });
  await program.parseAsync(['node', 'certgate', 'serve', ...argv]);
  if (on === undefined) throw new Error('serve did not run');
  return on;
}

describe('the dashboard switch', () => {
  afterEach(() => {
    delete process.env.CERTGATE_NO_DASHBOARD;
  });
  it('is on by default, off with --no-dashboard or CERTGATE_NO_DASHBOARD', async () => {
    expect(await dashboardOf([])).toBe(true);
    expect(await dashboardOf(['--no-dashboard'])).toBe(false);
    process.env.CERTGATE_NO_DASHBOARD = '1';
    expect(await dashboardOf([])).toBe(false);
  });
});
