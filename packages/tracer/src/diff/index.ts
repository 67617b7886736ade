export { runBatch, formatMismatch, nativeSource, emulatedSource, COMPARED_FLAGS } from './harness';
export type { BatchOptions, BatchResult, Mismatch } from './harness';
export { CaseGenerator, DATA_BASE, DATA_SIZE, DATA_EBP } from './generator';
export type { DiffCase } from './generator';
export { Prng } from './prng';
