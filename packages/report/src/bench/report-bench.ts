import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assemble, FasFile } from '@fasmcov/fas';
import { classifyInstruction } from '@fasmcov/tracer';
import { mergeCoverage, type CoverageDocument } from '../model/document';
import { summarize } from '../model/summary';
import { writeLcov } from '../model/lcov-writer';
import { mapCoverage } from '../mapping/map-coverage';
import { mergeExpansions, type MacroExpansions } from '../mapping/expansions';
import { writeAsmHtml } from '../asm-html/write-site';
import { coverageFromRunDir } from '../run/run-coverage';
import { DEFAULT_TREE, generateTree, TREE_GENERATOR_VERSION, type TreeShape } from './generate-tree';
import { syntheticCounts } from './synthetic-counts';

/** Milliseconds of each stage of one report, and genhtml's on the same lcov.info. */
export interface ReportTimes {
  readFasMs: number;
  mapMs: number;
  lcovMs: number;
  asmHtmlMs: number;
  /** read + map + lcov + asm-html: what `fasmcov report -r lcov -r asm-html` spends on the report. */
  totalMs: number;
  /** CPU time of the same stages (wall time counts other jobs on a shared machine too). */
  totalCpuMs: number;
  /** `genhtml -q --branch-coverage` on our lcov.info; undefined when genhtml is not installed. */
  genhtmlMs?: number;
  genhtmlCpuMs?: number;
}

export interface ReportInputSize {
  fasBytes: number;
  fasLines: number;
  dumpRows: number;
  files: number;
  codeLines: number;
  branches: number;
  functions: number;
  tests: number;
  pages: number;
}

export interface ReportBenchResult {
  synthetic: { input: ReportInputSize; times: ReportTimes };
  kernel?: { input: ReportInputSize; times: ReportTimes };
  goalMs: number;
}

const GOAL_MS = 5000;

const since = (t0: number) => Math.round(performance.now() - t0);

/** The synthetic tree assembled once; cached under `.cache/bench/` by generator version and shape. */
export function syntheticBuild(root: string, shape: TreeShape): { dir: string; fas: string; bin: string } {
  const dir = path.join(
    root,
    `.cache/bench/report-v${TREE_GENERATOR_VERSION}-${shape.procs}x${shape.perFile}x${shape.deadLines}`,
  );
  const fas = path.join(dir, 'main.fas');
  const bin = path.join(dir, 'main.bin');
  if (fs.existsSync(fas) && fs.existsSync(bin)) return { dir, fas, bin };
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  generateTree(tmp, shape);
  // Relative names in the .fas: the tree is moved into place after assembly.
  assemble('main.asm', {
    output: path.join(tmp, 'main.bin'),
    symbols: path.join(tmp, 'main.fas'),
    memoryKiB: 1 << 20,
    cwd: tmp,
  });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return { dir, fas, bin };
}

/** CPU time (user + system, ms) of this process's waited-for children, from /proc (Linux). */
function childrenCpuMs(): number {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // cutime and cstime are fields 16 and 17 of stat(5), in clock ticks (100 per second).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Runs genhtml on `lcov`: wall and CPU time, or undefined when it is not installed. */
function timeGenhtml(lcov: string, outDir: string): { wall: number; cpu: number } | undefined {
  const t0 = performance.now();
  const c0 = childrenCpuMs();
  const r = spawnSync('genhtml', ['-q', '--branch-coverage', '-o', outDir, lcov], { encoding: 'utf8' });
  if (r.error) return undefined;
  if (r.status !== 0) throw new Error(`genhtml failed on ${lcov}: ${r.stderr.trim()}`);
  return { wall: since(t0), cpu: childrenCpuMs() - c0 };
}

/** This process's CPU time (user + system) in ms: the figure that other jobs on the machine do not inflate. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
};

/** lcov.info and the asm-html site of `docs`, timed; then genhtml on the same lcov.info. */
function writeAndTime(
  docs: CoverageDocument[],
  expansions: MacroExpansions,
  root: string,
  out: string,
): {
  cpuMs: number;
  lcovMs: number;
  asmHtmlMs: number;
  genhtml?: { wall: number; cpu: number };
  pages: number;
} {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  let t0 = performance.now();
  const lcov = path.join(out, 'lcov.info');
  fs.writeFileSync(lcov, writeLcov(docs, { root }));
  const lcovMs = since(t0);
  t0 = performance.now();
  const site = writeAsmHtml(docs, { root, outDir: path.join(out, 'asm-html'), expansions });
  const asmHtmlMs = since(t0);
  const cpuAfter = cpuMs();
  return {
    cpuMs: cpuAfter,
    lcovMs,
    asmHtmlMs,
    genhtml: timeGenhtml(lcov, path.join(out, 'genhtml')),
    pages: site.pages,
  };
}

function inputSize(fas: FasFile, fasBytes: number, docs: CoverageDocument[], pages: number): ReportInputSize {
  const s = summarize(mergeCoverage(docs));
  return {
    fasBytes,
    fasLines: fas.lineCount,
    dumpRows: fas.rowCount,
    files: pages,
    codeLines: s.lines.total,
    branches: s.branches.total,
    functions: s.functions.total,
    tests: docs.length,
    pages,
  };
}

function syntheticReport(
  root: string,
  shape: TreeShape,
  tests: number,
): { input: ReportInputSize; times: ReportTimes } {
  const build = syntheticBuild(root, shape);
  const image = fs.readFileSync(build.bin);
  const read8 = (a: number) => image[a - 0x100000] ?? 0;
  // Counts are made outside the timed part (a trace decoder's job, measured by `bench trace`).
  const setupFas = FasFile.read(build.fas, { cwd: build.dir });
  const counts = Array.from({ length: tests }, (_, t) =>
    syntheticCounts(setupFas, read8, classifyInstruction, t),
  );
  const cpu0 = cpuMs();
  let t0 = performance.now();
  const fas = FasFile.read(build.fas, { cwd: build.dir });
  const readFasMs = since(t0);
  t0 = performance.now();
  const mapped = counts.map((c, t) =>
    mapCoverage(c, {
      fas,
      sections: [],
      read8,
      classify: classifyInstruction,
      root: build.dir,
      test: `synthetic_${t}`,
    }),
  );
  const mapMs = since(t0);
  const docs = mapped.map((m) => m.document);
  const w = writeAndTime(
    docs,
    mergeExpansions(mapped.map((m) => m.expansions)),
    build.dir,
    path.join(build.dir, 'report'),
  );
  return {
    input: inputSize(fas, fs.statSync(build.fas).size, docs, w.pages),
    times: {
      readFasMs,
      mapMs,
      lcovMs: w.lcovMs,
      asmHtmlMs: w.asmHtmlMs,
      totalMs: readFasMs + mapMs + w.lcovMs + w.asmHtmlMs,
      totalCpuMs: w.cpuMs - cpu0,
      genhtmlMs: w.genhtml?.wall,
      genhtmlCpuMs: w.genhtml?.cpu,
    },
  };
}

/** The bundled kernel's report from the demo's run directories (`npm run demo` leaves them). */
function kernelReport(root: string): { input: ReportInputSize; times: ReportTimes } | undefined {
  const work = path.join(root, '.cache/demo');
  const fasFile = path.join(root, '.cache/kernel/kernel.fas');
  const runs = fs.existsSync(work)
    ? fs
        .readdirSync(work)
        .filter((d) => d.endsWith('.run'))
        .sort()
    : [];
  if (!runs.length || !fs.existsSync(fasFile)) return undefined;
  const cpu0 = cpuMs();
  let t0 = performance.now();
  const fas = FasFile.read(fasFile, { cwd: path.join(root, 'kernel') });
  const readFasMs = since(t0);
  t0 = performance.now();
  const docs = runs.map((r) => coverageFromRunDir(path.join(work, r), { fas, root }).document);
  const mapMs = since(t0);
  const w = writeAndTime(docs, new Map(), root, path.join(root, '.cache/bench/kernel-report'));
  return {
    input: inputSize(fas, fs.statSync(fasFile).size, docs, w.pages),
    times: {
      readFasMs,
      mapMs,
      lcovMs: w.lcovMs,
      asmHtmlMs: w.asmHtmlMs,
      totalMs: readFasMs + mapMs + w.lcovMs + w.asmHtmlMs,
      totalCpuMs: w.cpuMs - cpu0,
      genhtmlMs: w.genhtml?.wall,
      genhtmlCpuMs: w.genhtml?.cpu,
    },
  };
}

function printTimes(
  name: string,
  r: { input: ReportInputSize; times: ReportTimes },
  log: (l: string) => void,
): void {
  const i = r.input;
  const t = r.times;
  log(
    `report ${name}: ${(i.fasBytes / 1e6).toFixed(1)} MB .fas (${i.fasLines} lines, ${i.dumpRows} rows), ` +
      `${i.files} files, ${i.codeLines} code lines, ${i.branches} branches, ${i.functions} functions, ${i.tests} tests`,
  );
  const g =
    t.genhtmlMs === undefined
      ? 'genhtml not installed'
      : `genhtml ${t.genhtmlMs} ms (CPU ${t.genhtmlCpuMs} ms)`;
  log(
    `report ${name}: fasmcov ${t.totalMs} ms (CPU ${t.totalCpuMs} ms; read .fas ${t.readFasMs}, map ${t.mapMs}, ` +
      `lcov ${t.lcovMs}, asm-html ${t.asmHtmlMs}) vs ${g} on the same lcov.info`,
  );
}

/**
 * `fasmcov bench report [procs] [tests]`: report generation (lcov + asm-html) on a synthetic
 * kernel-sized input and on the bundled kernel's demo runs, side by side with genhtml.
 */
export async function runReportBench(
  root: string,
  log: (line: string) => void,
  args: string[],
): Promise<ReportBenchResult> {
  const shape = { ...DEFAULT_TREE, procs: Number(args[0] ?? DEFAULT_TREE.procs) };
  const tests = Number(args[1] ?? 4);
  const synthetic = syntheticReport(root, shape, tests);
  printTimes('synthetic', synthetic, log);
  const kernel = kernelReport(root);
  if (kernel) printTimes('kernel', kernel, log);
  else log('report kernel: no demo runs in .cache/demo (run `npm run demo` first)');
  log(`report: goal ≤ ${GOAL_MS} ms for lcov + asm-html, and no slower than genhtml`);
  return { synthetic, kernel, goalMs: GOAL_MS };
}
