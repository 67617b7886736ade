import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile, writeFileAtomic } from '@fasmcov/fas';
import { instrument, InstrumentError, type ProbeMap } from '@fasmcov/instrument';
import {
  buildUmka,
  UmkaImageError,
  layoutFromSymbols,
  makeUmkaImage,
  runUmkaScript,
  unifiedDiff,
  unservedCommands,
  UMKA_DEFINES,
  UMKA_FASM_MEMORY_KIB,
  UMKA_IMAGES,
  umkaIncludeDirs,
  UmkaRunError,
  type TraceKind,
  type UmkaLayout,
} from '@fasmcov/tracer';
import {
  coverageFromRunDir,
  filterFiles,
  mergeByTest,
  mergeCoverage,
  summarize,
  summarizeFile,
  writeReports,
  type CoverageDocument,
} from '@fasmcov/report';
import { CliError } from '../errors';
import { edgesAgainstPt, probeDifferences } from '../three-way';
import { parseTraceKinds } from './trace-options';

interface KolibriosOptions {
  kolibrios: string;
  umka: string;
  tests?: string;
  output: string;
  work: string;
  maxInstructions: number;
  crossCheck?: boolean;
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
  /** With --cross-check: disagreements between probes, edges and PT (empty: they agree). */
  crossCheck?: string[];
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
  const lines = [head];
  if (o.detail) lines.push(`  ${o.detail}`);
  if (o.crossCheck)
    lines.push(
      o.crossCheck.length
        ? `  three-way check FAILED: ${o.crossCheck.join('; ')}`
        : '  three-way check: probes = edges = PT on every probe, instruction count and branch arm',
    );
  return lines.join('\n');
}

const pct = (covered: number, total: number) => (total ? ((100 * covered) / total).toFixed(1) : '-');

/** One line per file, fs/*.inc first: `path  lines a/b (p%)  branch arms c/d (q%)`. */
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
      `  branch arms ${s.branches.covered}/${s.branches.total} (${pct(s.branches.covered, s.branches.total)}%)`
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

/** The test folders to run: `--tests a,b`, `all` (every tNNN folder of test/), or the default. */
export function selectTests(umka: string, list: string | undefined): string[] {
  if (list === undefined) return DEFAULT_UMKA_TESTS;
  if (list.trim() === 'all') {
    const dir = path.join(path.resolve(umka), 'test');
    if (!fs.existsSync(dir)) throw new CliError(`${dir}: no such folder (is --umka a UMKa checkout?)`);
    return fs
      .readdirSync(dir)
      .filter((t) => /^t\d+$/.test(t))
      .sort();
  }
  const tests = list
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const t of tests) {
    const dir = path.join(path.resolve(umka), 'test', t);
    if (!fs.existsSync(dir)) throw new CliError(`${dir}: no such test folder`);
  }
  return tests;
}

/**
 * Why a test folder cannot be run here, or undefined: its run.us or ref.log is missing (a
 * partial checkout), or its script uses umka_shell commands outside the file-system ones that
 * fasmcov's shell serves (mouse, network, events: not kernel fs code).
 */
export function whyNotRunnable(testDir: string): string | undefined {
  const missing = ['run.us', 'ref.log'].filter((f) => !fs.existsSync(path.join(testDir, f)));
  if (missing.length) return `the checkout has no ${missing.join(' or ')} in ${testDir}`;
  const unserved = unservedCommands(fs.readFileSync(path.join(testDir, 'run.us'), 'latin1'));
  if (unserved.length) {
    const named =
      unserved.length > 4
        ? `${unserved.slice(0, 3).join(', ')} and ${unserved.length - 3} more`
        : unserved.join(', ');
    return `not a file-system test: uses ${named}, which fasmcov's shell does not serve`;
  }
  return undefined;
}

function runAll(opts: KolibriosOptions): void {
  const work = path.resolve(opts.work);
  const build = buildUmka({ umka: opts.umka, kolibrios: opts.kolibrios, outDir: path.join(work, 'build') });
  process.stdout.write(`umka.o ${build.cached ? 'reused' : 'assembled'} (${build.key})\n`);
  const fas = FasFile.read(build.fas);
  const kernel = fs.readFileSync(build.object);
  const layout = layoutOf(fas);
  const probed = opts.crossCheck ? instrumentUmka(opts, work) : undefined;
  const tests = selectTests(opts.umka, opts.tests);
  const imageDir = path.join(work, 'img');
  const outcomes: UmkaTestOutcome[] = [];
  for (const test of tests) {
    const testDir = path.join(path.resolve(opts.umka), 'test', test);
    const why = whyNotRunnable(testDir) ?? prepareImages(testDir, imageDir);
    const outcome: UmkaTestOutcome = why
      ? { test, status: 'skip', instructions: 0, seconds: 0, detail: why }
      : runUmkaTest({
          kernel,
          kernelFile: build.object,
          layout,
          testDir,
          imageDir,
          runDir: path.join(work, 'runs', test),
          traces: probed ? ['edges', 'pt'] : ['edges'],
          maxInstructions: opts.maxInstructions,
        });
    if (probed && outcome.runDir)
      outcome.crossCheck = crossCheck(outcome.runDir, probed, testDir, imageDir, opts.maxInstructions);
    outcomes.push(outcome);
    process.stdout.write(`${outcomeLine(outcome)}\n`);
  }
  writeCoverage(outcomes, fas, opts);
  if (outcomes.some((o) => o.status === 'fail')) throw new CliError('some UMKa tests failed');
  const disagree = outcomes.filter((o) => o.crossCheck?.length).map((o) => o.test);
  if (disagree.length) throw new CliError(`probes, edges and PT disagree on ${disagree.join(', ')}`);
}

interface ProbedUmka {
  object: Buffer;
  map: ProbeMap;
  layout: UmkaLayout;
}

/** umka.o with count probes on every line, branch arm and function entry of kernel/trunk/fs. */
function instrumentUmka(opts: KolibriosOptions, work: string): ProbedUmka {
  const umka = path.resolve(opts.umka);
  process.stdout.write('instrumenting umka.asm (probes in kernel/trunk/fs/**)\n');
  try {
    const r = instrument({
      main: path.join(umka, 'umka.asm'),
      outDir: path.join(work, 'instrumented'),
      includeDirs: umkaIncludeDirs({ kolibrios: path.resolve(opts.kolibrios) }),
      defines: UMKA_DEFINES,
      mode: 'count',
      include: ['fs/**'],
      memoryKiB: UMKA_FASM_MEMORY_KIB,
      cwd: umka,
    });
    process.stdout.write(
      `${r.map.count} probes, code ${r.stats.plainCodeBytes} -> ${r.stats.instrumentedCodeBytes} bytes\n`,
    );
    return { object: r.build.output, map: r.map, layout: layoutOf(r.build.fas) };
  } catch (e) {
    if (e instanceof InstrumentError) throw new CliError(`instrumenting umka.asm: ${e.message}`);
    throw e;
  }
}

/**
 * Runs the test again on the instrumented umka.o and compares its probe counters with the plain
 * run's edges, and those with its decoded PT: the same check as on the bundled kernel.
 */
function crossCheck(
  runDir: string,
  probed: ProbedUmka,
  testDir: string,
  imageDir: string,
  maxInstructions: number,
): string[] {
  const script = path.join(testDir, 'run.us');
  const plain = edgesAgainstPt(runDir);
  let r;
  try {
    r = runUmkaScript({
      kernel: probed.object,
      kernelFile: 'umka-instrumented.o',
      layout: probed.layout,
      script,
      scriptText: fs.readFileSync(script, 'latin1'),
      imageDir,
      maxInstructions,
      probeSection: probed.map.section,
    });
  } catch (e) {
    if (e instanceof UmkaRunError) return [`the instrumented kernel stopped: ${e.message}`];
    throw e;
  }
  const ref = fs.readFileSync(path.join(testDir, 'ref.log'), 'latin1');
  return [
    ...(r.transcript === ref ? [] : ['the instrumented kernel printed another transcript']),
    ...plain.mismatches,
    ...probeDifferences(probed.map, r.probeSlots ?? new Uint32Array(0), plain.edges, plain.info, 3),
  ];
}

function writeCoverage(outcomes: UmkaTestOutcome[], fas: FasFile, opts: KolibriosOptions): void {
  const root = path.resolve(opts.kolibrios);
  const docs = outcomes
    .filter((o) => o.runDir)
    .map((o) => coverageFromRunDir(o.runDir as string, { fas, root }).document);
  if (!docs.length) return;
  const perTest = filterFiles(mergeByTest(docs), ['kernel/trunk/**'], []);
  writeReports(perTest, { root, outDir: opts.output, reporters: ['lcov', 'asm-html', 'json'] });
  const merged = mergeCoverage(perTest);
  const lines = coverageLines(merged).filter((l) => /\/fs\//.test(l));
  process.stdout.write(`coverage of kernel/trunk/fs (merged; report in ${opts.output}):\n`);
  for (const l of lines) process.stdout.write(`  ${l}\n`);
  process.stdout.write(`  ${fsTotalLine('all tests', merged)}\n`);
  if (perTest.length > 1)
    for (const d of perTest) process.stdout.write(`  ${fsTotalLine(d.test ?? '-', d)}\n`);
}

/** `<label>: kernel/trunk/fs lines a/b (p%), branch arms c/d (q%)` over the fs/ files only. */
export function fsTotalLine(label: string, doc: CoverageDocument): string {
  const s = summarize({ ...doc, files: doc.files.filter((f) => /(^|\/)fs\/[^/]+$/.test(f.path)) });
  return (
    `${label}: kernel/trunk/fs lines ${s.lines.covered}/${s.lines.total} (${pct(s.lines.covered, s.lines.total)}%), ` +
    `branch arms ${s.branches.covered}/${s.branches.total} (${pct(s.branches.covered, s.branches.total)}%)`
  );
}

export function registerKolibrios(program: Command): void {
  program
    .command('kolibrios')
    .description(
      "assemble UMKa's kernel build, run UMKa's fs tests in the emulator, report kernel/trunk coverage",
    )
    .requiredOption('--kolibrios <dir>', 'KolibriOS checkout (kernel/trunk)')
    .requiredOption('--umka <dir>', 'UMKa checkout (umka.asm, test/)')
    .option(
      '--tests <list>',
      `comma-separated test folders, or all (default ${DEFAULT_UMKA_TESTS.join(',')})`,
    )
    .option('-o, --output <dir>', 'coverage report directory', 'coverage-kolibrios')
    .option('--work <dir>', 'build, image and run folder', 'fasmcov-kolibrios')
    .option(
      '--cross-check',
      'also trace PT and run an instrumented umka.o: check probes = edges = PT (slower: PT is decoded)',
    )
    .option('--max-instructions <n>', 'instruction budget per test', (v) => Number(v), 5e10)
    .action((opts: KolibriosOptions) => {
      if (opts.output) fs.mkdirSync(opts.output, { recursive: true });
      runAll(opts);
    });
}
