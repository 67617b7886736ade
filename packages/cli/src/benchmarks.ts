import * as path from 'node:path';
import { runFasBench } from '@fasmcov/fas';
import { runReportBench, runTraceBench } from '@fasmcov/report';
import { runCpuBench, runEmulatorBench, runFsBench } from '@fasmcov/tracer';

/**
 * Registry of benchmarks for `fasmcov bench [name...]` / `npm run bench -- [name...]`.
 * Each package contributes entries; a benchmark prints its own human-readable lines through
 * `log` and returns a JSON-able result for `--json`.
 */
export interface BenchContext {
  log: (line: string) => void;
  /** Extra arguments after the benchmark name (e.g. sizes), as given. */
  args: string[];
}

export interface Benchmark {
  name: string;
  describe: string;
  run: (ctx: BenchContext) => Promise<unknown>;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'fas',
    describe: 'parse a kernel-sized .fas and build its indexes [units] [runs]',
    run: async (ctx) => runFasBench(path.resolve(__dirname, '../../..'), ctx.log, ctx.args),
  },
  {
    name: 'trace',
    describe:
      'branch recorders (edges, LBR, PT) vs none on kernel-like workloads; PT decode [scale] [rounds]',
    run: async (ctx) => runTraceBench({ ...ctx, repo: path.resolve(__dirname, '../../..') }),
  },
  {
    name: 'report',
    describe:
      'lcov + asm-html report of a synthetic kernel-sized input (≥ 30 MB .fas) and of the demo runs, vs genhtml [procs] [tests]',
    run: async (ctx) => runReportBench(path.resolve(__dirname, '../../..'), ctx.log, ctx.args),
  },
  {
    name: 'interp',
    describe:
      'IA-32 interpreter alone (no loader, no syscalls): CRC32 table loop, insertion sort, rep movsd [repeats]',
    run: runCpuBench,
  },
  {
    name: 'fs',
    describe:
      'the bundled kernel reads a 64 MiB file (read70, 1 MiB calls) on FAT32 and ext2: MB/s, instructions/byte',
    run: async (ctx) => runFsBench(path.resolve(__dirname, '../../..'), ctx.log),
  },
  {
    name: 'cpu',
    describe: 'emulated vs native fasm workloads (crc32, rep-movs, insertion-sort) [scale] [workload...]',
    run: async (ctx) => {
      const scale = ctx.args.length && !Number.isNaN(Number(ctx.args[0])) ? Number(ctx.args[0]) : 1;
      const only = ctx.args.filter((a) => Number.isNaN(Number(a)));
      return runEmulatorBench({ log: ctx.log, scale, only });
    },
  },
];
