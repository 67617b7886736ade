import type { Memory } from '../cpu';
import {
  type ElfFile,
  type ElfRelocation,
  type ElfSectionHeader,
  type ElfSymbol,
  type LoadedImage,
  type LoadedSection,
  LoaderError,
  parseElf,
  readRelocations,
  readSymbols,
} from '../loaders';

const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHF_ALLOC = 2;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const STT_SECTION = 3;
const STT_FILE = 4;
const R_386_32 = 1;
const R_386_PC32 = 2;
const R_386_PLT32 = 4;
const PAGE = 4096;
/** Sections `.fas` does not number: NULL, SYMTAB, STRTAB, RELA, REL. */
const BOOKKEEPING = new Set([0, SHT_SYMTAB, 3, SHT_RELA, SHT_REL]);

/**
 * UMKa's linker script aligns some sections beyond what fasm can declare in an object (the
 * kernel's address arithmetic assumes it): `.data.64` on 64 KiB, `.bss.1M` on 1 MiB.
 */
export const UMKA_SECTION_ALIGN: ReadonlyMap<string, number> = new Map([
  ['.data.bt', 0x1000],
  ['.data.64', 0x10000],
  ['.bss.1M', 0x100000],
]);

export interface UmkaLinkOptions {
  base: number;
  /** Address of an extrn, or undefined when it has no binding. */
  resolve: (name: string) => number | undefined;
  align?: ReadonlyMap<string, number>;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

function placeSections(elf: ElfFile, o: UmkaLinkOptions): Map<number, LoadedSection> {
  const placed = new Map<number, LoadedSection>();
  let cursor = o.base;
  let ordinal = 0;
  for (const sh of elf.sections) {
    if (!BOOKKEEPING.has(sh.type)) ordinal++;
    if (!(sh.flags & SHF_ALLOC)) continue;
    const align = Math.max(PAGE, sh.addralign, (o.align ?? UMKA_SECTION_ALIGN).get(sh.name) ?? 0);
    cursor = alignUp(cursor, align);
    placed.set(sh.index, {
      name: sh.name,
      index: sh.index,
      fasSection: ordinal,
      base: cursor,
      size: sh.size,
      flags: sh.flags,
      fileOffset: sh.offset,
    });
    cursor = alignUp(cursor + Math.max(sh.size, 1), PAGE);
  }
  return placed;
}

class Relocator {
  constructor(
    private readonly elf: ElfFile,
    private readonly placed: Map<number, LoadedSection>,
    private readonly symbols: ElfSymbol[],
    private readonly resolve: (name: string) => number | undefined,
  ) {}

  address(sym: ElfSymbol, where: string): number {
    if (sym.shndx === SHN_UNDEF) {
      const a = this.resolve(sym.name);
      if (a === undefined) throw new LoaderError(this.elf.file, `unresolved extrn '${sym.name}' at ${where}`);
      return a;
    }
    if (sym.shndx === SHN_ABS) return sym.value;
    const s = this.placed.get(sym.shndx);
    if (!s) throw new LoaderError(this.elf.file, `symbol '${sym.name}' is in a section that is not loaded`);
    return (s.base + sym.value) >>> 0;
  }

  apply(section: ElfSectionHeader, view: DataView, rel: ElfRelocation): void {
    const target = this.placed.get(section.info)!;
    const where = `${target.name}+0x${rel.offset.toString(16)}`;
    if (rel.type !== R_386_32 && rel.type !== R_386_PC32 && rel.type !== R_386_PLT32)
      throw new LoaderError(this.elf.file, `unsupported relocation type ${rel.type} at ${where}`);
    const s = this.address(this.symbols[rel.symbol], where);
    const a = rel.addend ?? view.getInt32(rel.offset, true);
    const v = rel.type === R_386_32 ? s + a : s + a - (target.base + rel.offset);
    view.setUint32(rel.offset, v >>> 0, true);
  }
}

/**
 * Links umka.o into guest memory the way UMKa's linker script lays it out (sections in file
 * order, each on its required alignment), applies the relocations and binds extrns through
 * `resolve`. The generic object loader places sections on page boundaries only.
 */
export function linkUmkaObject(
  memory: Memory,
  bytes: Uint8Array,
  file: string,
  o: UmkaLinkOptions,
): LoadedImage {
  const elf = parseElf(file, bytes);
  const placed = placeSections(elf, o);
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  const symbols = symtab ? readSymbols(elf, symtab) : [];
  const relocator = new Relocator(elf, placed, symbols, o.resolve);
  const images = new Map<number, Uint8Array>();
  for (const [index, s] of placed) {
    const sh = elf.sections[index];
    if (sh.type !== SHT_NOBITS)
      images.set(index, Uint8Array.from(bytes.subarray(sh.offset, sh.offset + s.size)));
  }
  for (const sh of elf.sections) {
    if ((sh.type !== SHT_REL && sh.type !== SHT_RELA) || !placed.has(sh.info)) continue;
    const data = images.get(sh.info);
    if (!data) continue;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (const rel of readRelocations(elf, sh)) relocator.apply(sh, view, rel);
  }
  for (const [index, s] of placed) {
    memory.map(s.base, alignUp(Math.max(s.size, 1), PAGE));
    const data = images.get(index);
    if (data) memory.writeBytes(s.base, data);
  }
  const named = new Map<string, number>();
  const ordered = [...symbols].sort((x, y) => Number(x.bind !== 0) - Number(y.bind !== 0));
  for (const sym of ordered) {
    if (!sym.name || sym.type === STT_SECTION || sym.type === STT_FILE || sym.shndx === SHN_UNDEF) continue;
    if (sym.shndx !== SHN_ABS && !placed.has(sym.shndx)) continue;
    named.set(sym.name, relocator.address(sym, sym.name));
  }
  const sections = [...placed.values()];
  const last = sections[sections.length - 1];
  return {
    file,
    format: 'elf-object',
    sections,
    symbols: named,
    end: last ? alignUp(last.base + Math.max(last.size, 1), PAGE) : o.base,
  };
}
