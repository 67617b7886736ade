export {
  runBatch,
  formatMismatch,
  nativeSource,
  emulatedSource,
  hostBitScanMode,
  COMPARED_FLAGS,
} from './harness';
export type { BatchOptions, BatchResult, Mismatch } from './harness';
export { CaseGenerator, DATA_BASE, DATA_SIZE, DATA_EBP } from './generator';
export type { BitScanMode, DiffCase, GeneratorOptions } from './generator';
export { Prng } from './prng';
