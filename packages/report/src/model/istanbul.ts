import { createCoverageMap, type CoverageMap, type FileCoverageData } from 'istanbul-lib-coverage';
import * as path from 'node:path';
import type { CoverageDocument, FileCoverageRecord } from './document';

type Loc = { start: { line: number; column: number }; end: { line: number; column: number } };
const lineLoc = (line: number): Loc => ({
  start: { line, column: 0 },
  end: { line, column: Number.MAX_SAFE_INTEGER },
});

/**
 * One istanbul FileCoverage per source file: statements = code-producing lines,
 * branches = conditional jumps with two arms (taken, not taken), functions = procedures.
 */
export function toFileCoverageData(f: FileCoverageRecord, root: string): FileCoverageData {
  const data: FileCoverageData = {
    path: path.resolve(root, f.path),
    statementMap: {},
    s: {},
    fnMap: {},
    f: {},
    branchMap: {},
    b: {},
  };
  f.lines.forEach((l, i) => {
    data.statementMap[i] = lineLoc(l.line);
    data.s[i] = l.hits;
  });
  f.functions.forEach((fn, i) => {
    data.fnMap[i] = { name: fn.name, decl: lineLoc(fn.line), loc: lineLoc(fn.line), line: fn.line };
    data.f[i] = fn.hits;
  });
  f.branches.forEach((b, i) => {
    data.branchMap[i] = {
      type: 'branch',
      loc: lineLoc(b.line),
      locations: [lineLoc(b.line), lineLoc(b.line)],
      line: b.line,
    };
    data.b[i] = [b.taken, b.notTaken];
  });
  return data;
}

export function toCoverageMap(doc: CoverageDocument, root: string): CoverageMap {
  const map = createCoverageMap({});
  for (const f of doc.files) map.addFileCoverage(toFileCoverageData(f, root));
  return map;
}
