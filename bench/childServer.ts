/**
 * A server the benches run as a child process (`certgate serve`, a baseline of
 * bench/authzBaselines.ts): spawned with its stdout piped, ready when one of its JSON log
 * lines says so, and killed with the others if a run fails half way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { serverV8Flags } from '../ts/server/v8Flags.js';

export interface ChildServer {
  child: ChildProcess;
  /** The log line that said it was ready (its ports). */
  line: Record<string, unknown>;
}

/** Every child still running (servers, and whatever else a bench adds), for {@link killChildren}. */
export const children = new Set<ChildProcess>();

/** What a bench's `certgate serve` differs in; everything else is {@link serveArgs}'s. */
export interface ServeArgs {
  db: string;
  /** `--engine`; absent: the server's default. */
  engine?: string;
  /** `--processes` (default 2). */
  processes?: number;
  /** `--shed-after-ms`; absent: the server's default. */
  shedAfterMs?: number;
  /** `--deadline-ms`; absent: the server's default. */
  deadlineMs?: number;
  /** More arguments, last (so they win over the ones above). */
  extra?: readonly string[];
}

/**
 * The arguments after `bin/certgate.js` of a bench's `certgate serve`: the registry at
 * `db`, every port 0 (read back from its "listening" line), no sampled allows in the
 * decision log (a log line per decision would be part of what is measured).
 */
export function serveArgs(o: ServeArgs): string[] {
  return [
    'serve',
    '--db',
    o.db,
    ...(o.engine === undefined ? [] : ['--engine', o.engine]),
    '--processes',
    String(o.processes ?? 2),
    ...['--admin-port', '--authz-port', '--grpc-port'].flatMap((port) => [port, '0']),
    '--decision-log-sample',
    '0',
    ...(o.shedAfterMs === undefined ? [] : ['--shed-after-ms', String(o.shedAfterMs)]),
    ...(o.deadlineMs === undefined ? [] : ['--deadline-ms', String(o.deadlineMs)]),
    ...(o.extra ?? []),
  ];
}

/**
 * Node flags of the baseline servers (floor, bare, naive; inherited by their cluster
 * workers): by default the V8 flags certgate gives its own native server processes
 * (ts/server/v8Flags.ts serverV8Flags), so a ratio measures certgate's work, not a flag;
 * `BENCH_BASELINE_NODE_FLAGS` (space-separated; `none` for none) replaces them.
 */
export function baselineNodeFlags(): string[] {
  const env = process.env.BENCH_BASELINE_NODE_FLAGS;
  return env === undefined ? serverV8Flags('native', {}) : env.split(' ').filter((f) => f !== '' && f !== 'none');
}

/** `BENCH_CERTGATE_ARGS`: extra `certgate serve` arguments, space-separated (e.g. `--no-fast-path`). */
export const envServeArgs = (): string[] => (process.env.BENCH_CERTGATE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** The ready line of `certgate serve`. */
export const listening = (line: Record<string, unknown>): boolean => line.msg === 'listening';

/** Spawn `command args` and resolve once a JSON line of its stdout passes `ready`; reject if it exits first. */
export function startChild(
  command: string,
  args: string[],
  ready: (line: Record<string, unknown>) => boolean,
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ChildServer> {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    // Only the unfinished last line is kept: a server that logs a line per shed decision
    // writes megabytes, which must be drained (a full pipe stalls it) but not parsed again.
    let partial = '';
    let found = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (found) return;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines) {
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (ready(line)) {
          found = true;
          return resolve({ child, line });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)));
  });
}

/** SIGTERM, and wait for the exit. */
export async function stopChild(server: { child: ChildProcess }): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

/** SIGKILL every child still running (a run that failed half way). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}
