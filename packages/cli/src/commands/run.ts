import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile, writeFileAtomic } from '@fasmcov/fas';
import {
  BudgetExhaustedError,
  GuestFault,
  HostCallError,
  KernelSession,
  parseScript,
  RunRecorder,
  ScriptError,
  ScriptRunner,
  unifiedDiff,
  type ScriptLine,
} from '@fasmcov/tracer';
import { CliError } from '../errors';
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
  return Number.isInteger(env) && env > 0 ? env : 1577836800;
}

function positiveInteger(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`${what}: '${v}' is not a positive integer`);
    return n;
  };
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
      let session: KernelSession;
      try {
        session = new KernelSession(kernel, kernelFile, {
          time: opts.time ?? defaultTime(),
          maxInstructions: opts.maxInstructions,
          log: opts.log ? (l) => process.stderr.write(`[kernel] ${l}\n`) : undefined,
        });
      } catch (e) {
        throw new CliError(
          `${kernelFile}: ${(e as Error).message}`,
          e instanceof BudgetExhaustedError ? 124 : 1,
        );
      }
      const scriptDir = path.dirname(path.resolve(opts.script));
      const testName =
        opts.test ??
        (path.basename(opts.script) === 'run.us' ? path.basename(scriptDir) : path.basename(opts.script));
      const { cpu, memory, images } = session.machine;
      const recorder = traces.length
        ? new RunRecorder(images, memory, {
            dir: opts.runDir,
            test: testName,
            traces,
            lbrDepth: opts.lbrDepth,
          })
        : undefined;
      if (recorder) {
        let attached = false;
        session.beforeCall = (address) => {
          if (!attached) {
            cpu.eip = address;
            recorder.attach(cpu);
            attached = true;
          } else recorder.resume(address);
        };
      }
      const transcript: string[] = [];
      const toStdout = opts.output === undefined && ref === undefined;
      const runner = new ScriptRunner(
        session,
        { script: opts.script, imageDir: opts.imageDir ?? scriptDir, fileDir: scriptDir },
        (l) => {
          transcript.push(l);
          if (toStdout) process.stdout.write(`${l}\n`);
        },
      );
      let current: ScriptLine | undefined;
      const finish = (end: Parameters<RunRecorder['finish']>[2]) =>
        recorder?.finish(session.machine.host.returnAddress, cpu.instructionsRetired, end);
      try {
        for (const l of lines) {
          current = l;
          runner.runLine(l);
        }
        finish({ kind: 'exit', status: 0 });
      } catch (e) {
        const at = current ? `${opts.script}:${current.line}: ${current.text.trim()}: ` : '';
        if (e instanceof GuestFault) {
          finish({ kind: 'fault', message: e.message });
          const sym = session.machine.symbolize(e.eip);
          throw new CliError(
            `${at}guest fault: ${e.message}${sym ? ` (${sym})` : ''}${sourceOf(fas, e.eip)}`,
          );
        }
        if (e instanceof BudgetExhaustedError) {
          finish({ kind: 'budget' });
          const sym = session.machine.symbolize(e.eip);
          throw new CliError(`${at}${e.message}${sym ? ` (${sym})` : ''}${sourceOf(fas, e.eip)}`, 124);
        }
        recorder?.abandon();
        if (e instanceof ScriptError) throw new CliError(e.message);
        if (e instanceof HostCallError) throw new CliError(`${at}${e.message}`);
        throw e;
      } finally {
        session.close();
      }
      const text = transcript.length ? `${transcript.join('\n')}\n` : '';
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
