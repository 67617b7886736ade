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
    /** With the JIT (the default mode). */
    mips: number;
    /** The same run with the JIT off (FASMCOV_JIT=0). */
    mipsInterpreter: number;
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

/** Runs the emulated build with the JIT on or off; returns its stdout, instructions and seconds. */
function runEmulated(exe: string, jit: boolean): { output: Buffer; instructions: number; seconds: number } {
  const saved = process.env.FASMCOV_JIT;
  process.env.FASMCOV_JIT = jit ? '1' : '0';
  try {
    const output: Buffer[] = [];
    const bytes = fs.readFileSync(exe);
    const t0 = process.hrtime.bigint();
    const run = runLinuxExecutable(bytes, exe, {
      argv: [exe],
      stdio: { readStdin: () => 0, write: (_fd, b) => void output.push(Buffer.from(b)) },
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { output: Buffer.concat(output), instructions: run.instructions, seconds };
  } finally {
    if (saved === undefined) delete process.env.FASMCOV_JIT;
    else process.env.FASMCOV_JIT = saved;
  }
}

const mipsOf = (instructions: number, seconds: number): number =>
  Math.round(instructions / seconds / 1e4) / 100;

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
  // MIPS and emulated s are with the JIT (the default); interp MIPS is the same run with FASMCOV_JIT=0.
  log(
    `${'workload'.padEnd(16)} ${'instructions'.padStart(14)} ${'MIPS'.padStart(8)} ${'interp MIPS'.padStart(12)} ` +
      `${'JIT speed-up'.padStart(13)} ${'emulated s'.padStart(12)} ${'native s'.padStart(10)} ${'emulated/native'.padStart(18)}`,
  );
  const results: EmulatorBenchResult['workloads'] = [];
  try {
    for (const w of workloads) {
      const repeat = Math.max(1, Math.round(w.repeat * scale));
      const emulatedExe = builder.build('emulated', w, repeat);
      const interp = runEmulated(emulatedExe, false);
      const run = runEmulated(emulatedExe, true);
      const emulatedSeconds = run.seconds;
      const same = runNative(builder.build('native', w, repeat)).stdout;
      for (const [mode, r] of [
        ['interpreter', interp],
        ['JIT', run],
      ] as const)
        if (!same.equals(r.output))
          throw new BenchError(
            `${w.name}: emulated checksum (${mode}) ${r.output.toString('hex')} differs from native ${same.toString('hex')}`,
          );
      if (interp.instructions !== run.instructions)
        throw new BenchError(
          `${w.name}: ${interp.instructions} instructions interpreted, ${run.instructions} with the JIT`,
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
        mips: mipsOf(run.instructions, emulatedSeconds),
        mipsInterpreter: mipsOf(interp.instructions, interp.seconds),
        nativeRatio: Math.round(emulatedSeconds / nativeSeconds),
        emulatedSeconds: Math.round(emulatedSeconds * 1000) / 1000,
        nativeSeconds: Math.round(nativeSeconds * 1e6) / 1e6,
      };
      results.push(r);
      log(
        `${r.name.padEnd(16)} ${String(r.instructions).padStart(14)} ${r.mips.toFixed(2).padStart(8)} ` +
          `${r.mipsInterpreter.toFixed(2).padStart(12)} ${(r.mips / r.mipsInterpreter).toFixed(2).padStart(12)}x ` +
          `${r.emulatedSeconds.toFixed(3).padStart(12)} ${r.nativeSeconds.toFixed(4).padStart(10)} ` +
          `${String(r.nativeRatio).padStart(17)}x`,
      );
    }
  } finally {
    fs.rmSync(builder.dir, { recursive: true, force: true });
  }
  return { native: NATIVE_DEFINITION, workloads: results };
}
