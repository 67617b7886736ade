import type { CoverageSummary } from '../model/summary';

export interface Thresholds {
  lines?: number;
  branches?: number;
  functions?: number;
}

/** One message per metric below its threshold, e.g. `branches coverage 41.5% is below the threshold 60%`. */
export function checkThresholds(summary: CoverageSummary, t: Thresholds, what = 'coverage'): string[] {
  const out: string[] = [];
  for (const k of ['lines', 'branches', 'functions'] as const) {
    const min = t[k];
    if (min !== undefined && summary[k].pct < min) {
      out.push(`${k} ${what} ${summary[k].pct}% is below the threshold ${min}%`);
    }
  }
  return out;
}
