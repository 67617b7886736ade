export { assemble, findFasm, parseFasmError, FasmError } from './fasm-runner';
export type { AssembleOptions, AssembleResult, FasmCommand, FasmErrorSite } from './fasm-runner';
export { writeFileAtomic } from './atomic-write';
export { FasFile } from './fas-file';
export type { FasReadOptions } from './fas-file';
export { FasFormatError } from './errors';
export type { ResolveOptions } from './include-paths';
export type {
  CodeRow,
  FasAddress,
  FasSymbol,
  FileSummary,
  MacroStep,
  SourceFile,
  SourceLocation,
} from './model';
export type { FasHeader, FasRange } from './internal/header';
export { runFasBench } from './bench/fas-bench';
export type { FasBenchResult } from './bench/fas-bench';
export { generateSource as generateFasBenchSource } from './bench/generate';
