import { u32At, type Bytes } from './bytes';
import type { FasRange } from './header';
import { findLine, type SourceLines } from './source-lines';

export const DUMP_ROW_SIZE = 28;

/** Row flags (field +26). */
export const DumpFlag = { virtual: 1, notInOutput: 2 } as const;

/**
 * The assembly dump (table 4) as parallel typed arrays, one entry per row, in assembly order.
 * Line references are already turned into line indices.
 */
export interface DumpRows {
  count: number;
  outputOffset: Uint32Array;
  line: Uint32Array;
  addressLo: Uint32Array;
  addressHi: Uint32Array;
  /** Field +27: bits 64-71 of the `$` address. */
  addressTop: Uint8Array;
  sib: Uint32Array;
  /** Raw field +20: section index (1-based), external name offset with bit 31, or 0. */
  relativeTo: Uint32Array;
  valueType: Int8Array;
  bits: Uint8Array;
  flags: Uint8Array;
  /** Output offset at which assembly ended (the dword after the rows). */
  endOffset: number;
}

export function readDump(b: Bytes, range: FasRange, lines: SourceLines): DumpRows {
  if (range.length < 4 || (range.length - 4) % DUMP_ROW_SIZE !== 0) {
    b.fail(44, 'assembly dump length', `${range.length} is not 4 + a multiple of ${DUMP_ROW_SIZE}`);
  }
  const count = (range.length - 4) / DUMP_ROW_SIZE;
  const buf = b.buf;
  const rows: DumpRows = {
    count,
    outputOffset: new Uint32Array(count),
    line: new Uint32Array(count),
    addressLo: new Uint32Array(count),
    addressHi: new Uint32Array(count),
    addressTop: new Uint8Array(count),
    sib: new Uint32Array(count),
    relativeTo: new Uint32Array(count),
    valueType: new Int8Array(count),
    bits: new Uint8Array(count),
    flags: new Uint8Array(count),
    endOffset: u32At(buf, range.offset + range.length - 4),
  };
  let lastRel = -1;
  let lastLine = 0;
  for (let i = 0, p = range.offset; i < count; i++, p += DUMP_ROW_SIZE) {
    rows.outputOffset[i] = u32At(buf, p);
    const rel = u32At(buf, p + 4);
    // Consecutive rows usually name the same or the next line: skip the binary search then.
    let li: number;
    if (rel === lastRel) li = lastLine;
    else if (lastLine + 1 < lines.count && lines.offsets[lastLine + 1] === rel) li = lastLine + 1;
    else li = findLine(lines, rel);
    if (li < 0)
      b.fail(p + 4, 'dump row line offset', `0x${rel.toString(16)} is not the start of a preprocessed line`);
    lastRel = rel;
    lastLine = li;
    rows.line[i] = li;
    rows.addressLo[i] = u32At(buf, p + 8);
    rows.addressHi[i] = u32At(buf, p + 12);
    rows.sib[i] = u32At(buf, p + 16);
    rows.relativeTo[i] = u32At(buf, p + 20);
    rows.valueType[i] = buf[p + 24];
    const bits = buf[p + 25];
    if (bits !== 16 && bits !== 32 && bits !== 64)
      b.fail(p + 25, 'dump row code type', `${bits} is not 16, 32 or 64`);
    rows.bits[i] = bits;
    rows.flags[i] = buf[p + 26];
    rows.addressTop[i] = buf[p + 27];
  }
  return rows;
}

/** Symbol references dump: pairs (symbol record offset, dump row offset), as two arrays of indices. */
export interface SymbolReferences {
  symbol: Uint32Array;
  row: Uint32Array;
}

export function readSymbolReferences(
  b: Bytes,
  range: FasRange | undefined,
  symbolsRange: FasRange,
  dumpRange: FasRange | undefined,
  rowCount: number,
): SymbolReferences {
  if (!range || !dumpRange) return { symbol: new Uint32Array(0), row: new Uint32Array(0) };
  if (range.length % 8 !== 0)
    b.fail(60, 'symbol references length', `${range.length} is not a multiple of 8`);
  const n = range.length / 8;
  const symbol = new Uint32Array(n);
  const row = new Uint32Array(n);
  const symbolCount = symbolsRange.length / 32;
  for (let i = 0, p = range.offset; i < n; i++, p += 8) {
    const s = u32At(b.buf, p);
    const r = u32At(b.buf, p + 4);
    if (s % 32 !== 0 || s / 32 >= symbolCount)
      b.fail(p, 'symbol reference symbol offset', `0x${s.toString(16)} is not a symbol record`);
    if (r % DUMP_ROW_SIZE !== 0 || r / DUMP_ROW_SIZE >= rowCount) {
      b.fail(p + 4, 'symbol reference row offset', `0x${r.toString(16)} is not a dump row`);
    }
    symbol[i] = s / 32;
    row[i] = r / DUMP_ROW_SIZE;
  }
  return { symbol, row };
}
