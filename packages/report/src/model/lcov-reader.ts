import * as path from 'node:path';
import { COVERAGE_SCHEMA, CoverageFormatError, mergeCoverage, type CoverageDocument } from './document';

interface LcovRecord {
  title?: string;
  file: string;
  lines: { details: Array<{ line: number; hit: number }> };
  functions: { details: Array<{ name: string; line: number; hit?: number }> };
  branches: { details: Array<{ line: number; block: number; branch: number; taken: number }> };
}

type LcovParse = (input: string, cb: (err: unknown, data?: LcovRecord[]) => void) => void;

function parseLcovText(text: string, file: string): Promise<LcovRecord[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const parse = require('lcov-parse') as LcovParse;
  return new Promise((resolve, reject) =>
    parse(text, (err, data) =>
      err || !data
        ? reject(new CoverageFormatError(file, `not an lcov tracefile (${String(err)})`))
        : resolve(data),
    ),
  );
}

/**
 * Reads lcov tracefile text (parsed by lcov-parse) into one coverage document per test name
 * (`TN:`). Paths under `root` become relative to it. Branches must have the two arms fasmcov
 * writes (0 = taken, 1 = not taken); lcov carries no instruction counts, so those are 0.
 */
export async function readLcov(text: string, file: string, root: string): Promise<CoverageDocument[]> {
  if (!/^SF:/m.test(text)) throw new CoverageFormatError(file, 'not an lcov tracefile (no SF: record)');
  const records = await parseLcovText(text, file);
  const byTest = new Map<string, CoverageDocument>();
  for (const r of records) {
    const test = r.title ?? '';
    let doc = byTest.get(test);
    if (!doc) {
      doc = test ? { schema: COVERAGE_SCHEMA, test, files: [] } : { schema: COVERAGE_SCHEMA, files: [] };
      byTest.set(test, doc);
    }
    const rel = path.relative(root, r.file);
    const branches = new Map<number, { line: number; index: number; taken: number; notTaken: number }>();
    for (const b of r.branches.details) {
      if (b.branch > 1) {
        throw new CoverageFormatError(
          file,
          `${r.file}:${b.line}: branch block ${b.block} has more than two arms`,
        );
      }
      const key = b.line * 65536 + b.block;
      const cur = branches.get(key) ?? { line: b.line, index: b.block, taken: 0, notTaken: 0 };
      if (b.branch === 0) cur.taken = b.taken;
      else cur.notTaken = b.taken;
      branches.set(key, cur);
    }
    doc.files.push({
      path: rel.startsWith('..') || path.isAbsolute(rel) ? r.file : rel,
      lines: r.lines.details.map((l) => ({ line: l.line, hits: l.hit, instructions: 0 })),
      branches: [...branches.values()],
      functions: r.functions.details.map((f) => ({ name: f.name, line: f.line, hits: f.hit ?? 0 })),
    });
  }
  // A file may stand in several records of one test: merge them by location.
  return [...byTest.values()].map((d) => withTest(mergeCoverage([d]), d.test));
}

/** The same document under a test name (or none). */
export function withTest(doc: CoverageDocument, test: string | undefined): CoverageDocument {
  return test === undefined
    ? { schema: doc.schema, files: doc.files }
    : { schema: doc.schema, test, files: doc.files };
}
