import { LoaderError } from './loader-error';

/** ELF32 constants the loaders use (from the System V ABI, i386 supplement). */
export const ET_REL = 1;
export const ET_EXEC = 2;
export const EM_386 = 3;
export const SHT_SYMTAB = 2;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHF_WRITE = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const PT_LOAD = 1;
export const PF_W = 2;

export interface ElfSectionHeader {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** STB_* binding (0 local, 1 global, 2 weak). */
  bind: number;
  /** STT_* type (3 = section). */
  type: number;
  shndx: number;
}

export interface ElfRelocation {
  /** Offset inside the target section (REL/RELA of a relocatable file). */
  offset: number;
  type: number;
  symbol: number;
  /** Explicit addend (RELA) or undefined for REL, whose addend is stored in place. */
  addend?: number;
  /** File offset of this entry, for error messages. */
  fileOffset: number;
}

/** A parsed little-endian ELF32 file: header fields, section and program headers. */
export interface ElfFile {
  file: string;
  bytes: Uint8Array;
  type: number;
  machine: number;
  entry: number;
  sections: ElfSectionHeader[];
  programs: ElfProgramHeader[];
}

class Reader {
  private readonly view: DataView;
  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(offset: number, len: number, what: string): void {
    if (offset < 0 || len < 0 || offset + len > this.bytes.length)
      throw new LoaderError(this.file, `truncated file: ${what} extends past the end`, offset);
  }
  u8(o: number): number {
    return this.view.getUint8(o);
  }
  u16(o: number): number {
    return this.view.getUint16(o, true);
  }
  u32(o: number): number {
    return this.view.getUint32(o, true);
  }
  cString(o: number, limit: number): string {
    let end = o;
    while (end < limit && this.bytes[end] !== 0) end++;
    return Buffer.from(this.bytes.subarray(o, end)).toString('latin1');
  }
}

function readSections(r: Reader, shoff: number, shnum: number, shentsize: number, shstrndx: number) {
  if (shnum === 0) return [];
  if (shentsize < 40) throw new LoaderError(r.file, `bad section header size ${shentsize}`, 46);
  r.check(shoff, shnum * shentsize, 'section header table');
  const out: ElfSectionHeader[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    out.push({
      index: i,
      name: '',
      type: r.u32(o + 4),
      flags: r.u32(o + 8),
      addr: r.u32(o + 12),
      offset: r.u32(o + 16),
      size: r.u32(o + 20),
      link: r.u32(o + 24),
      info: r.u32(o + 28),
      addralign: r.u32(o + 32),
      entsize: r.u32(o + 36),
    });
    if (out[i].type !== SHT_NOBITS && out[i].type !== 0) r.check(out[i].offset, out[i].size, `section ${i}`);
  }
  const strtab = out[shstrndx];
  if (strtab) {
    for (let i = 0; i < shnum; i++) {
      const nameOff = r.u32(shoff + i * shentsize);
      const at = strtab.offset + nameOff;
      if (nameOff < strtab.size) out[i].name = r.cString(at, strtab.offset + strtab.size);
    }
  }
  return out;
}

/** Parses the ELF header and the section / program header tables; checks ELF32, LSB and EM_386. */
export function parseElf(file: string, bytes: Uint8Array): ElfFile {
  const r = new Reader(file, bytes);
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new LoaderError(file, 'not an ELF file (bad magic)', 0);
  r.check(0, 52, 'ELF header');
  if (bytes[4] !== 1) throw new LoaderError(file, `unsupported ELF class ${bytes[4]} (need ELF32)`, 4);
  if (bytes[5] !== 1) throw new LoaderError(file, 'unsupported byte order (need little-endian)', 5);
  const machine = r.u16(18);
  if (machine !== EM_386)
    throw new LoaderError(file, `unsupported machine type ${machine} (need EM_386)`, 18);
  const phoff = r.u32(28);
  const phentsize = r.u16(42);
  const phnum = r.u16(44);
  const programs: ElfProgramHeader[] = [];
  if (phnum > 0) {
    if (phentsize < 32) throw new LoaderError(file, `bad program header size ${phentsize}`, 42);
    r.check(phoff, phnum * phentsize, 'program header table');
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      programs.push({
        type: r.u32(o),
        offset: r.u32(o + 4),
        vaddr: r.u32(o + 8),
        filesz: r.u32(o + 16),
        memsz: r.u32(o + 20),
        flags: r.u32(o + 24),
      });
    }
  }
  return {
    file,
    bytes,
    type: r.u16(16),
    machine,
    entry: r.u32(24),
    sections: readSections(r, r.u32(32), r.u16(48), r.u16(46), r.u16(50)),
    programs,
  };
}

/** The symbols of a SYMTAB section, with names from its linked string table. */
export function readSymbols(elf: ElfFile, symtab: ElfSectionHeader): ElfSymbol[] {
  const r = new Reader(elf.file, elf.bytes);
  const strtab = elf.sections[symtab.link];
  if (!strtab) throw new LoaderError(elf.file, `symbol table '${symtab.name}' has no string table`);
  const out: ElfSymbol[] = [];
  const n = Math.floor(symtab.size / 16);
  for (let i = 0; i < n; i++) {
    const o = symtab.offset + i * 16;
    const nameOff = r.u32(o);
    const info = r.u8(o + 12);
    out.push({
      index: i,
      name: nameOff < strtab.size ? r.cString(strtab.offset + nameOff, strtab.offset + strtab.size) : '',
      value: r.u32(o + 4),
      size: r.u32(o + 8),
      bind: info >> 4,
      type: info & 15,
      shndx: r.u16(o + 14),
    });
  }
  return out;
}

/** The entries of a REL or RELA section. */
export function readRelocations(elf: ElfFile, rel: ElfSectionHeader): ElfRelocation[] {
  const r = new Reader(elf.file, elf.bytes);
  const size = rel.type === SHT_RELA ? 12 : 8;
  const out: ElfRelocation[] = [];
  for (let i = 0; i < Math.floor(rel.size / size); i++) {
    const o = rel.offset + i * size;
    const info = r.u32(o + 4);
    out.push({
      offset: r.u32(o),
      type: info & 0xff,
      symbol: info >>> 8,
      addend: rel.type === SHT_RELA ? r.u32(o + 8) | 0 : undefined,
      fileOffset: o,
    });
  }
  return out;
}
