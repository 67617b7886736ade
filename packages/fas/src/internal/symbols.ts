import { u32At, type Bytes } from './bytes';
import type { FasRange } from './header';
import { findLine, type SourceLines } from './source-lines';

export const SYMBOL_SIZE = 32;

/** Symbol flags (table 2.1). */
export const SymbolFlag = {
  defined: 0x1,
  assemblyVariable: 0x2,
  noForwardReference: 0x4,
  used: 0x8,
  optimizationAdjusted: 0x100,
  negative: 0x200,
  marker: 0x400,
} as const;

/** One raw symbol record (table 2); names and lines still as offsets. */
export interface RawSymbol {
  /** Offset of the record in the file. */
  at: number;
  value: bigint;
  flags: number;
  size: number;
  /** Signed value type (table 2.2); negative means negated. */
  valueType: number;
  sib: number;
  definedPass: number;
  usedPass: number;
  /** Field +20: section index (1-based) or, with bit 31, external name offset in the string table. */
  relativeTo: number;
  /** Field +24: name in the preprocessed source (pascal) or, with bit 31, in the string table. */
  nameRef: number;
  /** Offset in the preprocessed source of the defining line. */
  lineOffset: number;
}

/**
 * Checks the table's size and that every symbol's defining line is the start of a line, without
 * decoding the records (that happens on the first query).
 */
export function checkSymbolLines(b: Bytes, range: FasRange, lines: SourceLines): void {
  if (range.length % SYMBOL_SIZE !== 0) {
    b.fail(28, 'symbol table length', `${range.length} is not a multiple of ${SYMBOL_SIZE}`);
  }
  for (let p = range.offset; p < range.offset + range.length; p += SYMBOL_SIZE) {
    const rel = u32At(b.buf, p + 28);
    if (findLine(lines, rel) < 0)
      b.fail(
        p + 28,
        'symbol definition line',
        `0x${rel.toString(16)} is not the start of a preprocessed line`,
      );
  }
}

export function readSymbols(b: Bytes, range: FasRange): RawSymbol[] {
  const out: RawSymbol[] = [];
  for (let k = 0; k < range.length / SYMBOL_SIZE; k++) out.push(readSymbol(b, range, k));
  return out;
}

/** Record `k` of a table already checked by `checkSymbolLines`. */
export function readSymbol(b: Bytes, range: FasRange, k: number): RawSymbol {
  const buf = b.buf;
  const p = range.offset + k * SYMBOL_SIZE;
  const t = buf[p + 11];
  return {
    at: p,
    value: BigInt(u32At(buf, p)) | (BigInt(u32At(buf, p + 4)) << 32n),
    flags: buf[p + 8] | (buf[p + 9] << 8),
    size: buf[p + 10],
    valueType: t >= 0x80 ? t - 0x100 : t,
    sib: u32At(buf, p + 12),
    definedPass: buf[p + 16] | (buf[p + 17] << 8),
    usedPass: buf[p + 18] | (buf[p + 19] << 8),
    relativeTo: u32At(buf, p + 20),
    nameRef: u32At(buf, p + 24),
    lineOffset: u32At(buf, p + 28),
  };
}
