import type { Bytes } from './bytes';

/** One part of the file: where it starts and how long it is, or absent (older fasm, or an error). */
export interface FasRange {
  offset: number;
  length: number;
}

/** The header (table 1 of fas.txt), with every range checked against the file size. */
export interface FasHeader {
  majorVersion: number;
  minorVersion: number;
  headerLength: number;
  /** Offsets of the input and output file names in the string table. */
  inputNameOffset: number;
  outputNameOffset: number;
  strings: FasRange;
  symbols: FasRange;
  source: FasRange;
  /** Absent when fasm failed before assembling (only the preprocessed source was dumped). */
  dump?: FasRange;
  sectionNames?: FasRange;
  symbolReferences?: FasRange;
}

export const FAS_SIGNATURE = 0x1a736166;

const RANGES: Array<[keyof FasHeader, number, string]> = [
  ['strings', 16, 'string table'],
  ['symbols', 24, 'symbol table'],
  ['source', 32, 'preprocessed source'],
  ['dump', 40, 'assembly dump'],
  ['sectionNames', 48, 'section names table'],
  ['symbolReferences', 56, 'symbol references dump'],
];

export function readHeader(b: Bytes): FasHeader {
  const sig = b.u32(0, 'signature');
  if (sig !== FAS_SIGNATURE) b.fail(0, 'signature', `0x${sig.toString(16)} is not 0x1a736166 ('fas\\x1a')`);
  const majorVersion = b.u8(4, 'major version');
  const minorVersion = b.u8(5, 'minor version');
  // fasm 1.x is the only producer of this layout (fasmg writes other formats).
  if (majorVersion !== 1)
    b.fail(4, 'major version', `unsupported fasm version ${majorVersion}.${minorVersion}`);
  const headerLength = b.u16(6, 'header length');
  if (headerLength < 40 || headerLength > b.length) {
    b.fail(6, 'header length', `${headerLength} is not between 40 and the file size`);
  }
  const h: Partial<FasHeader> = { majorVersion, minorVersion, headerLength };
  h.inputNameOffset = b.u32(8, 'input file name offset');
  h.outputNameOffset = b.u32(12, 'output file name offset');
  for (const [key, at, name] of RANGES) {
    if (at + 8 > headerLength) continue;
    const offset = b.u32(at, `${name} offset`);
    const length = b.u32(at + 4, `${name} length`);
    if (key === 'dump' && length === 0) continue;
    if (offset < headerLength && length > 0)
      b.fail(at, `${name} offset`, `0x${offset.toString(16)} lies inside the header`);
    if (offset + length > b.length) {
      b.fail(
        at,
        `${name} offset`,
        `0x${offset.toString(16)}+0x${length.toString(16)} is past the end of the file (0x${b.length.toString(16)} bytes)`,
      );
    }
    (h as Record<string, FasRange>)[key] = { offset, length };
  }
  // The first three parts are in every fasm 1.x header that is at least 40 bytes long.
  return h as FasHeader;
}
