/**
 * CPU time and memory of processes from /proc (Linux, proc(5)), for the benches' "CPU
 * per request" and RSS columns: a server's whole process tree (node:cluster workers, pool
 * threads included) and a load generator's, measured the same way on both sides.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
export const USER_HZ = 100;

/** Fields of /proc/<pid>/stat after the command name (state first, ppid second). */
export function procStat(pid: string | number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Fields of a /proc/<pid>/stat line (as text) after the command name. */
export function statFields(line: string): string[] {
  return line
    .slice(line.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

/** `root` and every live descendant's pid, root first. */
export function treePids(root: number): number[] {
  const byParent = new Map<string, string[]>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const parent = procStat(pid)[1] ?? '';
      byParent.set(parent, [...(byParent.get(parent) ?? []), pid]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const visit = (pid: string) => {
    out.push(Number(pid));
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(String(root));
  return out;
}

/** CPU seconds (user + system) of a process and all its live descendants. */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of treePids(root)) {
    try {
      const f = procStat(pid);
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / USER_HZ;
}

/** Resident memory of one process in MiB (VmRSS), or NaN once it has exited. */
export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The 1-minute load average. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
