import type { CoverageDocument, FileCoverageRecord } from './document';

/** `{total, covered, pct}` as istanbul computes it: pct floored to 2 decimals, 100 when total is 0. */
export interface Metric {
  total: number;
  covered: number;
  pct: number;
}

export interface CoverageSummary {
  lines: Metric;
  branches: Metric;
  functions: Metric;
}

export function metric(total: number, covered: number): Metric {
  const pct = total === 0 ? 100 : Math.floor((10000 * covered) / total) / 100;
  return { total, covered, pct };
}

/** Line, branch-arm and function totals of one file; a branch has two arms, each counted. */
export function summarizeFile(f: FileCoverageRecord): CoverageSummary {
  let arms = 0;
  for (const b of f.branches) arms += (b.taken > 0 ? 1 : 0) + (b.notTaken > 0 ? 1 : 0);
  return {
    lines: metric(f.lines.length, f.lines.filter((l) => l.hits > 0).length),
    branches: metric(2 * f.branches.length, arms),
    functions: metric(f.functions.length, f.functions.filter((fn) => fn.hits > 0).length),
  };
}

export function summarize(doc: CoverageDocument): CoverageSummary {
  const t = { lines: [0, 0], branches: [0, 0], functions: [0, 0] };
  for (const f of doc.files) {
    const s = summarizeFile(f);
    for (const k of ['lines', 'branches', 'functions'] as const) {
      t[k][0] += s[k].total;
      t[k][1] += s[k].covered;
    }
  }
  return {
    lines: metric(t.lines[0], t.lines[1]),
    branches: metric(t.branches[0], t.branches[1]),
    functions: metric(t.functions[0], t.functions[1]),
  };
}
