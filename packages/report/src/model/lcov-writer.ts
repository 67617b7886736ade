import * as path from 'node:path';
import type { CoverageDocument, FileCoverageRecord } from './document';
import { summarizeFile } from './summary';

export interface LcovOptions {
  /** Directory that relative source paths are resolved against for `SF:` (genhtml reads the files). */
  root: string;
}

/** lcov test names may hold letters, digits and underscores only (geninfo's rule). */
export function lcovTestName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

function fileRecord(f: FileCoverageRecord, opts: LcovOptions): string {
  const out: string[] = [`SF:${path.resolve(opts.root, f.path)}`];
  for (const fn of f.functions) out.push(`FN:${fn.line},${fn.name}`);
  for (const fn of f.functions) out.push(`FNDA:${fn.hits},${fn.name}`);
  const s = summarizeFile(f);
  out.push(`FNF:${s.functions.total}`, `FNH:${s.functions.covered}`);
  const lineHits = new Map(f.lines.map((l) => [l.line, l.hits]));
  for (const b of f.branches) {
    // A branch on a line that never ran was never reached: lcov writes '-' for such arms.
    const reached = (lineHits.get(b.line) ?? 0) > 0 || b.taken + b.notTaken > 0;
    const arm = (n: number) => (reached ? String(n) : '-');
    out.push(`BRDA:${b.line},${b.index},0,${arm(b.taken)}`, `BRDA:${b.line},${b.index},1,${arm(b.notTaken)}`);
  }
  out.push(`BRF:${s.branches.total}`, `BRH:${s.branches.covered}`);
  for (const l of f.lines) out.push(`DA:${l.line},${l.hits}`);
  out.push(`LF:${s.lines.total}`, `LH:${s.lines.covered}`, 'end_of_record');
  return out.join('\n');
}

/**
 * Writes lcov tracefile text: one `TN:` block per test document (per-test attribution), files
 * in the order the documents list them (normalise first for deterministic output).
 */
export function writeLcov(docs: CoverageDocument[], opts: LcovOptions): string {
  const blocks: string[] = [];
  for (const doc of docs) {
    const tn = `TN:${doc.test === undefined ? '' : lcovTestName(doc.test)}`;
    for (const f of doc.files) blocks.push(`${tn}\n${fileRecord(f, opts)}`);
  }
  return blocks.length ? `${blocks.join('\n')}\n` : '';
}
