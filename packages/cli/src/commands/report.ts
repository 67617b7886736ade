import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile } from '@fasmcov/fas';
import {
  changedLines,
  coverageFromRunDir,
  diffCoverage,
  checkThresholds,
  filterFiles,
  flameTreeFromFolded,
  mergeByTest,
  mergeCoverage,
  mergeFolded,
  profileFromRunDir,
  readCoverageFile,
  coverageFromUmkaTables,
  defaultObjectFile,
  readUmkaFiles,
  UmkaImportError,
  REPORTERS,
  summarize,
  writeReports,
  type CoverageDocument,
  type TraceSource,
} from '@fasmcov/report';
import { TraceFormatError } from '@fasmcov/tracer';
import { CliError } from '../errors';

interface ReportOptions {
  output: string;
  reporter: string[];
  include: string[];
  exclude: string[];
  root: string;
  title?: string;
  fas?: string;
  traceSource?: TraceSource;
  checkLines?: number;
  checkBranches?: number;
  checkFunctions?: number;
  diff?: string;
  checkDiff?: number;
  umka: string[];
  object?: string;
  umkaBase?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const percent = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new CliError(`'${v}' is not a percentage from 0 to 100`);
  return n;
};

/** One coverage document from the --umka tables (summed; the test is named after the first file). */
function umkaDocument(fas: FasFile, opts: ReportOptions): CoverageDocument {
  const objectFile = opts.object ?? defaultObjectFile(fas, opts.fas as string);
  let object: Buffer;
  try {
    object = fs.readFileSync(objectFile);
  } catch (e) {
    throw new CliError(
      `cannot read the kernel object ${objectFile} (--object): ${(e as NodeJS.ErrnoException).code}`,
    );
  }
  try {
    const { document, diagnostics } = coverageFromUmkaTables(readUmkaFiles(opts.umka), {
      fas,
      object: new Uint8Array(object),
      objectFile,
      baseSymbol: opts.umkaBase,
      root: opts.root,
      test: path.basename(opts.umka[0]),
    });
    for (const d of diagnostics)
      process.stderr.write(`fasmcov: warning: ${d.file}:${d.line}: ${d.message}\n`);
    return document;
  } catch (e) {
    if (e instanceof UmkaImportError || e instanceof TraceFormatError) throw new CliError(e.message);
    throw e;
  }
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write coverage reports from run directories or coverage files of one or more runs')
    .argument(
      '[inputs...]',
      'run directories (fasmcov exec/run --trace), fasmcov coverage.json or lcov.info files',
    )
    .option(
      '--umka <file>',
      'UMKa native coverage file (bare-metal LBR runs, or fasmcov trace umka); repeatable, tables add up',
      collect,
      [],
    )
    .option(
      '--object <file>',
      'the kernel object the .fas describes, for --umka (default: the .fas output name)',
    )
    .option('--umka-base <label>', 'the label offset 0 of UMKa tables stands for (default coverage_begin)')
    .option('--fas <file.fas>', "fasm's symbolic file of the traced program (needed for run directories)")
    .option(
      '--trace-source <kind>',
      'trace to read from run directories: edges or pt (default: edges if recorded)',
      (v) => {
        if (v !== 'edges' && v !== 'pt') throw new CliError(`--trace-source: '${v}' is not edges or pt`);
        return v;
      },
    )
    .option('-o, --output <dir>', 'output directory', 'coverage')
    .option('-r, --reporter <name>', `reporter, repeatable (${REPORTERS.join(', ')})`, collect, [])
    .option('--include <glob>', 'only files matching (repeatable)', collect, [])
    .option('--exclude <glob>', 'leave out files matching (repeatable)', collect, [])
    .option('--root <dir>', 'directory source paths are relative to', process.cwd())
    .option('--title <text>', 'title of the HTML reports')
    .option('--check-lines <pct>', 'fail (exit 1) when line coverage is below', percent)
    .option('--check-branches <pct>', 'fail (exit 1) when branch coverage is below', percent)
    .option('--check-functions <pct>', 'fail (exit 1) when function coverage is below', percent)
    .option('--diff <git-rev>', 'also report coverage of the lines changed since this revision')
    .option('--check-diff <pct>', 'fail (exit 1) when line coverage of the changed lines is below', percent)
    .action(async (inputs: string[], opts: ReportOptions) => {
      const docs: CoverageDocument[] = [];
      const reporters = opts.reporter.length ? opts.reporter : ['lcov', 'asm-html', 'text-summary'];
      // The flame graph's call stacks come from the PT traces of the run directories.
      const folded = reporters.includes('flamegraph') ? new Map<string, number>() : undefined;
      let fas: FasFile | undefined;
      if (!inputs.length && !opts.umka.length)
        throw new CliError('nothing to report: give run directories, coverage files or --umka files');
      if (opts.umka.length) {
        if (!opts.fas)
          throw new CliError('--umka needs --fas <file.fas> of the kernel the tables were recorded on');
        fas ??= FasFile.read(opts.fas);
        docs.push(umkaDocument(fas, opts));
      }
      for (const f of inputs) {
        if (fs.existsSync(f) && fs.statSync(f).isDirectory()) {
          if (!opts.fas)
            throw new CliError(`${f} is a run directory: --fas <file.fas> is needed to map it to source`);
          fas ??= FasFile.read(opts.fas);
          const run = coverageFromRunDir(f, { fas, root: opts.root, source: opts.traceSource });
          for (const d of run.diagnostics)
            process.stderr.write(`fasmcov: warning: ${d.file}:${d.line}: ${d.message}\n`);
          docs.push(run.document);
          if (folded) {
            if (!run.info.traces.includes('pt'))
              throw new CliError(`${f}: the flamegraph reporter needs runs recorded with --trace pt`);
            mergeFolded(folded, profileFromRunDir(f, fas));
          }
        } else docs.push(...(await readCoverageFile(f, opts.root)));
      }
      const perTest = filterFiles(mergeByTest(docs), opts.include, opts.exclude);
      writeReports(perTest, {
        root: opts.root,
        outDir: opts.output,
        reporters,
        title: opts.title,
        profile: folded && flameTreeFromFolded(folded),
      });
      const merged = mergeCoverage(perTest);
      const failures = checkThresholds(summarize(merged), {
        lines: opts.checkLines,
        branches: opts.checkBranches,
        functions: opts.checkFunctions,
      });
      if (opts.checkDiff !== undefined && !opts.diff)
        throw new CliError('--check-diff needs --diff <git-rev>');
      if (opts.diff) {
        const d = diffCoverage(merged, changedLines(opts.root, opts.diff));
        process.stdout.write(
          `changed since ${opts.diff}: lines ${d.lines.pct}% (${d.lines.covered}/${d.lines.total}), ` +
            `branches ${d.branches.pct}% (${d.branches.covered}/${d.branches.total}), ` +
            `functions ${d.functions.pct}% (${d.functions.covered}/${d.functions.total})\n`,
        );
        failures.push(...checkThresholds(d, { lines: opts.checkDiff }, 'coverage of changed lines'));
      }
      if (failures.length) throw new CliError(failures.join('; '));
    });
}
