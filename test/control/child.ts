/** Admin servers in child processes (`admin-child.ts` under vite-node), for multi-process and crash tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../ts/paths.js';

const VITE_NODE = path.join(projectRoot, 'node_modules', '.bin', 'vite-node');
const CHILD = path.join(projectRoot, 'test', 'control', 'admin-child.ts');

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** SIGKILL the process and wait for it to exit. */
  stop(): Promise<void>;
}

/** Start an admin server over `dbPath` in a child process; resolves once it listens. */
export function startChild(dbPath: string): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(VITE_NODE, [CHILD, '--', dbPath], { stdio: ['ignore', 'pipe', 'pipe'], cwd: projectRoot });
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) {
        resolve({
          child,
          url: `http://127.0.0.1:${match[1]}`,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`admin child exited (${code}) before listening: ${err}`)));
  });
}
