import type { Command } from 'commander';
import {
  checkThresholds,
  filterFiles,
  mergeByTest,
  mergeCoverage,
  readCoverageFile,
  REPORTERS,
  summarize,
  writeReports,
  type CoverageDocument,
} from '@fasmcov/report';
import { CliError } from '../errors';

interface ReportOptions {
  output: string;
  reporter: string[];
  include: string[];
  exclude: string[];
  root: string;
  title?: string;
  checkLines?: number;
  checkBranches?: number;
  checkFunctions?: number;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const percent = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new CliError(`'${v}' is not a percentage from 0 to 100`);
  return n;
};

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write coverage reports from coverage files (fasmcov JSON or lcov) of one or more runs')
    .argument('<inputs...>', 'coverage files (fasmcov coverage.json or lcov.info)')
    .option('-o, --output <dir>', 'output directory', 'coverage')
    .option('-r, --reporter <name>', `reporter, repeatable (${REPORTERS.join(', ')})`, collect, [])
    .option('--include <glob>', 'only files matching (repeatable)', collect, [])
    .option('--exclude <glob>', 'leave out files matching (repeatable)', collect, [])
    .option('--root <dir>', 'directory source paths are relative to', process.cwd())
    .option('--title <text>', 'title of the HTML reports')
    .option('--check-lines <pct>', 'fail (exit 1) when line coverage is below', percent)
    .option('--check-branches <pct>', 'fail (exit 1) when branch coverage is below', percent)
    .option('--check-functions <pct>', 'fail (exit 1) when function coverage is below', percent)
    .action(async (inputs: string[], opts: ReportOptions) => {
      const docs: CoverageDocument[] = [];
      for (const f of inputs) docs.push(...(await readCoverageFile(f, opts.root)));
      const perTest = filterFiles(mergeByTest(docs), opts.include, opts.exclude);
      const reporters = opts.reporter.length ? opts.reporter : ['lcov', 'asm-html', 'text-summary'];
      writeReports(perTest, { root: opts.root, outDir: opts.output, reporters, title: opts.title });
      const failures = checkThresholds(summarize(mergeCoverage(perTest)), {
        lines: opts.checkLines,
        branches: opts.checkBranches,
        functions: opts.checkFunctions,
      });
      if (failures.length) throw new CliError(failures.join('; '));
    });
}
