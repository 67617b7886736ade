import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { assemble, FasFile } from '@fasmcov/fas';
import { LinuxProcess, RunRecorder } from '@fasmcov/tracer';
import { coverageFromRunDir, summarize, mergeCoverage, writeReports } from '@fasmcov/report';

const repo = path.resolve(__dirname, '../../../..');

/** The programs the demo runs: every fixture under fixtures/programs (until the kernel lands). */
function demoPrograms(): string[] {
  const dir = path.join(repo, 'fixtures/programs');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.asm'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('assemble the bundled programs, run them traced in the emulator, write coverage/')
    .option('-o, --output <dir>', 'report directory', path.join(repo, 'coverage'))
    .action((opts: { output: string }) => {
      const started = Date.now();
      const work = path.join(repo, '.cache/demo');
      fs.mkdirSync(work, { recursive: true });
      const step = (what: string) => process.stdout.write(`fasmcov demo: ${what}\n`);
      const docs = [];
      for (const src of demoPrograms()) {
        const name = path.basename(src, '.asm');
        const exe = path.join(work, name);
        step(`assembling ${path.relative(repo, src)}`);
        assemble(src, { output: exe, symbols: `${exe}.fas` });
        const fas = FasFile.read(`${exe}.fas`, { cwd: repo });
        step(`running ${name} in the emulator with edges and PT traces`);
        const output: Buffer[] = [];
        const proc = new LinuxProcess(fs.readFileSync(exe), exe, {
          argv: [name],
          maxInstructions: 1e9,
          stdio: { readStdin: () => 0, write: (_fd, bytes) => output.push(Buffer.from(bytes)) },
        });
        const runDir = path.join(work, `${name}.run`);
        const rec = new RunRecorder(proc.machine.images, proc.machine.memory, {
          dir: runDir,
          test: name,
          traces: ['edges', 'pt', 'lbr'],
        });
        rec.attach(proc.machine.cpu);
        const result = proc.run();
        rec.finish(proc.machine.cpu.eip, result.instructions, { kind: 'exit', status: result.exitCode });
        const printed = Buffer.concat(output).toString('utf8').trim();
        step(
          `${name}: exit ${result.exitCode}, ${result.instructions} instructions, printed ${JSON.stringify(printed)}`,
        );
        docs.push(coverageFromRunDir(runDir, { fas, root: repo }).document);
      }
      step(`writing reports to ${path.relative(process.cwd(), opts.output) || '.'}`);
      writeReports(docs, {
        root: repo,
        outDir: opts.output,
        reporters: ['lcov', 'asm-html', 'html', 'json-summary', 'text-summary'],
        title: 'fasmcov demo',
      });
      const s = summarize(mergeCoverage(docs));
      step(
        `done in ${((Date.now() - started) / 1000).toFixed(1)} s: lines ${s.lines.pct}%, branches ${s.branches.pct}%, ` +
          `functions ${s.functions.pct}%`,
      );
      step(
        `open ${path.join(opts.output, 'asm-html/index.html')} (lcov: ${path.join(opts.output, 'lcov.info')})`,
      );
    });
}
