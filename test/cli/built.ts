/**
 * Run the built CLI (`bin/certgate.js`, from dist/) as a user runs it: a child process,
 * its exit code (99 when it was killed or timed out), stdout and stderr.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../ts/paths.js';
import type { CliRun } from './inProcess.js';

export const CLI = path.join(projectRoot, 'bin', 'certgate.js');

export function runBuiltCli(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 99, stdout, stderr });
    });
  });
}
