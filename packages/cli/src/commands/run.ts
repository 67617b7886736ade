import * as fs from 'node:fs';
import type { Command } from 'commander';
import { FasFile, writeFileAtomic } from '@fasmcov/fas';
import {
  BudgetExhaustedError,
  DEFAULT_KERNEL_TIME,
  GuestFault,
  HostCallError,
  parseScript,
  runScript,
  ScriptError,
  ScriptRunError,
  unifiedDiff,
  type ScriptLine,
  type ScriptRunResult,
} from '@fasmcov/tracer';
import { CliError } from '../errors';
import { positiveInteger } from './option-values';
import { parseTraceKinds } from './trace-options';

interface RunOptions {
  fas?: string;
  script: string;
  output?: string;
  ref?: string;
  imageDir?: string;
  time?: number;
  maxInstructions: number;
  trace: string[];
  runDir: string;
  lbrDepth: number;
  test?: string;
  log?: boolean;
}

/** Default clock of the kernel: $SOURCE_DATE_EPOCH, else 2020-01-01 (FAT cannot store 1970). */
function defaultTime(): number {
  const env = Number(process.env.SOURCE_DATE_EPOCH);
  return Number.isInteger(env) && env > 0 ? env : DEFAULT_KERNEL_TIME;
}

function readOrFail(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new CliError(
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** ` at file:line via ...` of a guest address, when the .fas knows it. */
function sourceOf(fas: FasFile | undefined, eip: number): string {
  const loc = fas?.findAddress(eip);
  if (!loc) return '';
  return ` at ${loc.file.name}:${loc.line}${loc.chain.map((c) => ` via ${c.file.name}:${c.line}`).join('')}`;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a UMKa-style script against a kernel object (the bundled kernel by default layout)')
    .argument('<kernel.o>', 'the kernel, a fasm `format ELF` object')
    .option(
      '--fas <kernel.fas>',
      "the kernel's symbolic file (fasm -s), to name fault addresses by source line",
    )
    .requiredOption('--script <file>', 'the script (disk_add, stat70, read70, ls70, ...)')
    .option('-o, --output <file>', 'write the transcript here (default: standard output)')
    .option(
      '--ref <ref.log>',
      'compare the transcript with a reference log; on a mismatch print a diff, exit 1',
    )
    .option('--image-dir <dir>', "where relative image names resolve (default: the script's folder)")
    .option(
      '--time <seconds>',
      'Unix time the kernel clock reads (default $SOURCE_DATE_EPOCH or 2020-01-01)',
      positiveInteger('--time'),
    )
    .option(
      '--max-instructions <n>',
      'instruction budget of the whole run',
      positiveInteger('--max-instructions'),
      2e10,
    )
    .option(
      '--trace <kinds>',
      'record branch traces: edges, pt, lbr (comma-separated or repeated)',
      (v, a: string[]) => [...a, v],
      [],
    )
    .option('--run-dir <dir>', 'where a traced run is written', 'fasmcov-run')
    .option('--lbr-depth <n>', 'entries in the LBR ring', positiveInteger('--lbr-depth'), 32)
    .option('--test <name>', 'test name recorded in the run (default: the script folder or file name)')
    .option('--log', 'print the kernel log on standard error')
    .action((kernelFile: string, opts: RunOptions) => {
      const traces = parseTraceKinds(opts.trace);
      const kernel = readOrFail(kernelFile, 'kernel');
      const scriptText = readOrFail(opts.script, 'script').toString('utf8');
      const ref = opts.ref === undefined ? undefined : readOrFail(opts.ref, 'reference log').toString('utf8');
      let lines: ScriptLine[];
      try {
        lines = parseScript(scriptText, opts.script);
      } catch (e) {
        if (e instanceof ScriptError) throw new CliError(e.message);
        throw e;
      }
      const fas = opts.fas ? FasFile.read(opts.fas) : undefined;
      const toStdout = opts.output === undefined && ref === undefined;
      let result: ScriptRunResult;
      try {
        result = runScript({
          kernel,
          kernelFile,
          lines,
          script: opts.script,
          imageDir: opts.imageDir,
          time: opts.time ?? defaultTime(),
          maxInstructions: opts.maxInstructions,
          traces,
          runDir: opts.runDir,
          lbrDepth: opts.lbrDepth,
          test: opts.test,
          log: opts.log ? (l) => process.stderr.write(`[kernel] ${l}\n`) : undefined,
          onLine: toStdout ? (l) => process.stdout.write(`${l}\n`) : undefined,
        });
      } catch (e) {
        if (e instanceof ScriptRunError) {
          // Name the guest address by symbol and source line when the .fas is at hand.
          const where = e.eip === undefined ? '' : sourceOf(fas, e.eip);
          const budget = e.cause instanceof BudgetExhaustedError;
          throw new CliError(`${e.message}${where}`, budget ? 124 : 1);
        }
        if (e instanceof BudgetExhaustedError) throw new CliError(`${kernelFile}: ${e.message}`, 124);
        if (e instanceof HostCallError || e instanceof GuestFault)
          throw new CliError(`${kernelFile}: ${e.message}`);
        throw e;
      }
      const text = result.transcript;
      if (opts.output !== undefined) writeFileAtomic(opts.output, text);
      if (ref !== undefined) {
        const diff = unifiedDiff(ref, text, opts.ref as string, opts.output ?? 'transcript');
        if (diff) {
          process.stdout.write(diff);
          throw new CliError(`the transcript differs from ${opts.ref}`, 1);
        }
      }
    });
}
