import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile, writeFileAtomic } from '@fasmcov/fas';
import {
  buildUmka,
  UmkaImageError,
  layoutFromSymbols,
  makeUmkaImage,
  runUmkaScript,
  unifiedDiff,
  UMKA_IMAGES,
  UmkaRunError,
  type TraceKind,
  type UmkaLayout,
} from '@fasmcov/tracer';
import {
  coverageFromRunDir,
  filterFiles,
  mergeByTest,
  mergeCoverage,
  summarizeFile,
  writeReports,
  type CoverageDocument,
} from '@fasmcov/report';
import { CliError } from '../errors';
import { parseTraceKinds } from './trace-options';

interface KolibriosOptions {
  kolibrios: string;
  umka: string;
  tests?: string;
  output: string;
  work: string;
  maxInstructions: number;
}

/** The fs tests whose images fasmcov generates (see UMKA_IMAGES). */
export const DEFAULT_UMKA_TESTS = ['t062', 't063', 't060', 't061'];

export interface UmkaTestOutcome {
  test: string;
  status: 'pass' | 'fail' | 'skip';
  instructions: number;
  seconds: number;
  /** Why it failed or was skipped: the first differing line, an error or a missing image. */
  detail?: string;
  runDir?: string;
}

/** The first line where two transcripts differ, as `line N: expected '...', got '...'`. */
export function firstDifference(expected: string, actual: string): string | undefined {
  if (expected === actual) return undefined;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `line ${i + 1}: expected ${JSON.stringify(a[i] ?? '<end>')}, got ${JSON.stringify(b[i] ?? '<end>')}`;
  }
  return 'the transcripts differ in line endings';
}

/** Images a script adds (`disk_add <file> ...`), by base name. */
export function scriptImages(script: string): string[] {
  const out: string[] = [];
  for (const line of script.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'disk_add' && w[1]) out.push(path.basename(w[1]));
  }
  return out;
}

function layoutOf(fas: FasFile): UmkaLayout {
  return layoutFromSymbols((name) => {
    const s = fas.symbol(name);
    return s?.defined ? s.address : undefined;
  });
}

export interface RunUmkaTestOptions {
  kernel: Uint8Array;
  kernelFile: string;
  layout?: UmkaLayout;
  testDir: string;
  imageDir: string;
  runDir?: string;
  traces: TraceKind[];
  maxInstructions: number;
}

/** Runs one UMKa test folder (run.us) and compares the transcript with its ref.log. */
export function runUmkaTest(o: RunUmkaTestOptions): UmkaTestOutcome {
  const test = path.basename(o.testDir);
  const scriptText = fs.readFileSync(path.join(o.testDir, 'run.us'), 'latin1');
  const ref = fs.readFileSync(path.join(o.testDir, 'ref.log'), 'latin1');
  try {
    const r = runUmkaScript({
      kernel: o.kernel,
      kernelFile: o.kernelFile,
      layout: o.layout,
      script: path.join(o.testDir, 'run.us'),
      scriptText,
      imageDir: o.imageDir,
      traces: o.traces,
      runDir: o.runDir,
      test,
      maxInstructions: o.maxInstructions,
    });
    const detail = firstDifference(ref, r.transcript);
    return {
      test,
      status: detail ? 'fail' : 'pass',
      instructions: r.instructions,
      seconds: r.seconds,
      detail,
      runDir: r.runDir,
    };
  } catch (e) {
    if (!(e instanceof UmkaRunError)) throw e;
    const diff = firstDifference(ref, e.transcript);
    return { test, status: 'fail', instructions: 0, seconds: 0, detail: `${e.message}; ${diff ?? ''}` };
  }
}

export function outcomeLine(o: UmkaTestOutcome): string {
  if (o.status === 'skip') return `skip ${o.test} (${o.detail})`;
  const mips = o.seconds > 0 ? (o.instructions / o.seconds / 1e6).toFixed(1) : '-';
  const head = `${o.status === 'pass' ? 'pass' : 'FAIL'} ${o.test} (${o.instructions} instructions, ${o.seconds.toFixed(1)} s, ${mips} MIPS)`;
  return o.detail ? `${head}\n  ${o.detail}` : head;
}

const pct = (covered: number, total: number) => (total ? ((100 * covered) / total).toFixed(1) : '-');

/** One line per file, fs/*.inc first: `path  lines a/b (p%)  branches c/d (q%)`. */
export function coverageLines(doc: CoverageDocument): string[] {
  const files = [...doc.files].sort((x, y) => {
    const fx = /\/fs\/[^/]+\.inc$/.test(x.path) ? 0 : 1;
    const fy = /\/fs\/[^/]+\.inc$/.test(y.path) ? 0 : 1;
    return fx - fy || x.path.localeCompare(y.path);
  });
  return files.map((f) => {
    const s = summarizeFile(f);
    return (
      `${f.path}  lines ${s.lines.covered}/${s.lines.total} (${pct(s.lines.covered, s.lines.total)}%)` +
      `  branches ${s.branches.covered}/${s.branches.total} (${pct(s.branches.covered, s.branches.total)}%)`
    );
  });
}

function prepareImages(testDir: string, imageDir: string): string | undefined {
  for (const name of scriptImages(fs.readFileSync(path.join(testDir, 'run.us'), 'latin1'))) {
    const spec = UMKA_IMAGES[name];
    if (!spec) return `image ${name} is not generated by fasmcov`;
    try {
      makeUmkaImage(spec, imageDir);
    } catch (e) {
      if (e instanceof UmkaImageError) return e.message;
      throw e;
    }
  }
  return undefined;
}

/** `--abi umka` of `fasmcov run`: one script, transcript to stdout or -o, optional --ref. */
export function runUmkaCommand(
  kernelFile: string,
  opts: {
    fas?: string;
    script: string;
    output?: string;
    ref?: string;
    imageDir?: string;
    trace: string[];
    runDir: string;
    test?: string;
    maxInstructions: number;
  },
): void {
  const kernel = fs.readFileSync(kernelFile);
  const fas = opts.fas ? FasFile.read(opts.fas) : undefined;
  const toStdout = opts.output === undefined && opts.ref === undefined;
  let transcript: string;
  try {
    transcript = runUmkaScript({
      kernel,
      kernelFile,
      layout: fas && layoutOf(fas),
      script: opts.script,
      scriptText: fs.readFileSync(opts.script, 'latin1'),
      imageDir: opts.imageDir,
      traces: parseTraceKinds(opts.trace),
      runDir: opts.runDir,
      test: opts.test,
      maxInstructions: opts.maxInstructions,
      onText: toStdout ? (t) => process.stdout.write(Buffer.from(t, 'latin1')) : undefined,
    }).transcript;
  } catch (e) {
    if (e instanceof UmkaRunError) throw new CliError(`${opts.script}: ${e.message}`);
    throw e;
  }
  if (opts.output !== undefined) writeFileAtomic(opts.output, Buffer.from(transcript, 'latin1'));
  if (opts.ref !== undefined) {
    const ref = fs.readFileSync(opts.ref, 'latin1');
    const diff = unifiedDiff(ref, transcript, opts.ref, opts.output ?? 'transcript');
    if (diff) {
      process.stdout.write(diff);
      throw new CliError(`the transcript differs from ${opts.ref}`, 1);
    }
  }
}

function runAll(opts: KolibriosOptions): void {
  const work = path.resolve(opts.work);
  const build = buildUmka({ umka: opts.umka, kolibrios: opts.kolibrios, outDir: path.join(work, 'build') });
  process.stdout.write(`umka.o ${build.cached ? 'reused' : 'assembled'} (${build.key})\n`);
  const fas = FasFile.read(build.fas);
  const kernel = fs.readFileSync(build.object);
  const layout = layoutOf(fas);
  const tests = opts.tests ? opts.tests.split(',').map((t) => t.trim()) : DEFAULT_UMKA_TESTS;
  const imageDir = path.join(work, 'img');
  const outcomes: UmkaTestOutcome[] = [];
  for (const test of tests) {
    const testDir = path.join(path.resolve(opts.umka), 'test', test);
    if (!fs.existsSync(path.join(testDir, 'run.us'))) throw new CliError(`${testDir}: no run.us`);
    const missing = prepareImages(testDir, imageDir);
    const outcome: UmkaTestOutcome = missing
      ? { test, status: 'skip', instructions: 0, seconds: 0, detail: missing }
      : runUmkaTest({
          kernel,
          kernelFile: build.object,
          layout,
          testDir,
          imageDir,
          runDir: path.join(work, 'runs', test),
          traces: ['edges'],
          maxInstructions: opts.maxInstructions,
        });
    outcomes.push(outcome);
    process.stdout.write(`${outcomeLine(outcome)}\n`);
  }
  writeCoverage(outcomes, fas, opts);
  if (outcomes.some((o) => o.status === 'fail')) throw new CliError('some UMKa tests failed');
}

function writeCoverage(outcomes: UmkaTestOutcome[], fas: FasFile, opts: KolibriosOptions): void {
  const root = path.resolve(opts.kolibrios);
  const docs = outcomes
    .filter((o) => o.runDir)
    .map((o) => coverageFromRunDir(o.runDir as string, { fas, root }).document);
  if (!docs.length) return;
  const perTest = filterFiles(mergeByTest(docs), ['kernel/trunk/**'], []);
  writeReports(perTest, { root, outDir: opts.output, reporters: ['lcov', 'asm-html', 'json'] });
  const lines = coverageLines(mergeCoverage(perTest)).filter((l) => /\/fs\//.test(l));
  process.stdout.write(`coverage of kernel/trunk/fs (merged; report in ${opts.output}):\n`);
  for (const l of lines) process.stdout.write(`  ${l}\n`);
}

export function registerKolibrios(program: Command): void {
  program
    .command('kolibrios')
    .description(
      "assemble UMKa's kernel build, run UMKa's fs tests in the emulator, report kernel/trunk coverage",
    )
    .requiredOption('--kolibrios <dir>', 'KolibriOS checkout (kernel/trunk)')
    .requiredOption('--umka <dir>', 'UMKa checkout (umka.asm, test/)')
    .option('--tests <list>', `comma-separated test folders (default ${DEFAULT_UMKA_TESTS.join(',')})`)
    .option('-o, --output <dir>', 'coverage report directory', 'coverage-kolibrios')
    .option('--work <dir>', 'build, image and run folder', 'fasmcov-kolibrios')
    .option('--max-instructions <n>', 'instruction budget per test', (v) => Number(v), 5e10)
    .action((opts: KolibriosOptions) => {
      if (opts.output) fs.mkdirSync(opts.output, { recursive: true });
      runAll(opts);
    });
}
