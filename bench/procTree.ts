/**
 * What a server process tree costs, read from /proc (proc(5)): CPU seconds (user +
 * system, in clock ticks of USER_HZ = 100) of a process and its descendants, and the
 * resident memory of each process.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Fields of /proc/<pid>/stat after the command name (state first, ppid second). */
function procStat(pid: string): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** `root` and every descendant's pid, root first. */
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

/** CPU seconds of `root` and its descendants. */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of treePids(root)) {
    try {
      const f = procStat(String(pid));
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
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
