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
import { frameNamer, readRunInfo } from '@fasmcov/report';
import { CliError } from '../errors';
import { runUmkaCommand } from './kolibrios';
import { positiveInteger } from './option-values';
import { annotateLbrFile, lbrCrashReport, sourceNamer } from './guest-source';
import { addLbrOptions, lbrSelectOption, parseTraceKinds, type LbrOptionValues } from './trace-options';

interface RunOptions extends LbrOptionValues {
  fas?: string;
  script: string;
  output?: string;
  ref?: string;
  imageDir?: string;
  time?: number;
  maxInstructions: number;
  trace: string[];
  runDir: string;
  test?: string;
  log?: boolean;
  abi: string;
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

/** Labels of a run directory's addresses (nearest .fas symbol), when the .fas is at hand. */
function runLabels(fas: FasFile | undefined, runDir: string): (a: number) => string {
  if (!fas || !fs.existsSync(runDir)) return () => '';
  return frameNamer(fas, readRunInfo(runDir));
}

export function registerRun(program: Command): void {
  const cmd = program
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
    .option('--test <name>', 'test name recorded in the run (default: the script folder or file name)')
    .option('--log', 'print the kernel log on standard error')
    .option(
      '--abi <ours|umka>',
      "the kernel's ABI: fasmcov's own kernel, or UMKa's umka.o (umka_shell scripts)",
      'ours',
    );
  addLbrOptions(cmd).action((kernelFile: string, opts: RunOptions) => {
    if (opts.abi === 'umka') return runUmkaCommand(kernelFile, opts);
    if (opts.abi !== 'ours') throw new CliError(`--abi: '${opts.abi}' is not ours or umka`);
    const traces = parseTraceKinds(opts.trace);
    const lbrSelect = lbrSelectOption(opts);
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
        lbrSelect,
        test: opts.test,
        log: opts.log ? (l) => process.stderr.write(`[kernel] ${l}\n`) : undefined,
        onLine: toStdout ? (l) => process.stdout.write(`${l}\n`) : undefined,
      });
    } catch (e) {
      if (e instanceof ScriptRunError) {
        // Name the guest address by symbol and source line when the .fas is at hand.
        const source = sourceNamer(fas, e.sections);
        const where = e.eip === undefined ? '' : source(e.eip);
        const budget = e.cause instanceof BudgetExhaustedError;
        let crash = '';
        if (traces.includes('lbr') && e.eip !== undefined) {
          const label = runLabels(fas, opts.runDir);
          annotateLbrFile(opts.runDir, label, source);
          crash = lbrCrashReport(opts.runDir, label, source);
        }
        throw new CliError(`${e.message}${where}`, budget ? 124 : 1, crash);
      }
      if (e instanceof BudgetExhaustedError) throw new CliError(`${kernelFile}: ${e.message}`, 124);
      if (e instanceof HostCallError || e instanceof GuestFault)
        throw new CliError(`${kernelFile}: ${e.message}`);
      throw e;
    }
    if (traces.includes('lbr') && fas && result.runDir)
      annotateLbrFile(
        result.runDir,
        runLabels(fas, result.runDir),
        sourceNamer(fas, readRunInfo(result.runDir).sections),
      );
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
