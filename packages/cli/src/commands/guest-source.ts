// Names guest addresses for people: the .fas source line (with the macro chain) and the nearest
// label. Relocatable kernels are loaded at an address the .fas does not know, so addresses are
// first turned back into (section, offset) through where the loader placed each section.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, type FasAddress, type FasFile } from '@fasmcov/fas';
import { branchKindName, type LbrEntry, type SectionPlacement } from '@fasmcov/tracer';

export type AddressNamer = (address: number) => string;

function fasAddress(address: number, sections: SectionPlacement[]): number | FasAddress {
  for (const s of sections)
    if (s.fasSection && address >= s.address && address < s.address + s.size)
      return { section: s.fasSection, offset: address - s.address };
  return address;
}

/** ` at file:line via file:line` of `address`, or '' when the .fas does not cover it. */
export function sourceNamer(fas: FasFile | undefined, sections: SectionPlacement[] = []): AddressNamer {
  return (address) => {
    const loc = fas?.findAddress(fasAddress(address >>> 0, sections));
    if (!loc) return '';
    return ` at ${loc.file.name}:${loc.line}${loc.chain.map((c) => ` via ${c.file.name}:${c.line}`).join('')}`;
  };
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/**
 * The LBR ring as a crash report, newest first: each record's kind, and both ends with their
 * label and source line (`label` names the nearest symbol, `where` the source).
 */
export function formatLbrReport(entries: LbrEntry[], label: AddressNamer, where: AddressNamer): string[] {
  const end = (a: number): string => {
    const l = label(a);
    return `${hex(a)}${l ? ` (${l})` : ''}${where(a)}`;
  };
  return entries.map(
    (e, i) =>
      `${String(i).padStart(3)}: ${branchKindName(e.kind)} from ${end(e.from)}\n       to ${end(e.to)}`,
  );
}

/** The LBR ring a run directory holds (lbr.json), or undefined when the run recorded none. */
export function readLbrRing(runDir: string): LbrEntry[] | undefined {
  const file = path.join(runDir, 'lbr.json');
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as LbrEntry[];
}

/**
 * The crash report printed after a fault or an exhausted budget when the LBR was recorded: the
 * last branches that led there, or nothing.
 */
export function lbrCrashReport(runDir: string, label: AddressNamer, where: AddressNamer): string {
  const ring = readLbrRing(runDir);
  if (!ring || ring.length === 0) return '';
  return (
    `last ${ring.length} branch${ring.length === 1 ? '' : 'es'} recorded by the LBR, newest first ` +
    `(also in ${path.join(runDir, 'lbr.txt')}):\n${formatLbrReport(ring, label, where).join('\n')}\n`
  );
}

/** Rewrites the run directory's lbr.txt with labels and source lines (the recorder knows neither). */
export function annotateLbrFile(runDir: string, label: AddressNamer, where: AddressNamer): void {
  const ring = readLbrRing(runDir);
  if (ring === undefined) return;
  writeFileAtomic(path.join(runDir, 'lbr.txt'), `${formatLbrReport(ring, label, where).join('\n')}\n`);
}
