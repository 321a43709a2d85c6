/**
 * Where a server's CPU goes by binary, from Linux `perf` (BENCH_PERF in bench/fleetTraffic.ts):
 * `perf record` samples every thread of the server's process tree while a run lasts, and
 * `perf report --sort dso` splits the samples between the engine's addon, node itself
 * (V8: interpreter, GC, builtins, JSON; libuv; llhttp), code V8 compiled at run time
 * ("JIT"), the kernel (system calls, the loopback TCP path), libc, SQLite and the rest.
 * Unlike V8's CPU profiler this sees native code as it is, and costs the same per sample
 * in every contender, so two servers' columns compare; the sampling itself inflated the
 * runs' CPU by 7–15 % (bench/README.md, "Where the CPU goes, by binary"), so the bench
 * reports each share of the CPU it measured in the same run. Needs `perf` (Debian
 * `linux-perf`, not installed by scripts/setup.sh) and permission to attach (root here).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { treePids } from './procCpu.js';

/** Share of the samples per binary, e.g. `{ node: 0.27, JIT: 0.07, ... }` (0..1). */
export type DsoShares = Map<string, number>;

/** Run `run` while `perf record` samples the process tree of `root`; the shares per binary. */
export async function perfRecorded<T>(
  dir: string,
  name: string,
  root: number,
  run: () => Promise<T>,
): Promise<{ result: T; shares: DsoShares }> {
  if (spawnSync('perf', ['--version']).error !== undefined) throw new Error('BENCH_PERF needs perf: apt-get install linux-perf');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '_')}.data`);
  const pids = treePids(root).join(',');
  const perf = spawn('perf', ['record', '-F', '999', '-g', '-p', pids, '-o', file], { stdio: 'ignore' });
  // perf needs a moment to attach to every thread before the run starts.
  await new Promise((r) => setTimeout(r, 500));
  const result = await run();
  const exited = new Promise((r) => perf.once('exit', r));
  perf.kill('SIGINT');
  await exited;
  return { result, shares: dsoShares(file) };
}

/** `perf report --sort dso` of a recording: the share of samples per binary. */
export function dsoShares(file: string): DsoShares {
  const r = spawnSync('perf', ['report', '-i', file, '--no-children', '--sort', 'dso', '--stdio', '-g', 'none'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`perf report failed: ${r.stderr}`);
  const shares: DsoShares = new Map();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+([\d.]+)%\s+(.+?)\s*$/.exec(line);
    if (m === null) continue;
    const dso = group(m[2] as string);
    shares.set(dso, (shares.get(dso) ?? 0) + Number(m[1]) / 100);
  }
  return shares;
}

/** The binaries, named for a reader (each JIT thread's map is one "JIT"). */
function group(dso: string): string {
  if (dso.startsWith('[JIT]')) return 'JIT';
  if (dso.startsWith('certgate.')) return 'engine';
  if (dso === '[kernel.kallsyms]') return 'kernel';
  if (dso.startsWith('better_sqlite3')) return 'sqlite';
  if (dso.startsWith('libc.')) return 'libc';
  if (dso === 'node') return 'node';
  return 'other';
}

/** The columns, in the order printed. */
export const DSO_COLUMNS = ['engine', 'node', 'JIT', 'kernel', 'libc', 'sqlite', 'other'] as const;

/** One markdown row: each binary's share of `serverUs` (µs per request). */
export function dsoRow(label: string, shares: DsoShares, serverUs: number): string {
  return `| ${label} | ${serverUs.toFixed(1)} | ${DSO_COLUMNS.map((c) => ((shares.get(c) ?? 0) * serverUs).toFixed(1)).join(' | ')} |`;
}

export const DSO_HEADER = `| server | CPU/req (µs, under perf) | ${DSO_COLUMNS.join(' | ')} |\n|${' --- |'.repeat(DSO_COLUMNS.length + 2)}`;
