// Coverage from UMKa's native coverage files (recorded on bare metal with the LBR debug MSRs, or
// written by `fasmcov trace umka`): tables of arrivals and departures per byte offset from the
// kernel's `coverage_begin` label. The kernel object and its .fas give the instructions; a running
// count over them (as UMKa's own tools do) gives per-instruction and branch-arm counts, which then
// take the same road to source lines as every other trace kind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FasFile } from '@fasmcov/fas';
import {
  BRANCH,
  classifyInstruction,
  parseElf,
  readUmkaTable,
  umkaInstructionCounts,
  type UmkaInstruction,
  type UmkaTable,
} from '@fasmcov/tracer';
import type { AddressCounts } from '../mapping/address-counts';
import { emptyAddressCounts } from '../mapping/address-counts';
import { mapCoverage, type MappedSection, type MappingDiagnostic } from '../mapping/map-coverage';
import type { CoverageDocument } from '../model/document';
import { CodeImage } from '../trace/code-image';

export class UmkaImportError extends Error {}

/** The label UMKa's tables count from. */
export const UMKA_BASE_SYMBOL = 'coverage_begin';
/** Where the object's sections are placed for mapping (any base works: counts are by offset). */
const PLACEMENT_BASE = 0x01000000;
const SHF_EXECINSTR = 4;

/** Adds up tables of several runs (UMKa's tools do the same). */
export function sumUmkaTables(tables: UmkaTable[]): UmkaTable {
  const n = Math.max(0, ...tables.map((t) => t.to.length));
  const sum: UmkaTable = { to: new Float64Array(n), from: new Float64Array(n) };
  for (const t of tables)
    for (let i = 0; i < t.to.length; i++) {
      sum.to[i] += t.to[i];
      sum.from[i] += t.from[i];
    }
  return sum;
}

/** The object's sections placed one after another, as the .fas numbers them. */
export function placeObjectSections(fas: FasFile, object: Uint8Array, objectFile: string) {
  if (!fas.relocatable)
    throw new UmkaImportError(
      `${objectFile}: UMKa coverage maps offsets of an object file (format ELF, as umka.o); this .fas is not one`,
    );
  const elf = parseElf(objectFile, object);
  const image = new CodeImage();
  const sections: MappedSection[] = [];
  const taken = new Set<number>();
  let base = PLACEMENT_BASE;
  fas.sections.forEach((name, i) => {
    const sh = elf.sections.find((s) => s.name === name && !taken.has(s.index));
    if (!sh) throw new UmkaImportError(`${objectFile}: no section ${name} (section ${i + 1} of the .fas)`);
    taken.add(sh.index);
    const bytes = sh.type === 8 ? new Uint8Array(sh.size) : object.subarray(sh.offset, sh.offset + sh.size);
    if (bytes.length !== sh.size) throw new UmkaImportError(`${objectFile}: section ${name} is truncated`);
    image.add(base, new Uint8Array(bytes));
    sections.push({ name, base, size: sh.size, flags: sh.flags, fasSection: i + 1 });
    base = (base + sh.size + 0xfff) & ~0xfff;
  });
  return { image, sections };
}

/**
 * Offset 0 of a table: the label `name` if given, else `coverage_begin` when the kernel has it (as
 * UMKa's does), else the start of the first code section.
 */
export function umkaBase(
  fas: FasFile,
  sections: Array<{ flags: number; fasSection?: number }>,
  name: string | undefined,
  where: string,
): { section: number; address: number } {
  const sym = fas.symbol(name ?? UMKA_BASE_SYMBOL);
  if (sym && sym.defined && sym.section > 0) return { section: sym.section, address: sym.address };
  if (name !== undefined) throw new UmkaImportError(`${where}: the .fas has no label ${name} in a section`);
  const code = sections.find((s) => s.flags & SHF_EXECINSTR && s.fasSection);
  if (!code?.fasSection) throw new UmkaImportError(`${where}: no code section to count from`);
  return { section: code.fasSection, address: 0 };
}

export interface UmkaImportOptions {
  fas: FasFile;
  /** The kernel object the .fas describes (umka.o). */
  object: Uint8Array;
  objectFile: string;
  /** The label offset 0 of the table stands for (default coverage_begin). */
  baseSymbol?: string;
  root: string;
  test: string;
}

/**
 * Per-instruction, branch-arm and entry counts of a (summed) table. Instructions are the .fas rows of
 * the base label's section in address order, as UMKa's tools walk the listing. Function entries are
 * counted where static calls lead and at labels entered from outside (arrivals with no static jump
 * leading there: host calls into the kernel).
 */
export function addressCountsFromUmka(
  table: UmkaTable,
  opts: UmkaImportOptions,
): {
  counts: AddressCounts;
  sections: MappedSection[];
  read8: (a: number) => number;
} {
  const { fas } = opts;
  const { image, sections } = placeObjectSections(fas, opts.object, opts.objectFile);
  const sym = umkaBase(fas, sections, opts.baseSymbol, opts.objectFile);
  const sec = sections[sym.section - 1];
  const base = sec.base + sym.address;
  const rows = fas
    .codeRows()
    .filter((r) => r.section === sym.section && !r.virtual && !r.notInOutput && r.length > 0)
    .filter((r) => r.address >= sym.address && r.address - sym.address < table.to.length)
    .sort((a, b) => a.address - b.address || a.row - b.row);
  const insns: Array<UmkaInstruction & { address: number; kind: number; target?: number }> = [];
  for (const r of rows) {
    const address = sec.base + r.address;
    if (insns.length && insns[insns.length - 1].address === address) continue;
    const info = (sec.flags & SHF_EXECINSTR) !== 0 ? classifyInstruction(image.read8, address) : undefined;
    insns.push({
      offset: address - base,
      length: r.length,
      conditional: info?.kind === BRANCH.COND_TAKEN,
      address,
      kind: info?.kind ?? 0,
      target: info?.target,
    });
  }
  const per = umkaInstructionCounts(table, insns);
  const counts = emptyAddressCounts();
  const countAt = new Map<number, number>();
  const jumpTargets = new Set<number>();
  const callTargets = new Set<number>();
  insns.forEach((ins, i) => {
    const c = per[i];
    countAt.set(ins.address, c.count);
    if (c.count > 0) counts.instructions.set(ins.address, c.count);
    if (ins.conditional) counts.branches.set(ins.address, { taken: c.taken ?? 0, notTaken: c.notTaken ?? 0 });
    if (ins.target === undefined) return;
    if (ins.kind === BRANCH.CALL) callTargets.add(ins.target >>> 0);
    else jumpTargets.add(ins.target >>> 0);
  });
  for (const t of callTargets) counts.entries.set(t, countAt.get(t) ?? 0);
  const labelled = new Set(
    fas.symbols
      .filter((s) => s.defined && s.section === sym.section && s.name && !s.name.includes('.'))
      .map((s) => sec.base + s.address),
  );
  for (const ins of insns) {
    const arrivals = table.to[ins.offset] ?? 0;
    if (
      arrivals > 0 &&
      labelled.has(ins.address) &&
      !jumpTargets.has(ins.address) &&
      !callTargets.has(ins.address)
    )
      counts.entries.set(ins.address, countAt.get(ins.address) ?? 0);
  }
  return { counts, sections, read8: image.read8 };
}

/** Line, branch and function coverage of UMKa tables (summed), mapped through the kernel's .fas. */
export function coverageFromUmkaTables(
  tables: UmkaTable[],
  opts: UmkaImportOptions,
): { document: CoverageDocument; diagnostics: MappingDiagnostic[] } {
  const { counts, sections, read8 } = addressCountsFromUmka(sumUmkaTables(tables), opts);
  const { document, diagnostics } = mapCoverage(counts, {
    fas: opts.fas,
    sections,
    read8,
    classify: classifyInstruction,
    root: opts.root,
    test: opts.test,
  });
  return { document, diagnostics };
}

/** Reads UMKa coverage files (errors name the file). */
export function readUmkaFiles(files: string[]): UmkaTable[] {
  return files.map((f) => {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(f);
    } catch (e) {
      throw new UmkaImportError(`cannot read UMKa coverage file ${f}: ${(e as NodeJS.ErrnoException).code}`);
    }
    return readUmkaTable(new Uint8Array(bytes), f);
  });
}

/** The object file a .fas was assembled into: its recorded output name, next to the .fas. */
export function defaultObjectFile(fas: FasFile, fasFile: string): string {
  return path.isAbsolute(fas.outputName)
    ? fas.outputName
    : path.join(path.dirname(fasFile), path.basename(fas.outputName));
}
