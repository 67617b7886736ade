import * as path from 'node:path';
import type { FasFile, FasSymbol, SourceFile } from '@fasmcov/fas';
import { BRANCH } from '@fasmcov/tracer';
import type { Classifier } from '../trace/classifier';
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

/** A problem found while mapping, reported to the user rather than hidden. */
export interface MappingDiagnostic {
  file: string;
  line: number;
  message: string;
}

export interface LayoutOptions {
  fas: FasFile;
  sections: MappedSection[];
  read8: (addr: number) => number;
  classify: Classifier;
  root: string;
}

/** A statement: a code-producing source line (macro code counts at the invoking line). */
export interface LayoutLine {
  file: string;
  line: number;
  firstAddress: number;
  /** Conditional jumps on the line, ascending. */
  branches: number[];
}

/** One code-producing line of a macro expansion, under the statement that invoked the macro. */
export interface LayoutExpansion {
  /** Index of the invoking statement in `lines`. */
  statement: number;
  file: string;
  line: number;
  text: string;
  firstAddress: number;
  branches: number[];
}

/**
 * Everything the mapping needs that depends on the build alone, not on the counts: every
 * instruction of the code rows (address, statement, expansion line), decoded once and reused for
 * every run of the same build (a report of many tests maps many runs of one kernel).
 */
export interface CodeLayout {
  addresses: Uint32Array;
  statementOf: Int32Array;
  /** Index in `expansions`, or -1 for a line that is not from a macro. */
  expansionOf: Int32Array;
  lines: LayoutLine[];
  expansions: LayoutExpansion[];
  callTargets: number[];
  /** Statement index by instruction address. */
  statementAt: Map<number, number>;
  /** The function a code address starts, named by its symbol (sub_<hex> when it has none). */
  functionAt: (address: number) => { name: string; file: string; line: number } | undefined;
  diagnostics: MappingDiagnostic[];
}

const SHF_EXECINSTR = 4;

/** fas section k (1-based) ↔ the k-th loaded section of that name. */
function sectionBases(fas: FasFile, sections: MappedSection[]): Map<number, MappedSection> {
  const bases = new Map<number, MappedSection>();
  if (!fas.relocatable) return bases;
  const used = new Set<MappedSection>();
  fas.sections.forEach((name, i) => {
    const s =
      sections.find((x) => x.fasSection === i + 1) ??
      sections.find((x) => x.fasSection === undefined && x.name === name && !used.has(x));
    if (s) {
      used.add(s);
      bases.set(i + 1, s);
    }
  });
  return bases;
}

/** Growable typed storage for one number per instruction (no object per instruction). */
class IntList {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

export function buildCodeLayout(opts: LayoutOptions): CodeLayout {
  const { fas } = opts;
  const bases = sectionBases(fas, opts.sections);
  const guestAddress = (section: number, offset: number): number | undefined => {
    if (section === 0) return fas.relocatable ? undefined : offset >>> 0;
    const s = bases.get(section);
    return s && offset < s.size + 1 ? (s.base + offset) >>> 0 : undefined;
  };
  const isCodeSection = (section: number) =>
    section === 0 ? !fas.relocatable : ((bases.get(section)?.flags ?? 0) & SHF_EXECINSTR) !== 0;
  // Path relative to the root, once per source file (not once per row).
  const names = new Map<SourceFile, string>();
  const rel = (f: SourceFile) => {
    let n = names.get(f);
    if (n === undefined) {
      const r = path.relative(opts.root, f.path);
      n = r.startsWith('..') || path.isAbsolute(r) ? f.path : r.split(path.sep).join('/');
      names.set(f, n);
    }
    return n;
  };

  const layout: CodeLayout = {
    addresses: new Uint32Array(0),
    statementOf: new Int32Array(0),
    expansionOf: new Int32Array(0),
    lines: [],
    expansions: [],
    callTargets: [],
    statementAt: new Map(),
    functionAt: () => undefined,
    diagnostics: [],
  };
  const statementIndex = new Map<string, Map<number, number>>();
  const expansionIndex = new Map<number, number>();
  const addresses = new IntList();
  const statementOf = new IntList();
  const expansionOf = new IntList();
  const callTargets = new Set<number>();

  const statementFor = (file: string, line: number, firstAddress: number) => {
    let byLine = statementIndex.get(file);
    if (!byLine) statementIndex.set(file, (byLine = new Map()));
    let k = byLine.get(line);
    if (k === undefined) {
      byLine.set(line, (k = layout.lines.length));
      layout.lines.push({ file, line, firstAddress, branches: [] });
    }
    return k;
  };

  for (let r = 0; r < fas.rowCount; r++) {
    const row = fas.row(r);
    if (row.length === 0 || row.virtual || row.notInOutput || row.external || row.bits !== 32) continue;
    if (!isCodeSection(row.section)) continue;
    const start = guestAddress(row.section, row.address);
    if (start === undefined) continue;
    const text = fas.lineText(row.lineIndex);
    if (isDataLine(text)) continue;
    const loc = fas.locate(row.lineIndex);
    const top = loc.chain.length ? loc.chain[loc.chain.length - 1] : { file: loc.file, line: loc.line };
    const file = rel(top.file);
    const statement = statementFor(file, top.line, start);
    let expansion = -1;
    if (loc.chain.length) {
      const known = expansionIndex.get(row.lineIndex);
      if (known !== undefined) expansion = known;
      else {
        expansionIndex.set(row.lineIndex, (expansion = layout.expansions.length));
        layout.expansions.push({
          statement,
          file: rel(loc.file),
          line: loc.line,
          text: text.trim(),
          firstAddress: start,
          branches: [],
        });
      }
    }
    for (let a = start, end = start + row.length; a < end;) {
      const addr = a >>> 0;
      let info;
      try {
        info = opts.classify(opts.read8, addr);
      } catch {
        layout.diagnostics.push({
          file,
          line: top.line,
          message: `undecodable bytes at 0x${addr.toString(16)}`,
        });
        break;
      }
      addresses.push(addr);
      statementOf.push(statement);
      expansionOf.push(expansion);
      layout.statementAt.set(addr, statement);
      if (info.conditional) {
        layout.lines[statement].branches.push(addr);
        if (expansion >= 0) layout.expansions[expansion].branches.push(addr);
      }
      if (info.kind === BRANCH.CALL && info.target !== undefined) callTargets.add(info.target >>> 0);
      a += info.length;
    }
  }
  for (const l of layout.lines) l.branches.sort((a, b) => a - b);
  for (const e of layout.expansions) e.branches.sort((a, b) => a - b);
  layout.addresses = new Uint32Array(addresses.view());
  layout.statementOf = statementOf.view();
  layout.expansionOf = expansionOf.view();
  layout.callTargets = [...callTargets];
  layout.functionAt = functionNamer(fas, layout, guestAddress, rel);
  return layout;
}

/** Names functions by the shortest plain symbol at their address; memoised (many runs ask again). */
function functionNamer(
  fas: FasFile,
  layout: CodeLayout,
  guestAddress: (section: number, offset: number) => number | undefined,
  rel: (f: SourceFile) => string,
): CodeLayout['functionAt'] {
  let byAddress: Map<number, FasSymbol[]> | undefined;
  const memo = new Map<number, ReturnType<CodeLayout['functionAt']>>();
  return (addr) => {
    if (memo.has(addr)) return memo.get(addr);
    if (!byAddress) {
      byAddress = new Map();
      for (const s of fas.symbols) {
        if (!s.defined || s.external || !s.name || s.name.startsWith('.') || s.name.includes('?')) continue;
        const a = guestAddress(s.section, s.address);
        if (a === undefined || !layout.statementAt.has(a)) continue;
        const list = byAddress.get(a);
        if (list) list.push(s);
        else byAddress.set(a, [s]);
      }
    }
    const k = layout.statementAt.get(addr);
    let fn: ReturnType<CodeLayout['functionAt']>;
    if (k !== undefined) {
      const syms = [...(byAddress.get(addr) ?? [])];
      syms.sort((a, b) => a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
      if (!syms.length)
        fn = { name: `sub_${addr.toString(16)}`, file: layout.lines[k].file, line: layout.lines[k].line };
      else {
        const loc = fas.locate(syms[0].lineIndex);
        const top = loc.chain.length ? loc.chain[loc.chain.length - 1] : { file: loc.file, line: loc.line };
        fn = { name: syms[0].name, file: rel(top.file), line: top.line };
      }
    }
    memo.set(addr, fn);
    return fn;
  };
}

const layouts = new WeakMap<FasFile, Map<string, CodeLayout>>();

/**
 * The layout of a build, cached per FasFile, section placement and root. Runs of one build load
 * the same bytes at the same places, so the decoded instructions are the same.
 */
export function codeLayout(opts: LayoutOptions): CodeLayout {
  let perFas = layouts.get(opts.fas);
  if (!perFas) layouts.set(opts.fas, (perFas = new Map()));
  const key = JSON.stringify([
    opts.root,
    opts.sections.map((s) => [s.name, s.base, s.size, s.flags, s.fasSection ?? null]),
  ]);
  let layout = perFas.get(key);
  if (!layout) perFas.set(key, (layout = buildCodeLayout(opts)));
  return layout;
}
