import type { CoverageDocument, FileCoverageRecord } from '../model/document';
import { mergeCoverage } from '../model/document';
import { summarizeFile, type CoverageSummary } from '../model/summary';
import type { ExpandedLine } from '../mapping/expansions';

export interface BranchView {
  index: number;
  taken: number;
  notTaken: number;
}

/** One line of a macro expansion in the drill-down of the line that invoked the macro. */
export interface ExpandedLineView {
  /** The macro body's file and line the text comes from. */
  file: string;
  line: number;
  text: string;
  hits: number;
  instructions: number;
  branches: BranchView[];
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
  /** For a line that invokes a macro: each code-producing line of its expansion. */
  expansion?: ExpandedLineView[];
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
  expansions?: ReadonlyMap<number, ExpandedLine[]>,
): FileView {
  const text = source === undefined ? [] : source.replace(/\r\n/g, '\n').split('\n');
  if (text.length && text[text.length - 1] === '') text.pop();
  // A loop, not Math.max(...spread): a kernel file can have more lines than call arguments allowed.
  let maxLine = text.length;
  for (const l of merged.lines) maxLine = Math.max(maxLine, l.line);
  for (const b of merged.branches) maxLine = Math.max(maxLine, b.line);
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
  for (const [line, expanded] of expansions ?? []) {
    // An expansion only annotates a statement the coverage model has (filters apply to both).
    if (rows[line - 1]?.hits !== undefined) rows[line - 1].expansion = expanded.map(expandedView);
  }
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

function expandedView(e: ExpandedLine): ExpandedLineView {
  return {
    file: e.file,
    line: e.line,
    text: e.text,
    hits: e.hits,
    instructions: e.instructions,
    branches: e.branches.map((b, index) => ({ index, taken: b.taken, notTaken: b.notTaken })),
  };
}

export function mergedOf(perTest: CoverageDocument[]): CoverageDocument {
  return mergeCoverage(perTest);
}
