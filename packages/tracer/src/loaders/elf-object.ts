import type { Memory } from '../cpu';
import {
  ET_REL,
  SHF_ALLOC,
  SHF_WRITE,
  SHN_ABS,
  SHN_COMMON,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  type ElfFile,
  type ElfRelocation,
  type ElfSectionHeader,
  type ElfSymbol,
  parseElf,
  readRelocations,
  readSymbols,
} from './elf-reader';
import { type LoadedImage, type LoadedSection, mapAndWrite, pageUp } from './image';
import { LoaderError } from './loader-error';

const R_386_NONE = 0;
const R_386_32 = 1;
const R_386_PC32 = 2;
// There is no PLT here: a PLT-relative call goes straight to the symbol (or its host stub).
const R_386_PLT32 = 4;
const STT_SECTION = 3;
/** NULL, SYMTAB, STRTAB, RELA, REL: sections the assembler adds, which `.fas` does not number. */
const BOOKKEEPING = new Set([0, SHT_SYMTAB, 3, SHT_RELA, SHT_REL]);
const STT_FILE = 4;

/** Resolves an `extrn` name to a guest address (e.g. a host-call stub), or undefined. */
export type ExternResolver = (name: string) => number | undefined;

export interface ObjectLoadOptions {
  /** Address of the first section (page-aligned); default 0x00400000. */
  base?: number;
  /** Bindings for undefined symbols. */
  resolve?: ExternResolver | Map<string, number>;
  /** Symbol whose address becomes `entry`; default `_start`, then `start`. */
  entrySymbol?: string;
  /**
   * Map sections without SHF_WRITE read-only, as a native loader would (default true); false for
   * code that writes into its own code or read-only sections.
   */
  protect?: boolean;
}

export const DEFAULT_OBJECT_BASE = 0x00400000;

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

class ObjectLinker {
  private readonly placed = new Map<number, LoadedSection>();
  private readonly images = new Map<number, Uint8Array>();
  private symbols: ElfSymbol[] = [];

  constructor(
    private readonly elf: ElfFile,
    private readonly opts: ObjectLoadOptions,
  ) {}

  layout(): LoadedSection[] {
    let cursor = this.opts.base ?? DEFAULT_OBJECT_BASE;
    if (cursor % 4096) throw new LoaderError(this.elf.file, `load base ${hex(cursor)} is not page-aligned`);
    const out: LoadedSection[] = [];
    let ordinal = 0;
    for (const sh of this.elf.sections) {
      if (!BOOKKEEPING.has(sh.type)) ordinal++;
      if (!(sh.flags & SHF_ALLOC)) continue;
      const s = {
        name: sh.name,
        index: sh.index,
        fasSection: ordinal,
        base: cursor,
        size: sh.size,
        flags: sh.flags,
        fileOffset: sh.offset,
      };
      out.push(s);
      this.placed.set(sh.index, s);
      const bytes =
        sh.type === SHT_NOBITS
          ? new Uint8Array(0)
          : Uint8Array.from(this.elf.bytes.subarray(sh.offset, sh.offset + sh.size)); // a copy, even of a Buffer
      this.images.set(sh.index, bytes);
      cursor = pageUp(cursor + Math.max(sh.size, 1));
    }
    return out;
  }

  readSymbols(): void {
    const symtab = this.elf.sections.find((s) => s.type === SHT_SYMTAB);
    this.symbols = symtab ? readSymbols(this.elf, symtab) : [];
  }

  symbolAddress(sym: ElfSymbol, where: string): number {
    if (sym.shndx === SHN_UNDEF) {
      const r = this.opts.resolve;
      const addr = typeof r === 'function' ? r(sym.name) : r?.get(sym.name);
      if (addr === undefined)
        throw new LoaderError(
          this.elf.file,
          `unresolved extrn '${sym.name}' (no host binding), used at ${where}`,
        );
      return addr;
    }
    if (sym.shndx === SHN_ABS) return sym.value;
    if (sym.shndx === SHN_COMMON)
      throw new LoaderError(this.elf.file, `common symbol '${sym.name}' is not supported`);
    const s = this.placed.get(sym.shndx);
    if (!s) throw new LoaderError(this.elf.file, `symbol '${sym.name}' is in a section that is not loaded`);
    return (s.base + sym.value) >>> 0;
  }

  relocate(relSection: ElfSectionHeader): void {
    const target = this.placed.get(relSection.info);
    const bytes = this.images.get(relSection.info);
    if (!target || !bytes) return; // relocations of debug/non-loaded sections do not concern the guest
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const rel of readRelocations(this.elf, relSection)) this.apply(rel, target, view);
  }

  private apply(rel: ElfRelocation, target: LoadedSection, view: DataView): void {
    const where = `${target.name}+${hex(rel.offset)}`;
    if (rel.type === R_386_NONE) return;
    if (rel.type !== R_386_32 && rel.type !== R_386_PC32 && rel.type !== R_386_PLT32)
      throw new LoaderError(
        this.elf.file,
        `unsupported relocation type ${rel.type} at ${where}`,
        rel.fileOffset,
      );
    if (rel.offset + 4 > view.byteLength)
      throw new LoaderError(this.elf.file, `relocation at ${where} is outside its section`, rel.fileOffset);
    const sym = this.symbols[rel.symbol];
    if (!sym)
      throw new LoaderError(
        this.elf.file,
        `relocation at ${where} names symbol #${rel.symbol}`,
        rel.fileOffset,
      );
    const s = this.symbolAddress(sym, where);
    const a = rel.addend ?? view.getInt32(rel.offset, true);
    const p = target.base + rel.offset;
    const v = rel.type === R_386_32 ? s + a : s + a - p;
    view.setUint32(rel.offset, v >>> 0, true);
  }

  namedSymbols(): Map<string, number> {
    const out = new Map<string, number>();
    // Locals first so that a global of the same name overrides.
    const ordered = [...this.symbols].sort((x, y) => Number(x.bind !== 0) - Number(y.bind !== 0));
    for (const sym of ordered) {
      if (!sym.name || sym.type === STT_SECTION || sym.type === STT_FILE || sym.shndx === SHN_UNDEF) continue;
      if (sym.shndx !== SHN_ABS && !this.placed.has(sym.shndx)) continue;
      out.set(sym.name, this.symbolAddress(sym, sym.name));
    }
    return out;
  }

  commit(memory: Memory): void {
    for (const [index, s] of this.placed) {
      const writable = (s.flags & SHF_WRITE) !== 0 || this.opts.protect === false;
      mapAndWrite(memory, s.base, Math.max(s.size, 1), this.images.get(index)!, writable);
    }
  }
}

/**
 * Loads a `format ELF` relocatable object: each allocatable section at its own page-aligned base,
 * in section order from `opts.base`; applies R_386_32 / R_386_PC32 relocations and binds extrns.
 */
export function loadElfObject(memory: Memory, bytes: Uint8Array, file: string, opts: ObjectLoadOptions = {}) {
  const elf = parseElf(file, bytes);
  if (elf.type !== ET_REL) throw new LoaderError(file, `not a relocatable object (ELF type ${elf.type})`, 16);
  return linkObject(memory, elf, opts);
}

export function linkObject(memory: Memory, elf: ElfFile, opts: ObjectLoadOptions): LoadedImage {
  const linker = new ObjectLinker(elf, opts);
  const sections = linker.layout();
  linker.readSymbols();
  for (const sh of elf.sections) if (sh.type === SHT_REL || sh.type === SHT_RELA) linker.relocate(sh);
  const symbols = linker.namedSymbols();
  linker.commit(memory);
  const last = sections[sections.length - 1];
  const entryName = opts.entrySymbol;
  const entry =
    entryName !== undefined ? symbols.get(entryName) : (symbols.get('_start') ?? symbols.get('start'));
  if (entryName !== undefined && entry === undefined)
    throw new LoaderError(elf.file, `entry symbol '${entryName}' is not defined`);
  return {
    file: elf.file,
    format: 'elf-object',
    sections,
    symbols,
    entry,
    end: last ? pageUp(last.base + Math.max(last.size, 1)) : (opts.base ?? DEFAULT_OBJECT_BASE),
  };
}
