import type { Command } from 'commander';
import { writeFileAtomic } from '@fasmcov/fas';
import { mergeByTest, readCoverageFile, summarize, mergeCoverage, writeLcov } from '@fasmcov/report';

interface MergeOptions {
  output: string;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description(
      'merge coverage of several runs and tests (lcov.info or fasmcov coverage.json); counts add up',
    )
    .argument('<files...>', 'lcov tracefiles or fasmcov coverage JSON files')
    .requiredOption('-o, --output <file>', 'merged output: *.json writes fasmcov JSON, anything else lcov')
    .action(async (files: string[], opts: MergeOptions) => {
      const root = process.cwd();
      const docs = [];
      for (const f of files) docs.push(...(await readCoverageFile(f, root)));
      const perTest = mergeByTest(docs);
      const out = opts.output.endsWith('.json')
        ? `${JSON.stringify(perTest, null, 1)}\n`
        : writeLcov(perTest, { root });
      writeFileAtomic(opts.output, out);
      const s = summarize(mergeCoverage(perTest));
      process.stdout.write(
        `merged ${files.length} file(s), ${perTest.length} test(s): lines ${s.lines.pct}% (${s.lines.covered}/${s.lines.total}), ` +
          `branches ${s.branches.pct}% (${s.branches.covered}/${s.branches.total}), ` +
          `functions ${s.functions.pct}% (${s.functions.covered}/${s.functions.total})\n`,
      );
    });
}
