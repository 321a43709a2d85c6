/** Output conventions shared by every command: JSON for scripts, tables for people. */

export const EXIT = {
  ok: 0,
  /** A negative answer: denied, not verified. */
  negative: 1,
  usage: 2,
  failed: 3,
  /** `certgate serve` took itself down: a dead server process could not be replaced. */
  serviceDown: 4,
} as const;

/** An error the CLI reports as one line on stderr with a specific exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Print a value as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Print rows as an aligned text table with a header line. */
export function printTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = [columns.map(String), ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells) {
    process.stdout.write(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`);
  }
}
