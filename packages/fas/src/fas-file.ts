import * as fs from 'node:fs';
import * as path from 'node:path';
import { FasFormatError } from './errors';
import {
  buildAddressIndex,
  buildOutputIndex,
  lookup,
  rowAddress,
  rowLengths,
  type AddressIndex,
} from './internal/address-index';
import { Bytes, u32At } from './internal/bytes';
import {
  DumpFlag,
  readDump,
  readSymbolReferences,
  type DumpRows,
  type SymbolReferences,
} from './internal/dump';
import { readHeader, type FasHeader } from './internal/header';
import { findLine, lineText, readSourceLines, type SourceLines } from './internal/source-lines';
import { readSectionNames, StringTable } from './internal/strings';
import type { ResolveOptions } from './include-paths';
import { mapSourceFiles } from './source-files';
import { checkSymbolLines, readSymbol, readSymbols, SymbolFlag, type RawSymbol } from './internal/symbols';
import type {
  CodeRow,
  FasAddress,
  FasSymbol,
  FileSummary,
  MacroStep,
  SourceFile,
  SourceLocation,
} from './model';

const HIGH_BIT = 0x80000000;

/** Options of `FasFile.read` / `FasFile.parse`. */
export type FasReadOptions = ResolveOptions;

/**
 * A parsed `.fas` file with the queries every later stage uses: address or output offset to
 * source line (with the macro chain), code-producing lines per file, symbols by name and
 * address, the files fasm read. Parsing checks every offset and count; any inconsistency throws
 * `FasFormatError`.
 */
export class FasFile {
  readonly header: FasHeader;
  /** Main input and output file names as written on fasm's command line. */
  readonly inputName: string;
  readonly outputName: string;
  /** Section names of an object file (index 0 is section 1); empty for binary/executable output. */
  readonly sections: string[];
  /** Files fasm read, main file first. */
  readonly files: SourceFile[];
  /** False when fasm failed before assembling: only the preprocessed source is known. */
  readonly assembled: boolean;
  /** Output offset at which assembly ended. */
  readonly endOffset: number;

  private readonly bytes: Bytes;
  private readonly strings: StringTable;
  private readonly lines: SourceLines;
  private readonly rows: DumpRows;
  private readonly lengths: Uint32Array;
  /** Per preprocessed line: the file line holding its text (itself, or up the macro definition). */
  private readonly home: Uint32Array;
  /** Per preprocessed line: index in `files`. */
  private readonly fileOfLine: Uint32Array;
  private readonly refs: SymbolReferences;
  private addressIndex?: AddressIndex;
  private outputIndex?: Uint32Array;
  private symbolList?: FasSymbol[];
  private byName?: Map<string, number>;
  private readonly locations = new Map<number, SourceLocation>();

  /** Reads and parses a `.fas` file; names in errors are `file` as given. */
  static read(file: string, opts: FasReadOptions = {}): FasFile {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      throw new FasFormatError(file, 0, 'file', (e as Error).message.split('\n')[0]);
    }
    return new FasFile(file, buf, opts);
  }

  /** Parses bytes already in memory; `file` names the data in errors and locates relative names. */
  static parse(file: string, data: Uint8Array, opts: FasReadOptions = {}): FasFile {
    return new FasFile(file, data, opts);
  }

  private constructor(
    readonly file: string,
    data: Uint8Array,
    opts: FasReadOptions,
  ) {
    const b = (this.bytes = new Bytes(file, data));
    this.header = readHeader(b);
    this.strings = new StringTable(b, this.header.strings);
    this.inputName = this.strings.get(this.header.inputNameOffset, 'input file name');
    this.outputName = this.strings.get(this.header.outputNameOffset, 'output file name');
    this.sections = readSectionNames(b, this.header.sectionNames, this.strings);
    this.lines = readSourceLines(b, this.header.source);
    // Checked now so that a bad reference fails the parse, not a later query.
    checkSymbolLines(b, this.header.symbols, this.lines);
    this.assembled = this.header.dump !== undefined;
    this.rows = this.header.dump ? readDump(b, this.header.dump, this.lines) : emptyRows();
    this.endOffset = this.rows.endOffset;
    this.lengths = rowLengths(this.rows, (r) => this.isFormatLine(this.rows.line[r]));
    this.refs = readSymbolReferences(
      b,
      this.header.symbolReferences,
      this.header.symbols,
      this.header.dump,
      this.rows.count,
    );
    const n = this.lines.count;
    this.home = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.home[i] = this.lines.generated[i] ? this.home[this.lines.defLine[i]] : i;
    const fasDir = path.dirname(path.resolve(file));
    ({ files: this.files, fileOfLine: this.fileOfLine } = mapSourceFiles(
      b,
      this.lines,
      this.home,
      this.inputName,
      fasDir,
      opts,
    ));
  }

  /** Whether a line is the `format` directive (its row's output bytes are the file header). */
  private isFormatLine(lineIndex: number): boolean {
    const buf = this.bytes.buf;
    const t = this.lines.tokens[lineIndex];
    if (t + 8 > buf.length || buf[t] !== 0x1a || buf[t + 1] !== 6) return false;
    return (
      Buffer.from(buf.buffer, buf.byteOffset + t + 2, 6)
        .toString('latin1')
        .toLowerCase() === 'format'
    );
  }

  /** Number of preprocessed lines. */
  get lineCount(): number {
    return this.lines.count;
  }

  /** Number of assembly dump rows. */
  get rowCount(): number {
    return this.rows.count;
  }

  /** Whether addresses are section-relative (object file output). */
  get relocatable(): boolean {
    return this.sections.length > 0;
  }

  /** The source of preprocessed line `lineIndex`: file, line, and the macro chain (cached). */
  locate(lineIndex: number): SourceLocation {
    const hit = this.locations.get(lineIndex);
    if (hit) return hit;
    const L = this.lines;
    if (!(lineIndex >= 0 && lineIndex < L.count)) throw new RangeError(`no preprocessed line ${lineIndex}`);
    const h = this.home[lineIndex];
    const chain: MacroStep[] = [];
    // Every reference points to an earlier line, so this walk ends.
    for (let i = lineIndex; L.generated[i];) {
      const inv = L.field8[i];
      const macro = this.bytes.pstring(L.base + L.field0[i], 'macro name', L.base, L.base + L.offsets[i]);
      // An instantaneous macro (rept, irp...) names its body line as the invoker: no extra step.
      if (inv !== L.defLine[i])
        chain.push({ file: this.files[this.fileOfLine[inv]], line: L.numbers[this.home[inv]], macro });
      i = inv;
    }
    const loc: SourceLocation = {
      file: this.files[this.fileOfLine[h]],
      line: L.numbers[h],
      chain,
      lineIndex,
    };
    this.locations.set(lineIndex, loc);
    return loc;
  }

  /** The tokens of a preprocessed line rendered back to text (for display). */
  lineText(lineIndex: number): string {
    return lineText(this.bytes, this.lines, lineIndex, this.header.source.offset + this.header.source.length);
  }

  /** Decodes dump row `i`. */
  row(i: number): CodeRow {
    const R = this.rows;
    const rel = R.relativeTo[i];
    const li = R.line[i];
    const h = this.home[li];
    const r: CodeRow = {
      row: i,
      lineIndex: li,
      file: this.fileOfLine[h],
      line: this.lines.numbers[h],
      section: rel & HIGH_BIT ? 0 : rel,
      address: rowAddress(R, i),
      outputOffset: R.outputOffset[i],
      length: this.lengths[i],
      bits: R.bits[i] as 16 | 32 | 64,
      virtual: (R.flags[i] & DumpFlag.virtual) !== 0,
      notInOutput: (R.flags[i] & DumpFlag.notInOutput) !== 0,
    };
    if (rel & HIGH_BIT) r.external = this.strings.get(rel & 0x7fffffff, 'dump row external name');
    return r;
  }

  /** Index of the row whose output bytes cover `address` (`section` 0: absolute), or -1. */
  rowAt(address: number | FasAddress): number {
    const a = typeof address === 'number' ? { section: 0, offset: address } : address;
    this.addressIndex ??= buildAddressIndex(this.rows, this.lengths);
    return lookup(this.addressIndex, this.lengths, a.section, a.offset);
  }

  /** The source of the instruction or data covering `address`, or undefined. */
  findAddress(address: number | FasAddress): SourceLocation | undefined {
    const r = this.rowAt(address);
    return r < 0 ? undefined : this.locate(this.rows.line[r]);
  }

  /** Index of the row that wrote output-file byte `offset`, or -1. */
  rowAtOutputOffset(offset: number): number {
    this.outputIndex ??= buildOutputIndex(this.rows, this.lengths);
    const ix = this.outputIndex;
    let lo = 0;
    let hi = ix.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows.outputOffset[ix[mid]] <= offset) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return -1;
    const r = ix[best];
    return offset < this.rows.outputOffset[r] + this.lengths[r] ? r : -1;
  }

  /** The source of output-file byte `offset`, or undefined. */
  findOutputOffset(offset: number): SourceLocation | undefined {
    const r = this.rowAtOutputOffset(offset);
    return r < 0 ? undefined : this.locate(this.rows.line[r]);
  }

  /**
   * Rows that produced bytes (length > 0, virtual ones included and flagged), in assembly
   * order; only those whose text is in file `file` when given.
   */
  codeRows(file?: number): CodeRow[] {
    const out: CodeRow[] = [];
    for (let i = 0; i < this.rows.count; i++) {
      if (this.lengths[i] === 0) continue;
      if (file !== undefined && this.fileOfLine[this.rows.line[i]] !== file) continue;
      out.push(this.row(i));
    }
    return out;
  }

  /**
   * The code-producing lines of file `file`, ascending, each with its rows (several when the
   * line was assembled several times: `repeat`, a macro body invoked from many places).
   */
  codeLines(file: number): Array<{ line: number; rows: CodeRow[] }> {
    const byLine = new Map<number, CodeRow[]>();
    for (const r of this.codeRows(file)) {
      const list = byLine.get(r.line);
      if (list) list.push(r);
      else byLine.set(r.line, [r]);
    }
    return [...byLine].sort((a, b) => a[0] - b[0]).map(([line, rows]) => ({ line, rows }));
  }

  /** Lines, code-producing lines and output bytes per file. */
  summary(): FileSummary[] {
    const sums = this.files.map((file) => ({ file, lines: 0, codeLines: 0, bytes: 0 }));
    const L = this.lines;
    for (let i = 0; i < L.count; i++) if (!L.generated[i]) sums[this.fileOfLine[i]].lines++;
    const seen = new Uint8Array(L.count);
    for (let i = 0; i < this.rows.count; i++) {
      if (this.lengths[i] === 0 || this.rows.flags[i] !== 0) continue;
      const h = this.home[this.rows.line[i]];
      const s = sums[this.fileOfLine[h]];
      s.bytes += this.lengths[i];
      if (!seen[h]) {
        seen[h] = 1;
        s.codeLines++;
      }
    }
    return sums;
  }

  /** Every symbol of the symbol table (defined or not; see `defined`). */
  get symbols(): FasSymbol[] {
    return (this.symbolList ??= readSymbols(this.bytes, this.header.symbols).map((s) =>
      this.decodeSymbol(s),
    ));
  }

  /** The defined symbol with this full name (e.g. `start.loop`), or undefined. */
  symbol(name: string): FasSymbol | undefined {
    if (!this.byName) {
      // Names only: decoding every record (bigint values) is left to `symbols`.
      this.byName = new Map();
      const { offset, length } = this.header.symbols;
      const buf = this.bytes.buf;
      for (let p = offset, k = 0; p < offset + length; p += 32, k++) {
        if ((buf[p + 8] & SymbolFlag.defined) === 0) continue;
        const n = this.symbolName(u32At(buf, p + 24));
        if (!this.byName.has(n)) this.byName.set(n, k);
      }
    }
    const k = this.byName.get(name);
    return k === undefined ? undefined : this.symbolAt(k);
  }

  /** Symbol `k` of the table (in table order, as `symbols` lists them). */
  symbolAt(k: number): FasSymbol {
    if (this.symbolList) return this.symbolList[k];
    if (!(k >= 0 && k < this.header.symbols.length / 32)) throw new RangeError(`no symbol ${k}`);
    return this.decodeSymbol(readSymbol(this.bytes, this.header.symbols, k));
  }

  /** Defined labels whose value is `address` in `section` (0: absolute). */
  symbolsAt(address: number | FasAddress): FasSymbol[] {
    const a = typeof address === 'number' ? { section: 0, offset: address } : address;
    return this.symbols.filter(
      (s) => s.defined && !s.external && s.section === a.section && s.address === a.offset,
    );
  }

  /** Symbol references: for each, the symbol index and the dump row where it was used. */
  get symbolReferences(): ReadonlyArray<{ symbol: number; row: number }> {
    return Array.from(this.refs.symbol, (symbol, k) => ({ symbol, row: this.refs.row[k] }));
  }

  private symbolName(ref: number): string {
    if (ref & HIGH_BIT) return this.strings.get(ref & 0x7fffffff, 'symbol name');
    const L = this.lines;
    return ref === 0
      ? ''
      : this.bytes.pstring(L.base + ref, 'symbol name', L.base, L.base + this.header.source.length);
  }

  private decodeSymbol(s: RawSymbol): FasSymbol {
    const L = this.lines;
    const name = this.symbolName(s.nameRef);
    const value = s.flags & SymbolFlag.negative ? BigInt.asIntN(64, s.value) : s.value;
    const sym: FasSymbol = {
      name,
      value,
      address: Number(value),
      flags: s.flags,
      defined: (s.flags & SymbolFlag.defined) !== 0,
      used: (s.flags & SymbolFlag.used) !== 0,
      assemblyVariable: (s.flags & SymbolFlag.assemblyVariable) !== 0,
      size: s.size,
      valueType: s.valueType,
      section: 0,
      lineIndex: findLine(L, s.lineOffset),
      recordOffset: s.at,
    };
    if (s.valueType !== 0) {
      if (s.relativeTo & HIGH_BIT)
        sym.external = this.strings.get(s.relativeTo & 0x7fffffff, 'symbol external name');
      else {
        sym.section = s.relativeTo;
        sym.sectionName = this.sections[s.relativeTo - 1];
      }
    }
    return sym;
  }
}

function emptyRows(): DumpRows {
  const z = new Uint32Array(0);
  return {
    count: 0,
    outputOffset: z,
    line: z,
    addressLo: z,
    addressHi: z,
    addressTop: new Uint8Array(0),
    sib: z,
    relativeTo: z,
    valueType: new Int8Array(0),
    bits: new Uint8Array(0),
    flags: new Uint8Array(0),
    endOffset: 0,
  };
}
