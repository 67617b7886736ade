export { assemble, findFasm, parseFasmError, FasmError } from './fasm-runner';
export type { AssembleOptions, AssembleResult, FasmCommand, FasmErrorSite } from './fasm-runner';
export { writeFileAtomic } from './atomic-write';
