import type { FasFile } from '@fasmcov/fas';
import type { OutputFormat } from './runtime';

/** Whether a `.fas` address (section 0: absolute) lies in executable memory of the output. */
export type ExecutablePredicate = (section: number, address: number) => boolean;

const SHF_EXECINSTR = 4;
const PT_LOAD = 1;
const PF_X = 1;

function isElf32(b: Buffer): boolean {
  return b.length >= 52 && b.readUInt32BE(0) === 0x7f454c46 && b[4] === 1 && b[5] === 1;
}

/** fasm's object sections by `.fas` index (1-based) → executable, matched to ELF sections by name. */
function objectSections(fas: FasFile, elf: Buffer): ExecutablePredicate {
  const shoff = elf.readUInt32LE(0x20);
  const shentsize = elf.readUInt16LE(0x2e);
  const shnum = elf.readUInt16LE(0x30);
  const strndx = elf.readUInt16LE(0x32);
  const header = (i: number) => shoff + i * shentsize;
  const strOff = elf.readUInt32LE(header(strndx) + 16);
  const elfSections = Array.from({ length: shnum }, (_, i) => {
    const h = header(i);
    const nameAt = strOff + elf.readUInt32LE(h);
    const name = elf.toString('latin1', nameAt, elf.indexOf(0, nameAt));
    return { name, exec: (elf.readUInt32LE(h + 8) & SHF_EXECINSTR) !== 0, used: false };
  });
  const exec = fas.sections.map((name) => {
    const s = elfSections.find((e) => !e.used && e.name === name);
    if (s) s.used = true;
    return s?.exec ?? true;
  });
  return (section) => section > 0 && exec[section - 1];
}

/** Address ranges of the executable PT_LOAD segments. */
function executableSegments(elf: Buffer): ExecutablePredicate {
  const phoff = elf.readUInt32LE(0x1c);
  const phentsize = elf.readUInt16LE(0x2a);
  const phnum = elf.readUInt16LE(0x2c);
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (elf.readUInt32LE(h) !== PT_LOAD || (elf.readUInt32LE(h + 24) & PF_X) === 0) continue;
    const start = elf.readUInt32LE(h + 8);
    ranges.push([start, start + elf.readUInt32LE(h + 20)]);
  }
  return (_section, address) => ranges.some(([s, e]) => address >= s && address < e);
}

/**
 * Which rows of the first build are code. ELF outputs say so (section or segment flags); for the
 * other formats every row counts, and data lines are told apart by their text.
 */
export function executablePredicate(fas: FasFile, format: OutputFormat, output: Buffer): ExecutablePredicate {
  if (isElf32(output)) {
    if (format === 'elf-object') return objectSections(fas, output);
    if (format === 'elf-executable') return executableSegments(output);
  }
  return () => true;
}
