/** A source file fasm read, merged by resolved path (one entry even if included twice). */
export interface SourceFile {
  /** Index in `FasFile.files`; 0 is the main input file. */
  index: number;
  /**
   * The name fasm recorded: the main file as given on its command line; an included file as the
   * path fasm opened (the `include` operand joined with the includer's or an INCLUDE directory).
   */
  name: string;
  /** Every other spelling that resolved to the same path (e.g. `a.inc` and `./a.inc`). */
  aliases: string[];
  /** Absolute path: `name` resolved against fasm's cwd (see `ResolveOptions`), else other guesses. */
  path: string;
  /** Whether `path` exists on this machine (false: the best guess is given). */
  exists: boolean;
  /** The file and 1-based line of the first `include` that read it (absent for the main file). */
  includedFrom?: { file: number; line: number };
}

/** One step of a macro chain: the line that invoked a macro, and the macro's name. */
export interface MacroStep {
  file: SourceFile;
  line: number;
  macro: string;
}

/** Where a preprocessed line comes from. */
export interface SourceLocation {
  /** File and 1-based line holding the text (inside the macro body for generated lines). */
  file: SourceFile;
  line: number;
  /** Invocations that produced it, innermost first; empty for a plain file line. */
  chain: MacroStep[];
  /** Index of the preprocessed line. */
  lineIndex: number;
}

/**
 * An address as the later stages use it: `section` 0 means absolute (binary and executable
 * formats); otherwise the 1-based index of a section of the object file, and `offset` is
 * relative to that section's start (the loader decides its base).
 */
export interface FasAddress {
  section: number;
  offset: number;
}

/** One row of the assembly dump, decoded: a line assembled at an address. */
export interface CodeRow {
  /** Index of the dump row. */
  row: number;
  /** Preprocessed line and the file/line holding its text. */
  lineIndex: number;
  file: number;
  line: number;
  /** 0 for absolute addresses, else the 1-based section index. */
  section: number;
  /** Set when `$` is relative to an external symbol rather than a section. */
  external?: string;
  /** `$` when the line started (section-relative when `section` > 0); exact below 2^53. */
  address: number;
  outputOffset: number;
  /** Bytes the line produced: in the output file, or of address space for virtual/reserved rows. */
  length: number;
  bits: 16 | 32 | 64;
  /** Assembled inside `virtual`: `outputOffset` means nothing. */
  virtual: boolean;
  /** Assembled at a point not written to the output (e.g. reserved data at the end). */
  notInOutput: boolean;
}

/** A symbol of the symbol table, decoded. */
export interface FasSymbol {
  /** Full name (`start.l?0` for the generated name of a `local`); '' for anonymous labels. */
  name: string;
  /** Value as fasm computed it (two's complement applied when flagged negative). */
  value: bigint;
  /** `value` as a number (exact below 2^53): the label's address or offset in its section. */
  address: number;
  flags: number;
  defined: boolean;
  used: boolean;
  assemblyVariable: boolean;
  /** Size of the labelled data (0 for plain labels). */
  size: number;
  /** Value type of table 2.2 (negative: negated); nonzero means relocatable. */
  valueType: number;
  /** 1-based section index when relative to a section, else 0. */
  section: number;
  sectionName?: string;
  /** Name of the external symbol the value is relative to. */
  external?: string;
  /** Index of the defining preprocessed line (see `FasFile.locate`). */
  lineIndex: number;
  /** Offset of the symbol record in the file. */
  recordOffset: number;
}

/** Per-file counts for summaries. */
export interface FileSummary {
  file: SourceFile;
  /** Preprocessed lines read from this file (plain file lines, not macro-generated). */
  lines: number;
  /** Distinct lines of this file that produced bytes (directly or through macros). */
  codeLines: number;
  /** Output bytes produced by those lines (virtual and non-output rows excluded). */
  bytes: number;
}
