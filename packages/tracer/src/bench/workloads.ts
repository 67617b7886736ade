import * as path from 'node:path';

/** A benchmark workload: a WORKLOAD number in the shared fasm sources under `asm/`. */
export interface CpuWorkload {
  name: string;
  id: number;
  /** Passes in the emulated run (chosen for 50-100 M emulated instructions, a few seconds each). */
  repeat: number;
  describe: string;
}

export const CPU_WORKLOADS: CpuWorkload[] = [
  { name: 'crc32', id: 1, repeat: 110, describe: 'table-driven CRC-32 over a 64 KiB buffer' },
  { name: 'rep-movs', id: 2, repeat: 3050, describe: 'rep stosd / rep movsd / unaligned rep movsb, 16 KiB' },
  { name: 'insertion-sort', id: 3, repeat: 50, describe: 'insertion sort of 1000 pseudo-random dwords' },
];

/**
 * The fasm sources (kept in src/ and read from there by the built code too, since tsc copies
 * only TypeScript to dist/).
 */
export const BENCH_ASM_DIR = path.resolve(__dirname, '../../src/bench/asm');

export const NATIVE_DEFINITION =
  'native = the same fasm workload body (32-bit registers and operands, no push/pop) assembled ' +
  'with use64 as a format ELF64 executable and run on the real CPU (this machine cannot run ' +
  '32-bit code); its time per pass is (t(2K passes) - t(K passes)) / K, best of 3, which ' +
  'cancels process start-up';
