/**
 * An older revision of this tree, runnable in place for before/after benchmarks: its
 * `ts/` exported with `git archive` into a temp dir, with this tree's `node_modules`,
 * `build` and `dist` linked in (the same dependencies and engine builds on both sides).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../ts/paths.js';

export interface Revision {
  /** Root of the export (`<root>/ts/...`). */
  root: string;
  /** Short commit id. */
  commit: string;
  remove(): void;
}

export function exportRevision(revision: string): Revision {
  const root = mkdtempSync(path.join(tmpdir(), 'certgate-revision-'));
  execFileSync('sh', ['-c', 'git -C "$1" archive "$2" ts | tar -x -C "$3"', 'sh', projectRoot, revision, root]);
  for (const link of ['node_modules', 'build', 'dist']) symlinkSync(path.join(projectRoot, link), path.join(root, link));
  const commit = execFileSync('git', ['-C', projectRoot, 'rev-parse', '--short', revision]).toString().trim();
  return { root, commit, remove: () => rmSync(root, { recursive: true, force: true }) };
}
