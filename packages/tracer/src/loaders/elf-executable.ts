import type { Memory } from '../cpu';
import {
  ET_EXEC,
  PF_W,
  PT_LOAD,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_UNDEF,
  SHT_SYMTAB,
  parseElf,
  readSymbols,
} from './elf-reader';
import { type LoadedImage, type LoadedSection, PAGE, pageDown, pageUp } from './image';
import { LoaderError } from './loader-error';

const PF_X = 1;

/**
 * Loads a `format ELF executable`: every PT_LOAD segment at its virtual address (file bytes, then
 * zeros up to memsz). A page shared by two segments is writable if either segment is.
 */
export function loadElfExecutable(memory: Memory, bytes: Uint8Array, file: string): LoadedImage {
  const elf = parseElf(file, bytes);
  if (elf.type !== ET_EXEC) throw new LoaderError(file, `not an executable (ELF type ${elf.type})`, 16);
  const segments = elf.programs.filter((p) => p.type === PT_LOAD && p.memsz > 0);
  if (!segments.length) throw new LoaderError(file, 'no PT_LOAD segment');
  const writablePages = new Set<number>();
  const sections: LoadedSection[] = [];
  let end = 0;
  segments.forEach((p, index) => {
    if (p.filesz > p.memsz) throw new LoaderError(file, `segment ${index}: file size exceeds memory size`);
    if (p.offset + p.filesz > bytes.length)
      throw new LoaderError(file, `truncated file: segment ${index} extends past the end`, p.offset);
    if (p.vaddr + p.memsz > 0x1_0000_0000) throw new LoaderError(file, `segment ${index} wraps around 4 GiB`);
    const first = pageDown(p.vaddr);
    memory.map(first, pageUp(p.vaddr + p.memsz) - first, { writable: true });
    if (p.flags & PF_W) for (let a = first; a < p.vaddr + p.memsz; a += PAGE) writablePages.add(a);
    sections.push({
      name: `segment${index}`,
      fasSection: 0,
      index,
      base: p.vaddr,
      size: p.memsz,
      flags: SHF_ALLOC | (p.flags & PF_W ? SHF_WRITE : 0) | (p.flags & PF_X ? SHF_EXECINSTR : 0),
      fileOffset: p.offset,
    });
    end = Math.max(end, pageUp(p.vaddr + p.memsz));
  });
  // Contents after all mappings so that a later segment's mapping cannot hide an earlier one's bytes.
  for (const p of segments) memory.writeBytes(p.vaddr, bytes.subarray(p.offset, p.offset + p.filesz));
  for (const p of segments) {
    for (let a = pageDown(p.vaddr); a < p.vaddr + p.memsz; a += PAGE)
      if (!writablePages.has(a)) memory.map(a, PAGE, { writable: false });
  }
  const symbols = new Map<string, number>();
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    for (const s of readSymbols(elf, symtab))
      if (
        s.name &&
        s.type !== 3 &&
        s.type !== 4 &&
        s.shndx !== SHN_UNDEF &&
        (s.bind !== 0 || !symbols.has(s.name))
      )
        symbols.set(s.name, s.value);
  }
  return { file, format: 'elf-executable', sections, symbols, entry: elf.entry, end };
}
