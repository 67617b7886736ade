import type { CoverageDocument, FileCoverageRecord } from '../model/document';
import { mergeCoverage } from '../model/document';
import { summarizeFile, type CoverageSummary } from '../model/summary';

export interface BranchView {
  index: number;
  taken: number;
  notTaken: number;
}

export interface LineView {
  line: number;
  text: string;
  /** Undefined for lines that produce no code. */
  hits?: number;
  instructions?: number;
  branches: BranchView[];
  functions: string[];
  tests: string[];
}

export interface FileView {
  path: string;
  /** Relative URL of the file's page from the site root. */
  href: string;
  summary: CoverageSummary;
  lines: LineView[];
  functions: Array<{ name: string; line: number; hits: number }>;
  sourceMissing: boolean;
}

/** Where the file's page goes: mirrors the source tree under `files/`, `.html` appended. */
export function pageHref(sourcePath: string): string {
  const safe = sourcePath
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => (part === '..' ? '__' : part))
    .join('/');
  return `files/${safe}.html`;
}

/**
 * The view of one file: every source line with its counts, branch arms, functions and the
 * tests (documents with a `test` name) that ran it.
 */
export function buildFileView(
  merged: FileCoverageRecord,
  perTest: CoverageDocument[],
  source: string | undefined,
): FileView {
  const text = source === undefined ? [] : source.replace(/\r\n/g, '\n').split('\n');
  if (text.length && text[text.length - 1] === '') text.pop();
  const maxLine = Math.max(
    text.length,
    ...merged.lines.map((l) => l.line),
    ...merged.branches.map((b) => b.line),
  );
  const rows: LineView[] = Array.from({ length: maxLine }, (_, i) => ({
    line: i + 1,
    text: text[i] ?? '',
    branches: [],
    functions: [],
    tests: [],
  }));
  for (const l of merged.lines) {
    rows[l.line - 1].hits = l.hits;
    rows[l.line - 1].instructions = l.instructions;
  }
  for (const b of merged.branches)
    rows[b.line - 1].branches.push({ index: b.index, taken: b.taken, notTaken: b.notTaken });
  for (const f of merged.functions) if (f.line >= 1) rows[f.line - 1].functions.push(f.name);
  for (const doc of perTest) {
    if (doc.test === undefined) continue;
    const f = doc.files.find((x) => x.path === merged.path);
    for (const l of f?.lines ?? []) if (l.hits > 0) rows[l.line - 1].tests.push(doc.test);
  }
  return {
    path: merged.path,
    href: pageHref(merged.path),
    summary: summarizeFile(merged),
    lines: rows,
    functions: merged.functions,
    sourceMissing: source === undefined,
  };
}

export function mergedOf(perTest: CoverageDocument[]): CoverageDocument {
  return mergeCoverage(perTest);
}
