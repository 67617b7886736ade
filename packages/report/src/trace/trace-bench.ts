// `fasmcov bench trace`: what each branch recorder costs on the emulator, measured side by side on
// kernel-like workloads (the `bench cpu` fasm workloads and the bundled kernel listing a FAT32
// folder), each configuration alternated with the others, run in a process of its own and
// repeated; then PT size on the fs fixtures, and PT size and decode speed on a small loop.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { assemble } from '@fasmcov/fas';
import {
  BufferSink,
  CPU_WORKLOADS,
  Cpu,
  type CpuWorkload,
  Memory,
  PtEncoder,
  RUN_FILE,
  type ScriptLine,
  type RunInfo,
  TRACE_FILE,
  type TraceKind,
  buildKernel,
  classifyInstruction,
  listFixtures,
  prepareFixture,
} from '@fasmcov/tracer';
import { CodeImage } from './code-image';
import { decodeFlow } from './pt-flow-decoder';
import { ptSizeFloor } from './pt-size-floor';
import { BUSY_CORE_ENV, type ChildResult } from './trace-bench-child';
import { type WorkloadSpec, runWorkload, specToJson } from './trace-bench-workload';

interface BenchLog {
  log: (line: string) => void;
  args: string[];
  /** The repository: the workloads' fasm sources, the kernel and the fixtures. */
  repo: string;
}

/**
 * A recorder configuration; `bare` compiles blocks without branch reporting (no recorder
 * possible); `busyCore` runs with no recorder while a thread of the child spins on another core
 * (what a busy second core alone costs the emulator: PT's encoder runs on a worker thread).
 */
interface Config {
  name: string;
  traces: TraceKind[];
  bare?: boolean;
  busyCore?: boolean;
}

const CONFIGS: Config[] = [
  { name: 'none', traces: [] },
  { name: 'no-hook-code', traces: [], bare: true },
  { name: 'busy-core', traces: [], busyCore: true },
  { name: 'edges', traces: ['edges'] },
  { name: 'lbr', traces: ['lbr'] },
  { name: 'pt', traces: ['pt'] },
  { name: 'edges+lbr+pt', traces: ['edges', 'lbr', 'pt'] },
];

/** Runs per child process: the first warms V8 up, the others are timed. */
const RUNS_PER_CHILD = 3;

const MARKER = Buffer.from('FASMCOV-PASSES:', 'latin1');

/** The emulated build of a `bench cpu` workload with its pass count patched in. */
function buildWorkload(repo: string, w: CpuWorkload, passes: number, dir: string): WorkloadSpec {
  const out = path.join(dir, `${w.name}.elf`);
  assemble(path.join(repo, 'packages/tracer/src/bench/asm/emulated.asm'), {
    output: out,
    defines: [['WORKLOAD', String(w.id)]],
  });
  const bytes = fs.readFileSync(out);
  const at = bytes.indexOf(MARKER);
  if (at < 0) throw new Error(`${w.name}: pass-count marker not found`);
  bytes.writeUInt32LE(passes, at + MARKER.length);
  fs.writeFileSync(out, bytes);
  return { kind: 'linux', name: w.name, elf: out };
}

/**
 * The bundled kernel (`object`) running lines of the fs fixture `fixture` (prepared in `dir`):
 * `lines` picks them from the fixture's own (default: all of them).
 */
function fixtureWorkload(
  repo: string,
  object: string,
  fixture: string,
  name: string,
  dir: string,
  lines: (all: ScriptLine[]) => ScriptLine[] = (all) => all,
): WorkloadSpec {
  const f = prepareFixture(
    path.join(repo, 'fixtures/fs', fixture),
    path.join(repo, 'fixtures/images'),
    path.join(dir, `fixture-${fixture}`),
  );
  return {
    kind: 'kernel',
    name,
    object,
    script: f.script,
    imageDir: f.imageDir,
    fileDir: f.fileDir,
    lines: lines(f.lines),
  };
}

/** The bundled kernel runs the fat32-many fixture's listing and reads, `rounds` times over. */
function kernelWorkload(repo: string, object: string, rounds: number, dir: string): WorkloadSpec {
  return fixtureWorkload(repo, object, 'fat32-many', 'kernel-fat32-ls', dir, (all) => {
    const setup = all.filter((l) => l.command.kind === 'disk_add');
    const body = all.filter((l) => l.command.kind !== 'disk_add');
    return [...setup, ...Array.from({ length: rounds }, () => body).flat()];
  });
}

/** Measures `c` on the workload in `specFile` in a new process (FASMCOV_JIT_BRANCHES=0 for `bare`). */
function runChild(specFile: string, c: Config, dir: string): ChildResult {
  const env = { ...process.env };
  if (c.bare) env.FASMCOV_JIT_BRANCHES = '0';
  else delete env.FASMCOV_JIT_BRANCHES;
  if (c.busyCore) env[BUSY_CORE_ENV] = '1';
  else delete env[BUSY_CORE_ENV];
  const child = path.join(__dirname, 'trace-bench-child.js');
  const traces = c.traces.length ? c.traces.join(',') : '-';
  const r = spawnSync(process.execPath, [child, specFile, traces, String(RUNS_PER_CHILD), dir], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(r.stderr.trim() || `bench trace child exited with ${r.status}`);
  return JSON.parse(r.stdout) as ChildResult;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface WorkloadResult {
  instructions: number;
  /** Best ms per configuration (this machine's noise only ever adds time). */
  ms: Record<string, number>;
  /** Best configuration ms / best no-recorder ms - 1. */
  overhead: Record<string, number>;
  /** Median over the rounds of (configuration's best / no-recorder's best in that round) - 1. */
  medianOverhead: Record<string, number>;
  /** Lowest and highest per-round overhead: how far this machine's noise spreads them. */
  overheadRange: Record<string, [number, number]>;
}

/**
 * Every configuration once per round, each in a process of its own, in a rotated order (so none
 * always runs first or right after the same one); checks that every configuration retires the same
 * instructions and prints the same output.
 */
function measure(w: WorkloadSpec, rounds: number, dir: string, log: (l: string) => void): WorkloadResult {
  const specFile = path.join(dir, `${w.name}.json`);
  fs.writeFileSync(specFile, specToJson(w));
  const ms: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  let ref: ChildResult | undefined;
  for (let round = 0; round < rounds; round++) {
    const times = new Map<string, number>();
    for (let j = 0; j < CONFIGS.length; j++) {
      const c = CONFIGS[(j + round) % CONFIGS.length];
      const r = runChild(specFile, c, path.join(dir, `run-${w.name}-${c.name}`));
      ref ??= r;
      if (r.instructions !== ref.instructions || r.output !== ref.output)
        throw new Error(`${w.name} with ${c.name}: the run differs from the one without recorders`);
      times.set(c.name, Math.min(...r.ms));
    }
    const base = times.get('none') as number;
    for (const [name, t] of times) {
      (ms[name] ??= []).push(t);
      (ratios[name] ??= []).push(t / base - 1);
    }
  }
  const result: WorkloadResult = {
    instructions: ref?.instructions ?? 0,
    ms: {},
    overhead: {},
    medianOverhead: {},
    overheadRange: {},
  };
  for (const c of CONFIGS) result.ms[c.name] = Math.min(...ms[c.name]);
  for (const c of CONFIGS) {
    result.overhead[c.name] = result.ms[c.name] / result.ms.none - 1;
    result.medianOverhead[c.name] = median(ratios[c.name]);
    result.overheadRange[c.name] = [Math.min(...ratios[c.name]), Math.max(...ratios[c.name])];
  }
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
  const cells = CONFIGS.map((c) => {
    const o =
      c.name === 'none'
        ? ''
        : ` ${pct(result.overhead[c.name])} (${pct(result.medianOverhead[c.name])}, ` +
          `${result.overheadRange[c.name].map(pct).join('..')})`;
    return `${c.name} ${result.ms[c.name].toFixed(0)} ms${o}`;
  });
  log(`trace: ${w.name.padEnd(16)} ${String(result.instructions).padStart(10)} insns  ${cells.join(', ')}`);
  return result;
}

/** PT bits per traced instruction: the size goal is 0.3 on the fs fixtures. */
const PT_BITS_GOAL = 0.3;

interface PtFixtureSizes {
  fixtures: number;
  bytes: number;
  instructions: number;
  bitsPerInsn: number;
  /** Bits per traced instruction of each fixture. */
  byFixture: Record<string, number>;
  /** Each fixture's floor (ptSizeFloor) in bits per traced instruction. */
  floorByFixture: Record<string, number>;
}

/**
 * PT size on every fs fixture, recorded as `fasmcov run --trace pt` records the uninstrumented
 * kernel (return compression on): trace.pt bytes against run.json's traced instructions.
 */
function ptFixtureSizes(repo: string, object: string, dir: string, log: (l: string) => void): PtFixtureSizes {
  const r: PtFixtureSizes = {
    fixtures: 0,
    bytes: 0,
    instructions: 0,
    bitsPerInsn: 0,
    byFixture: {},
    floorByFixture: {},
  };
  for (const name of listFixtures(path.join(repo, 'fixtures/fs'))) {
    const spec = fixtureWorkload(repo, object, name, name, dir);
    const run = path.join(dir, `pt-${name}`);
    runWorkload(spec, ['pt'], run);
    const trace = new Uint8Array(fs.readFileSync(path.join(run, TRACE_FILE)));
    const bytes = trace.length;
    const info = JSON.parse(fs.readFileSync(path.join(run, RUN_FILE), 'utf8')) as RunInfo;
    r.fixtures++;
    r.bytes += bytes;
    r.instructions += info.tracedInstructions;
    r.byFixture[name] = (bytes * 8) / info.tracedInstructions;
    r.floorByFixture[name] = (ptSizeFloor(trace).bytes * 8) / info.tracedInstructions;
    fs.rmSync(run, { recursive: true, force: true });
  }
  r.bitsPerInsn = (r.bytes * 8) / r.instructions;
  const sorted = Object.entries(r.byFixture).sort((a, b) => a[1] - b[1]);
  const [lo, hi] = [sorted[0], sorted[sorted.length - 1]];
  const over = sorted.filter(([, b]) => b > PT_BITS_GOAL).map(([n]) => n);
  // Above the goal with no encoding that could reach it (see ptSizeFloor).
  const unreachable = over.filter((n) => r.floorByFixture[n] > PT_BITS_GOAL);
  log(
    `trace: pt on the ${r.fixtures} fs fixtures: ${r.bytes} bytes for ${r.instructions} traced insns, ` +
      `${(r.bytes / r.instructions).toFixed(4)} bytes/insn, ${r.bitsPerInsn.toFixed(3)} bits/insn ` +
      `(by fixture ${lo[1].toFixed(3)} ${lo[0]} .. ${hi[1].toFixed(3)} ${hi[0]}; above ${PT_BITS_GOAL}: ` +
      `${over.length ? over.join(', ') : 'none'}; of those, ${unreachable.length} with a floor above it: ` +
      `${unreachable.length ? unreachable.join(', ') : 'none'})`,
  );
  return r;
}

// mov ecx, N / l: mov eax, ecx / test al, 1 / jz s / call f / s: loop l / hlt / f: ret
function loopProgram(rounds: number): Uint8Array {
  const p = new Uint8Array([
    0xb9, 0, 0, 0, 0, 0x89, 0xc8, 0xa8, 0x01, 0x74, 0x05, 0xe8, 0x03, 0, 0, 0, 0xe2, 0xf3, 0xf4, 0xc3,
  ]);
  new DataView(p.buffer).setUint32(1, rounds, true);
  return p;
}

/** PT trace size with and without return compression, and our decoder's speed, on the small loop. */
function ptDecodeBench(rounds: number, log: (l: string) => void): Record<string, number> {
  const code = loopProgram(rounds);
  const mem = new Memory();
  mem.map(0x1000, 0x1000);
  mem.map(0x8000, 0x1000);
  mem.writeBytes(0x1000, code);
  const insnLength = (a: number): number => classifyInstruction((x) => mem.read8(x), a).length;
  const image = new CodeImage();
  image.add(0x1000, code);
  const result: Record<string, number> = {};
  for (const name of ['pt', 'pt-retcomp']) {
    const cpu = new Cpu(mem);
    cpu.eip = 0x1000;
    cpu.regs[4] = 0x9000;
    const sink = new BufferSink();
    const enc = new PtEncoder(sink, name === 'pt-retcomp' ? { retCompression: { insnLength } } : {});
    enc.enable(0x1000);
    cpu.branchHook = enc.hook;
    cpu.run(1e12);
    enc.finish(cpu.eip);
    const insns = cpu.instructionsRetired;
    const t0 = performance.now();
    const flow = decodeFlow(sink.toBytes(), { classify: classifyInstruction, read8: image.read8 });
    const ms = performance.now() - t0;
    result[`${name}Bytes`] = sink.length;
    result[`${name}DecodeMs`] = ms;
    log(
      `trace: ${name} (small loop): ${sink.length} bytes, ${((sink.length * 8) / insns).toFixed(3)} bits/insn; ` +
        `decode ${flow.instructions} instructions in ${ms.toFixed(0)} ms (${(flow.instructions / ms / 1000).toFixed(1)} M/s)`,
    );
    if (flow.instructions !== insns || flow.errors.length)
      throw new Error('PT decode did not reproduce the run');
  }
  return result;
}

/**
 * `bench trace [scale] [rounds]`: scale multiplies the workload sizes (default 0.1; at 1 each run
 * takes about a second, long enough that V8's tiering of the compiled blocks does not dominate),
 * rounds default 5.
 */
export async function runTraceBench(ctx: BenchLog): Promise<unknown> {
  const scale = Number(ctx.args[0] ?? 0.1);
  const rounds = Math.max(1, Number(ctx.args[1] ?? 5));
  if (!(scale > 0)) throw new Error(`bench trace: bad scale '${ctx.args[0]}'`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-trace-bench-'));
  try {
    const workloads = CPU_WORKLOADS.map((w) =>
      buildWorkload(ctx.repo, w, Math.max(1, Math.round(w.repeat * scale * 10)), dir),
    );
    const kernel = buildKernel(path.join(ctx.repo, 'kernel'), path.join(ctx.repo, '.cache/kernel'));
    workloads.push(kernelWorkload(ctx.repo, kernel.object, Math.max(1, Math.round(40 * scale)), dir));
    ctx.log(
      `trace: best ms of ${rounds} rounds (configurations alternated, each in a new process timing ` +
        `${RUNS_PER_CHILD - 1} runs after a warm-up run) and its overhead against 'none' (no recorder; ` +
        `'no-hook-code' compiles blocks without branch reporting; 'busy-core' is none with another thread ` +
        `spinning on the second core, as PT's encoding worker does while it has records), in brackets the median per-round overhead and the lowest..highest ` +
        `per-round overhead (how far this machine's noise spreads them)`,
    );
    const result: Record<string, unknown> = {};
    for (const w of workloads) result[w.name] = measure(w, rounds, dir, ctx.log);
    result.ptFixtures = ptFixtureSizes(ctx.repo, kernel.object, dir, ctx.log);
    result.ptDecode = ptDecodeBench(Math.round(10_000_000 * scale), ctx.log);
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
