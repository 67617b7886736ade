/**
 * fasmcov's coverage document (`fasmcov-coverage@1`): the counts of one test run, or of several
 * runs merged, per source file. It is the one format every trace kind (probes, edges, PT, UMKa
 * files) is turned into, and the one every reporter reads. Plain JSON; summaries are derived.
 */
export const COVERAGE_SCHEMA = 'fasmcov-coverage@1';

export interface LineCoverage {
  /** 1-based source line (for code from a macro: the line that invoked the macro). */
  line: number;
  /** Times the line's first instruction ran. */
  hits: number;
  /** Instructions executed on this line (the profile column). */
  instructions: number;
}

export interface BranchCoverage {
  line: number;
  /** Several conditional jumps can stand on one line (macro expansions): index among them. */
  index: number;
  taken: number;
  notTaken: number;
}

export interface FunctionCoverage {
  name: string;
  line: number;
  hits: number;
}

export interface FileCoverageRecord {
  /** Source path as the report shows it (relative to the project root where possible). */
  path: string;
  lines: LineCoverage[];
  branches: BranchCoverage[];
  functions: FunctionCoverage[];
}

export interface CoverageDocument {
  schema: typeof COVERAGE_SCHEMA;
  /** Name of the test (script) these counts come from; merged documents name none. */
  test?: string;
  files: FileCoverageRecord[];
}

export class CoverageFormatError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'CoverageFormatError';
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Checks a parsed JSON value field by field; `file` names the source in errors. */
export function validateCoverage(value: unknown, file: string): CoverageDocument {
  const fail = (d: string): never => {
    throw new CoverageFormatError(file, d);
  };
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const doc = value as Record<string, unknown>;
  if (doc.schema !== COVERAGE_SCHEMA)
    return fail(`schema is ${JSON.stringify(doc.schema)}, expected ${COVERAGE_SCHEMA}`);
  if (doc.test !== undefined && typeof doc.test !== 'string') fail('test is not a string');
  if (!Array.isArray(doc.files)) return fail('files is not an array');
  doc.files.forEach((f: unknown, i: number) => {
    const at = `files[${i}]`;
    if (typeof f !== 'object' || f === null) return fail(`${at} is not an object`);
    const r = f as Record<string, unknown>;
    if (typeof r.path !== 'string' || !r.path) fail(`${at}.path is not a non-empty string`);
    for (const key of ['lines', 'branches', 'functions'] as const) {
      if (!Array.isArray(r[key])) fail(`${at}.${key} is not an array`);
    }
    (r.lines as unknown[]).forEach((l, j) => {
      const x = l as Record<string, unknown>;
      if (!isCount(x?.line) || x.line === 0 || !isCount(x.hits) || !isCount(x.instructions)) {
        fail(`${at}.lines[${j}] needs line ≥ 1, hits and instructions as counts`);
      }
    });
    (r.branches as unknown[]).forEach((b, j) => {
      const x = b as Record<string, unknown>;
      if (!isCount(x?.line) || !isCount(x.index) || !isCount(x.taken) || !isCount(x.notTaken)) {
        fail(`${at}.branches[${j}] needs line, index, taken and notTaken as counts`);
      }
    });
    (r.functions as unknown[]).forEach((fn, j) => {
      const x = fn as Record<string, unknown>;
      if (typeof x?.name !== 'string' || !isCount(x.line) || !isCount(x.hits)) {
        fail(`${at}.functions[${j}] needs name, line and hits`);
      }
    });
  });
  return value as CoverageDocument;
}

const byLine = <T extends { line: number }>(a: T, b: T) => a.line - b.line;

/** Sorts every table so that equal coverage always serialises to the same bytes. */
export function normalizeCoverage(doc: CoverageDocument): CoverageDocument {
  const files = doc.files
    .map((f) => ({
      path: f.path,
      lines: [...f.lines].sort(byLine),
      branches: [...f.branches].sort((a, b) => a.line - b.line || a.index - b.index),
      functions: [...f.functions].sort(
        (a, b) => a.line - b.line || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      ),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return doc.test === undefined
    ? { schema: COVERAGE_SCHEMA, files }
    : { schema: COVERAGE_SCHEMA, test: doc.test, files };
}

/**
 * Adds documents up, keyed by location (file, line, branch index, function name) — never by
 * position in an array — so runs of separately built kernels merge correctly. Returns a new
 * document; the inputs are not changed.
 */
export function mergeCoverage(docs: CoverageDocument[]): CoverageDocument {
  const files = new Map<
    string,
    {
      lines: Map<number, LineCoverage>;
      branches: Map<string, BranchCoverage>;
      functions: Map<string, FunctionCoverage>;
    }
  >();
  for (const doc of docs) {
    for (const f of doc.files) {
      let acc = files.get(f.path);
      if (!acc) files.set(f.path, (acc = { lines: new Map(), branches: new Map(), functions: new Map() }));
      for (const l of f.lines) {
        const cur = acc.lines.get(l.line);
        if (cur) {
          cur.hits += l.hits;
          cur.instructions += l.instructions;
        } else acc.lines.set(l.line, { ...l });
      }
      for (const b of f.branches) {
        const key = `${b.line}:${b.index}`;
        const cur = acc.branches.get(key);
        if (cur) {
          cur.taken += b.taken;
          cur.notTaken += b.notTaken;
        } else acc.branches.set(key, { ...b });
      }
      for (const fn of f.functions) {
        const key = `${fn.line}:${fn.name}`;
        const cur = acc.functions.get(key);
        if (cur) cur.hits += fn.hits;
        else acc.functions.set(key, { ...fn });
      }
    }
  }
  return normalizeCoverage({
    schema: COVERAGE_SCHEMA,
    files: [...files].map(([path, acc]) => ({
      path,
      lines: [...acc.lines.values()],
      branches: [...acc.branches.values()],
      functions: [...acc.functions.values()],
    })),
  });
}
