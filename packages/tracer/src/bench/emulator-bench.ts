import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { runLinuxExecutable } from '../linux';
import { BENCH_ASM_DIR, CPU_WORKLOADS, type CpuWorkload, NATIVE_DEFINITION } from './workloads';

export interface EmulatorBenchResult {
  native: string;
  workloads: Array<{
    name: string;
    instructions: number;
    mips: number;
    nativeRatio: number;
    emulatedSeconds: number;
    nativeSeconds: number;
  }>;
}

export interface EmulatorBenchOptions {
  log?: (line: string) => void;
  /** Multiplies every workload's pass count (e.g. 0.05 for a quick check). */
  scale?: number;
  /** Workload names to run (default all). */
  only?: string[];
}

export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

const MARKER = Buffer.from('FASMCOV-PASSES:', 'latin1');

/** Builds each workload once per kind; pass counts are patched into copies of the file. */
class Builder {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-bench-'));
  private readonly built = new Map<string, Buffer>();

  build(kind: 'emulated' | 'native', w: CpuWorkload, repeat: number): string {
    const key = `${kind}-${w.name}`;
    let bytes = this.built.get(key);
    if (!bytes) {
      const out = path.join(this.dir, key);
      assemble(path.join(BENCH_ASM_DIR, `${kind}.asm`), {
        output: out,
        defines: [['WORKLOAD', String(w.id)]],
      });
      bytes = fs.readFileSync(out);
      this.built.set(key, bytes);
    }
    const at = bytes.indexOf(MARKER);
    if (at < 0) throw new BenchError(`${key}: pass-count marker not found`);
    const copy = Buffer.from(bytes);
    copy.writeUInt32LE(repeat, at + MARKER.length);
    const out = path.join(this.dir, `${key}-${repeat}`);
    fs.writeFileSync(out, copy, { mode: 0o755 });
    return out;
  }
}

/** Runs a native build; returns its seconds and its stdout (the checksum). */
function runNative(exe: string): { seconds: number; stdout: Buffer } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, [], { maxBuffer: 1024 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || r.status !== 0)
    throw new BenchError(`native run of ${exe} failed: ${r.error?.message ?? r.status}`);
  return { seconds, stdout: r.stdout };
}

function best(exe: string, runs = 3): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, runNative(exe).seconds);
  return min;
}

/**
 * Emulator throughput on fasm workloads, against the same bodies run natively (64-bit build).
 * Checks that both produce the same checksum, so the emulator's results are verified as well.
 */
export function runEmulatorBench(opts: EmulatorBenchOptions = {}): EmulatorBenchResult {
  const log = opts.log ?? (() => undefined);
  const scale = opts.scale ?? 1;
  const builder = new Builder();
  const workloads = CPU_WORKLOADS.filter((w) => !opts.only?.length || opts.only.includes(w.name));
  if (!workloads.length)
    throw new BenchError(`no such workload (have: ${CPU_WORKLOADS.map((w) => w.name).join(', ')})`);
  log(`emulator: emulated = use32 build run by the fasmcov emulator; ${NATIVE_DEFINITION}.`);
  log('workload           instructions     MIPS   emulated s   native s   emulated/native');
  const results: EmulatorBenchResult['workloads'] = [];
  try {
    for (const w of workloads) {
      const repeat = Math.max(1, Math.round(w.repeat * scale));
      const emulatedExe = builder.build('emulated', w, repeat);
      const output: Buffer[] = [];
      const bytes = fs.readFileSync(emulatedExe);
      const t0 = process.hrtime.bigint();
      const run = runLinuxExecutable(bytes, emulatedExe, {
        argv: [emulatedExe],
        stdio: { readStdin: () => 0, write: (_fd, b) => void output.push(Buffer.from(b)) },
      });
      const emulatedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const same = runNative(builder.build('native', w, repeat)).stdout;
      if (!same.equals(Buffer.concat(output)))
        throw new BenchError(
          `${w.name}: emulated checksum ${Buffer.concat(output).toString('hex')} differs from native ${same.toString('hex')}`,
        );
      // Enough native passes that the difference of two runs dwarfs start-up noise.
      const k = repeat * 20;
      const perPass = Math.max(
        (best(builder.build('native', w, 2 * k)) - best(builder.build('native', w, k))) / k,
        1e-9,
      );
      const nativeSeconds = perPass * repeat;
      const r = {
        name: w.name,
        instructions: run.instructions,
        mips: Math.round(run.instructions / emulatedSeconds / 1e4) / 100,
        nativeRatio: Math.round(emulatedSeconds / nativeSeconds),
        emulatedSeconds: Math.round(emulatedSeconds * 1000) / 1000,
        nativeSeconds: Math.round(nativeSeconds * 1e6) / 1e6,
      };
      results.push(r);
      log(
        `${r.name.padEnd(16)} ${String(r.instructions).padStart(14)} ${r.mips.toFixed(2).padStart(8)} ` +
          `${r.emulatedSeconds.toFixed(3).padStart(12)} ${r.nativeSeconds.toFixed(4).padStart(10)} ` +
          `${String(r.nativeRatio).padStart(17)}x`,
      );
    }
  } finally {
    fs.rmSync(builder.dir, { recursive: true, force: true });
  }
  return { native: NATIVE_DEFINITION, workloads: results };
}
