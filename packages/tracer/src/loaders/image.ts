import type { Memory } from '../cpu';

/** Where one loaded section (or segment) of a file lives in guest memory. */
export interface LoadedSection {
  name: string;
  /** ELF section index (segment index for executables, 0 for flat binaries). */
  index: number;
  /**
   * For objects: the section's 1-based position among the file's own sections (relocation, symbol
   * and string tables not counted) — the section number fasm's `.fas` file uses. 0 otherwise (the
   * `.fas` then gives absolute addresses).
   */
  fasSection: number;
  base: number;
  size: number;
  /** ELF SHF_* flags (for segments: SHF_WRITE / SHF_EXECINSTR derived from PF_*). */
  flags: number;
  /** Offset of the section's bytes in the file (for NOBITS: where they would be). */
  fileOffset: number;
}

/** A file loaded into guest memory: what the report needs to map guest addresses back to the file. */
export interface LoadedImage {
  file: string;
  format: 'elf-object' | 'elf-executable' | 'binary';
  sections: LoadedSection[];
  /** Named symbols (global ones win over locals of the same name) → guest address. */
  symbols: Map<string, number>;
  entry?: number;
  /** First byte after the highest loaded byte (page-aligned): a program break can start here. */
  end: number;
}

export const PAGE = 4096;

export function pageUp(v: number): number {
  return (Math.ceil(v / PAGE) * PAGE) >>> 0;
}

export function pageDown(v: number): number {
  return (v - (v % PAGE)) >>> 0;
}

/** Maps [base, base+size) writable, copies `bytes` to `base`, then applies the final protection. */
export function mapAndWrite(
  memory: Memory,
  base: number,
  size: number,
  bytes: Uint8Array,
  writable: boolean,
) {
  if (size === 0) return;
  memory.map(pageDown(base), pageUp(base + size) - pageDown(base), { writable: true });
  if (bytes.length) memory.writeBytes(base, bytes);
  if (!writable) memory.map(pageDown(base), pageUp(base + size) - pageDown(base), { writable: false });
}

/** The section holding `address`, with the offset inside it (for mapping trace addresses back). */
export function sectionAt(
  image: LoadedImage,
  address: number,
): { section: LoadedSection; offset: number } | undefined {
  for (const section of image.sections) {
    const offset = (address - section.base) >>> 0;
    if (offset < section.size) return { section, offset };
  }
  return undefined;
}
