import * as path from 'node:path';
import type { FasFile, FasSymbol } from '@fasmcov/fas';
import { BRANCH } from '@fasmcov/tracer';
import {
  COVERAGE_SCHEMA,
  normalizeCoverage,
  type CoverageDocument,
  type FileCoverageRecord,
} from '../model/document';
import type { Classifier } from '../trace/classifier';
import type { AddressCounts } from './address-counts';
import { isDataLine } from './line-kind';

/** A loaded section as the mapping needs it (the loader's `LoadedSection` fits). */
export interface MappedSection {
  name: string;
  base: number;
  size: number;
  /** ELF SHF_* flags; SHF_EXECINSTR (4) marks code. */
  flags: number;
  /** The section's 1-based index in the .fas, when the loader knows it (else matched by name). */
  fasSection?: number;
}

export interface MapCoverageOptions {
  fas: FasFile;
  /** Where the object's sections were loaded; for absolute formats (binary, executable) give none. */
  sections: MappedSection[];
  /** Guest memory holding the loaded code (static decoding finds branches that never ran). */
  read8: (addr: number) => number;
  classify: Classifier;
  /** Paths in the document are relative to this directory (absolute when outside it). */
  root: string;
  test?: string;
}

/** A problem found while mapping, reported to the user rather than hidden. */
export interface MappingDiagnostic {
  file: string;
  line: number;
  message: string;
}

const SHF_EXECINSTR = 4;

interface LineAcc {
  firstRow: number;
  firstAddress: number;
  instructions: number;
  branches: Array<{ address: number; taken: number; notTaken: number }>;
}

/**
 * Maps execution counts by guest address to line, branch and function coverage of the sources
 * in the .fas: statements are code-producing lines (code from a macro counts at the line that
 * invoked it), branches are the conditional jumps found by decoding every code row, functions
 * are targets of direct calls and code entered from the host, named by their symbols.
 */
export function mapCoverage(
  counts: AddressCounts,
  opts: MapCoverageOptions,
): { document: CoverageDocument; diagnostics: MappingDiagnostic[] } {
  const { fas } = opts;
  const diagnostics: MappingDiagnostic[] = [];
  const rel = (p: string) => {
    const r = path.relative(opts.root, p);
    return r.startsWith('..') || path.isAbsolute(r) ? p : r.split(path.sep).join('/');
  };
  // fas section k (1-based) ↔ the k-th loaded section of that name.
  const bases = new Map<number, MappedSection>();
  if (fas.relocatable) {
    const used = new Set<MappedSection>();
    fas.sections.forEach((name, i) => {
      const s =
        opts.sections.find((x) => x.fasSection === i + 1) ??
        opts.sections.find((x) => x.fasSection === undefined && x.name === name && !used.has(x));
      if (s) {
        used.add(s);
        bases.set(i + 1, s);
      }
    });
  }
  const guestAddress = (section: number, offset: number): number | undefined => {
    if (section === 0) return fas.relocatable ? undefined : offset >>> 0;
    const s = bases.get(section);
    return s && offset < s.size + 1 ? (s.base + offset) >>> 0 : undefined;
  };
  const isCodeSection = (section: number) =>
    section === 0 ? !fas.relocatable : ((bases.get(section)?.flags ?? 0) & SHF_EXECINSTR) !== 0;

  const files = new Map<string, Map<number, LineAcc>>();
  const callTargets = new Set<number>();
  const lineOfAddress = new Map<number, { file: string; line: number }>();

  for (const row of fas.codeRows()) {
    if (row.virtual || row.notInOutput || row.external || row.bits !== 32 || !isCodeSection(row.section))
      continue;
    if (isDataLine(fas.lineText(row.lineIndex))) continue;
    const start = guestAddress(row.section, row.address);
    if (start === undefined) continue;
    const loc = fas.locate(row.lineIndex);
    const top = loc.chain.length ? loc.chain[loc.chain.length - 1] : { file: loc.file, line: loc.line };
    const file = rel(top.file.path);
    let lines = files.get(file);
    if (!lines) files.set(file, (lines = new Map()));
    let acc = lines.get(top.line);
    if (!acc)
      lines.set(top.line, (acc = { firstRow: row.row, firstAddress: start, instructions: 0, branches: [] }));
    for (let a = start, end = start + row.length; a < end;) {
      let info;
      try {
        info = opts.classify(opts.read8, a >>> 0);
      } catch {
        diagnostics.push({
          file,
          line: top.line,
          message: `undecodable bytes at 0x${(a >>> 0).toString(16)}`,
        });
        break;
      }
      const addr = a >>> 0;
      lineOfAddress.set(addr, { file, line: top.line });
      acc.instructions += counts.instructions.get(addr) ?? 0;
      if (info.conditional) {
        const arms = counts.branches.get(addr);
        acc.branches.push({ address: addr, taken: arms?.taken ?? 0, notTaken: arms?.notTaken ?? 0 });
      }
      if (info.kind === BRANCH.CALL && info.target !== undefined) callTargets.add(info.target >>> 0);
      a += info.length;
    }
  }

  const symbolsByAddress = new Map<number, FasSymbol[]>();
  for (const s of fas.symbols) {
    if (!s.defined || s.external || !s.name) continue;
    const a = guestAddress(s.section, s.address);
    if (a === undefined || !lineOfAddress.has(a)) continue;
    symbolsByAddress.set(a, [...(symbolsByAddress.get(a) ?? []), s]);
  }
  const functionAt = (addr: number) => {
    const syms = (symbolsByAddress.get(addr) ?? []).filter(
      (s) => !s.name.startsWith('.') && !s.name.includes('?'),
    );
    syms.sort((a, b) => a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
    const where = lineOfAddress.get(addr);
    if (!where) return undefined;
    if (!syms.length) return { name: `sub_${addr.toString(16)}`, ...where };
    const loc = fas.locate(syms[0].lineIndex);
    const top = loc.chain.length ? loc.chain[loc.chain.length - 1] : { file: loc.file, line: loc.line };
    return { name: syms[0].name, file: rel(top.file.path), line: top.line };
  };
  const fnRecords = new Map<string, FileCoverageRecord['functions']>();
  const entryPoints = new Set<number>([...callTargets, ...counts.entries.keys()]);
  for (const addr of [...entryPoints].sort((a, b) => a - b)) {
    const fn = functionAt(addr);
    if (!fn) continue;
    const list = fnRecords.get(fn.file) ?? [];
    if (!list.some((f) => f.name === fn.name))
      list.push({ name: fn.name, line: fn.line, hits: counts.entries.get(addr) ?? 0 });
    fnRecords.set(fn.file, list);
  }

  const records: FileCoverageRecord[] = [...files].map(([file, lines]) => {
    const rec: FileCoverageRecord = {
      path: file,
      lines: [],
      branches: [],
      functions: fnRecords.get(file) ?? [],
    };
    for (const [line, acc] of lines) {
      rec.lines.push({
        line,
        hits: counts.instructions.get(acc.firstAddress) ?? 0,
        instructions: acc.instructions,
      });
      acc.branches
        .sort((a, b) => a.address - b.address)
        .forEach((b, index) => rec.branches.push({ line, index, taken: b.taken, notTaken: b.notTaken }));
    }
    return rec;
  });
  const doc: CoverageDocument = { schema: COVERAGE_SCHEMA, files: records };
  if (opts.test !== undefined) doc.test = opts.test;
  return { document: normalizeCoverage(doc), diagnostics };
}
