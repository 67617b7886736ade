import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile } from '@fasmcov/fas';
import {
  buildKernel,
  fixtureScript,
  listFixtures,
  prepareFixture,
  runScript,
  unifiedDiff,
} from '@fasmcov/tracer';
import {
  coverageFromRunDir,
  flameTreeFromFolded,
  mergeCoverage,
  mergeFolded,
  profileFromRunDir,
  summarize,
  writeReports,
  type CoverageDocument,
} from '@fasmcov/report';
import { CliError } from '../errors';

const repo = path.resolve(__dirname, '../../../..');

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'assemble the bundled kernel, run its file-system scripts traced in the emulator (images built by ' +
        'mkfs/mtools/mke2fs), check each transcript against its reference log, write coverage/',
    )
    .option('-o, --output <dir>', 'report directory', path.join(repo, 'coverage'))
    .option('--fixtures <dir>', 'script tests to run', path.join(repo, 'fixtures/fs'))
    .action((opts: { output: string; fixtures: string }) => {
      const started = Date.now();
      const work = path.join(repo, '.cache/demo');
      fs.rmSync(work, { recursive: true, force: true });
      fs.mkdirSync(work, { recursive: true });
      const step = (what: string) => process.stdout.write(`fasmcov demo: ${what}\n`);
      step('assembling kernel/kernel.asm');
      const k = buildKernel(path.join(repo, 'kernel'), path.join(repo, '.cache/kernel'));
      const fas = FasFile.read(k.fas, { cwd: path.join(repo, 'kernel') });
      const kernel = fs.readFileSync(k.object);
      const names = listFixtures(opts.fixtures);
      if (!names.length) throw new CliError(`no script tests (*/run.us) under ${opts.fixtures}`);
      const docs: CoverageDocument[] = [];
      const failed: string[] = [];
      const folded = new Map<string, number>();
      let instructions = 0;
      for (const name of names) {
        const f = prepareFixture(
          path.join(opts.fixtures, name),
          path.join(repo, 'fixtures/images'),
          path.join(work, name),
        );
        const runDir = path.join(work, `${name}.run`);
        const r = runScript({
          kernel,
          kernelFile: k.object,
          ...fixtureScript(f),
          maxInstructions: 2e10,
          // Edges give the counts; PT, decoded afterwards, gives the call stacks of the flame graph.
          traces: ['edges', 'pt'],
          runDir,
          test: name,
        });
        instructions += r.instructions;
        const ref = fs.existsSync(f.ref) ? fs.readFileSync(f.ref, 'utf8') : undefined;
        const diff =
          ref === undefined ? 'no ref.log' : unifiedDiff(ref, r.transcript, 'ref.log', 'transcript');
        if (diff) failed.push(name);
        step(`${diff ? 'FAIL' : 'ok  '} ${name} (${r.instructions} instructions)`);
        docs.push(coverageFromRunDir(runDir, { fas, root: repo }).document);
        mergeFolded(folded, profileFromRunDir(runDir, fas));
      }
      step(`writing reports to ${path.relative(process.cwd(), opts.output) || '.'}`);
      writeReports(docs, {
        root: repo,
        outDir: opts.output,
        reporters: ['lcov', 'asm-html', 'flamegraph', 'html', 'json-summary', 'text-summary'],
        title: 'fasmcov demo: the bundled kernel',
        profile: flameTreeFromFolded(folded),
      });
      const s = summarize(mergeCoverage(docs));
      step(
        `${names.length - failed.length}/${names.length} scripts match their reference logs, ` +
          `${instructions} kernel instructions, ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
          `lines ${s.lines.pct}%, branches ${s.branches.pct}%, functions ${s.functions.pct}%`,
      );
      step(
        `open ${path.join(opts.output, 'asm-html/index.html')} (lcov: ${path.join(opts.output, 'lcov.info')})`,
      );
      if (failed.length) throw new CliError(`transcripts differ from ref.log: ${failed.join(', ')}`);
    });
}
