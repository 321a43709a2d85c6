/**
 * A server the benches run as a child process (`certgate serve`, a baseline of
 * bench/authzBaselines.ts): spawned with its stdout piped, ready when one of its JSON log
 * lines says so, and killed with the others if a run fails half way.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildServer {
  child: ChildProcess;
  /** The log line that said it was ready (its ports). */
  line: Record<string, unknown>;
}

/** Every child still running (servers, and whatever else a bench adds), for {@link killChildren}. */
export const children = new Set<ChildProcess>();

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
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const text of out.split('\n')) {
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (ready(line)) return resolve({ child, line });
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
