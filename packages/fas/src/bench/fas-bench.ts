import * as fs from 'node:fs';
import * as path from 'node:path';
import { FasFile } from '../fas-file';
import { assemble } from '../fasm-runner';
import { generateSource } from './generate';

export interface FasBenchResult {
  fas: string;
  bytes: number;
  lines: number;
  rows: number;
  symbols: number;
  runs: number;
  /** Parse + all indexes, per run, in ms. */
  ms: number[];
  medianMs: number;
  mbPerSecond: number;
}

/** Generates (once, cached under .cache/bench-fas) the synthetic source and its `.fas`. */
export function benchFas(root: string, units: number): string {
  const dir = path.join(root, '.cache/bench-fas');
  const fas = path.join(dir, `kernel-like-${units}.fas`);
  if (fs.existsSync(fas)) return fas;
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(dir, `kernel-like-${units}.asm`);
  fs.writeFileSync(src, generateSource(units));
  const tmp = `${fas}.${process.pid}.tmp`;
  assemble(src, { output: path.join(dir, `kernel-like-${units}.bin`), symbols: tmp, memoryKiB: 1 << 20 });
  fs.renameSync(tmp, fas);
  return fas;
}

/**
 * `fasmcov bench fas [units] [runs]`: times parsing a kernel-sized `.fas` and building every
 * index the queries use (address, output offset, symbol names, per-file summary).
 */
export function runFasBench(root: string, log: (line: string) => void, args: string[]): FasBenchResult {
  const units = Number(args[0] ?? 9200);
  const runs = Number(args[1] ?? 5);
  const file = benchFas(root, units);
  const data = new Uint8Array(fs.readFileSync(file));
  const ms: number[] = [];
  let f: FasFile | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f = FasFile.parse(file, data);
    f.rowAt(0);
    f.rowAtOutputOffset(0);
    f.symbol('');
    f.summary();
    ms.push(performance.now() - t0);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const medianMs = sorted[Math.floor(sorted.length / 2)];
  const res: FasBenchResult = {
    fas: path.relative(root, file),
    bytes: data.length,
    lines: f!.lineCount,
    rows: f!.rowCount,
    symbols: f!.symbols.length,
    runs,
    ms: ms.map((x) => Math.round(x * 10) / 10),
    medianMs: Math.round(medianMs * 10) / 10,
    mbPerSecond: Math.round((data.length / 1e6 / (medianMs / 1000)) * 10) / 10,
  };
  log(
    `fas: ${res.fas}: ${(res.bytes / 1e6).toFixed(1)} MB, ${res.lines} lines, ${res.rows} dump rows, ${res.symbols} symbols`,
  );
  log(
    `fas: parse + indexes: median ${res.medianMs} ms over ${runs} runs (${res.ms.join(', ')}), ${res.mbPerSecond} MB/s`,
  );
  return res;
}
