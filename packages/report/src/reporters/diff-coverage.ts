import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { CoverageDocument } from '../model/document';
import { metric, type CoverageSummary } from '../model/summary';

export class DiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiffError';
  }
}

/** Lines added or changed since `rev`, per file relative to `root`, from `git diff -U0`. */
export function changedLines(root: string, rev: string): Map<string, Set<number>> {
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' });
  if (top.status !== 0) throw new DiffError(`--diff: ${root} is not in a git work tree`);
  const r = spawnSync('git', ['diff', '--no-color', '--no-ext-diff', '-U0', rev, '--', '.'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new DiffError(`--diff: git diff ${rev} failed: ${r.stderr.trim().split('\n')[0]}`);
  const gitRoot = top.stdout.trim();
  const out = new Map<string, Set<number>>();
  let current: Set<number> | undefined;
  for (const line of r.stdout.split('\n')) {
    const file = /^\+\+\+ (?:b\/(.*)|\/dev\/null)$/.exec(line);
    if (file) {
      current = undefined;
      if (file[1] !== undefined) {
        const rel = path.relative(root, path.join(gitRoot, file[1])).split(path.sep).join('/');
        out.set(rel, (current = new Set()));
      }
      continue;
    }
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk && current) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      for (let i = 0; i < count; i++) current.add(start + i);
    }
  }
  return out;
}

/**
 * Coverage of the changed lines only — the lines a reviewer cares about: statements and branch
 * arms on them, and functions declared on them.
 */
export function diffCoverage(merged: CoverageDocument, changed: Map<string, Set<number>>): CoverageSummary {
  const t = { lines: [0, 0], branches: [0, 0], functions: [0, 0] };
  for (const f of merged.files) {
    const lines = changed.get(f.path);
    if (!lines) continue;
    for (const l of f.lines) {
      if (!lines.has(l.line)) continue;
      t.lines[0]++;
      if (l.hits > 0) t.lines[1]++;
    }
    for (const b of f.branches) {
      if (!lines.has(b.line)) continue;
      t.branches[0] += 2;
      t.branches[1] += (b.taken > 0 ? 1 : 0) + (b.notTaken > 0 ? 1 : 0);
    }
    for (const fn of f.functions) {
      if (!lines.has(fn.line)) continue;
      t.functions[0]++;
      if (fn.hits > 0) t.functions[1]++;
    }
  }
  return {
    lines: metric(t.lines[0], t.lines[1]),
    branches: metric(t.branches[0], t.branches[1]),
    functions: metric(t.functions[0], t.functions[1]),
  };
}
