import type { Command } from 'commander';

/**
 * Find or create a command group such as `cert` or `ca`. Several modules add
 * subcommands to one group (`cert inspect` from the engine, `cert create` from the
 * registry), so none of them owns the group.
 */
export function group(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((c) => c.name() === name);
  if (existing) return existing;
  return program.command(name).description(description);
}
