import {
  COVERAGE_SCHEMA,
  normalizeCoverage,
  type CoverageDocument,
  type FileCoverageRecord,
  type FunctionCoverage,
} from '../model/document';
import type { AddressCounts } from './address-counts';
import { codeLayout, type CodeLayout, type LayoutOptions, type MappingDiagnostic } from './code-layout';
import type { MacroExpansions } from './expansions';
export type { MappedSection, MappingDiagnostic } from './code-layout';

export interface MapCoverageOptions extends LayoutOptions {
  test?: string;
}

/** Arms of the conditional jumps at `addresses`, from the run's counts. */
const armsAt = (counts: AddressCounts, addresses: number[]) =>
  addresses.map((a) => {
    const arms = counts.branches.get(a);
    return { taken: arms?.taken ?? 0, notTaken: arms?.notTaken ?? 0 };
  });

/** Functions: targets of direct calls and code entered from the host, with their entry counts. */
function functionRecords(layout: CodeLayout, counts: AddressCounts): Map<string, FunctionCoverage[]> {
  const out = new Map<string, FunctionCoverage[]>();
  const entryPoints = new Set<number>([...layout.callTargets, ...counts.entries.keys()]);
  for (const addr of [...entryPoints].sort((a, b) => a - b)) {
    const fn = layout.functionAt(addr);
    if (!fn) continue;
    const list = out.get(fn.file) ?? [];
    if (!list.some((f) => f.name === fn.name))
      list.push({ name: fn.name, line: fn.line, hits: counts.entries.get(addr) ?? 0 });
    out.set(fn.file, list);
  }
  return out;
}

function expansionsOf(layout: CodeLayout, counts: AddressCounts, executed: Float64Array): MacroExpansions {
  const out: MacroExpansions = new Map();
  layout.expansions.forEach((e, k) => {
    const st = layout.lines[e.statement];
    let perLine = out.get(st.file);
    if (!perLine) out.set(st.file, (perLine = new Map()));
    let list = perLine.get(st.line);
    if (!list) perLine.set(st.line, (list = []));
    list.push({
      file: e.file,
      line: e.line,
      text: e.text,
      hits: counts.instructions.get(e.firstAddress) ?? 0,
      instructions: executed[k],
      branches: armsAt(counts, e.branches),
    });
  });
  return out;
}

/**
 * Maps execution counts by guest address to line, branch and function coverage of the sources
 * in the .fas: statements are code-producing lines (code from a macro counts at the line that
 * invoked it; `expansions` has each expanded line's own counts), branches are the conditional
 * jumps found by decoding every code row, functions are targets of direct calls and code entered
 * from the host, named by their symbols. The decoding is cached per build (`codeLayout`).
 */
export function mapCoverage(
  counts: AddressCounts,
  opts: MapCoverageOptions,
): { document: CoverageDocument; diagnostics: MappingDiagnostic[]; expansions: MacroExpansions } {
  const layout = codeLayout(opts);
  const perStatement = new Float64Array(layout.lines.length);
  const perExpansion = new Float64Array(layout.expansions.length);
  const { addresses, statementOf, expansionOf } = layout;
  for (let i = 0; i < addresses.length; i++) {
    const n = counts.instructions.get(addresses[i]);
    if (!n) continue;
    perStatement[statementOf[i]] += n;
    if (expansionOf[i] >= 0) perExpansion[expansionOf[i]] += n;
  }
  const functions = functionRecords(layout, counts);
  const files = new Map<string, FileCoverageRecord>();
  layout.lines.forEach((l, k) => {
    let rec = files.get(l.file);
    if (!rec)
      files.set(
        l.file,
        (rec = { path: l.file, lines: [], branches: [], functions: functions.get(l.file) ?? [] }),
      );
    rec.lines.push({
      line: l.line,
      hits: counts.instructions.get(l.firstAddress) ?? 0,
      instructions: perStatement[k],
    });
    armsAt(counts, l.branches).forEach((b, index) => rec.branches.push({ line: l.line, index, ...b }));
  });
  const doc: CoverageDocument = { schema: COVERAGE_SCHEMA, files: [...files.values()] };
  if (opts.test !== undefined) doc.test = opts.test;
  return {
    document: normalizeCoverage(doc),
    diagnostics: layout.diagnostics,
    expansions: expansionsOf(layout, counts, perExpansion),
  };
}
