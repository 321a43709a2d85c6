/**
 * A real `certgate serve` process for tests: spawned from bin/certgate.js, its JSON log
 * lines collected, its stderr kept, its exit awaited with a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../ts/paths.js';
import { openSqliteRegistry } from '../../ts/registry/sqlite/registry.js';

export interface LogLine {
  msg?: string;
  authz?: string;
  grpc?: string;
  admin?: string;
  metrics?: string;
  workers?: number[];
  worker?: number;
  [key: string]: unknown;
}

export interface ServeProcess {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  /** The first log line matching `pred` (polls up to `ms`). */
  waitFor(pred: (l: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** Exit code (or signal name) within `ms`, else throws naming what was logged. */
  exited(ms: number): Promise<number | string>;
  kill(): void;
}

export function startServe(args: string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): ServeProcess {
  const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'certgate.js'), 'serve', ...args], {
    env: { ...process.env, ...env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let err = '';
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as LogLine);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    lines,
    stderr: () => err,
    async waitFor(pred, ms = 20_000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const hit = lines.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no such log line within ${ms} ms; got ${JSON.stringify(lines)} / stderr ${err}`);
    },
    async exited(ms) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${ms} ms; log ${JSON.stringify(lines)} / stderr ${err}`)), ms);
      });
      try {
        return await Promise.race([exit, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      // Workers the test saw, then the primary (workers also exit when it disconnects).
      const pids = lines.flatMap((l) => [...(l.workers ?? []), ...(l.worker === undefined ? [] : [l.worker])]);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Ports 0 everywhere: tests never use fixed ports. */
export const ANY_PORTS = ['--admin-port', '0', '--authz-port', '0', '--grpc-port', '0'];

/**
 * Create a registry file before several processes open it. (Two processes creating the
 * same new file at once can crash one with SIGBUS in the wal-index mapping; reported
 * separately, and exactly what the supervisor must report loudly, as it now does.)
 */
export async function createDatabase(db: string): Promise<void> {
  await openSqliteRegistry({ path: db }).close();
}
