import * as fs from 'node:fs';
import type { Command } from 'commander';
import { FasFile } from '@fasmcov/fas';
import {
  BudgetExhaustedError,
  GuestFault,
  LinuxProcess,
  RunRecorder,
  signalForVector,
  type RunInfo,
} from '@fasmcov/tracer';
import { CliError } from '../errors';
import { positiveInteger } from './option-values';
import { annotateLbrFile, lbrCrashReport, sourceNamer } from './guest-source';
import { addLbrOptions, lbrSelectOption, parseTraceKinds, type LbrOptionValues } from './trace-options';

interface ExecOptions extends LbrOptionValues {
  maxInstructions: number;
  strace?: boolean;
  env: string[];
  time?: number;
  fas?: string;
  trace: string[];
  runDir: string;
  test?: string;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new CliError(`--time: '${v}' is not a number of seconds`);
  return n;
}

/** Labels of a `.fas` file for an executable (absolute addresses), to name fault addresses. */
function fasLabels(fas: FasFile): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of fas.symbols)
    if (s.defined && !s.assemblyVariable && s.section === 0 && s.name) out.set(s.name, s.address);
  return out;
}

/** Exit status for "budget exhausted", as timeout(1) uses. */
const BUDGET_STATUS = 124;

export function registerExec(program: Command): void {
  const cmd = program
    .command('exec')
    .description(
      'run a 32-bit Linux ELF executable (fasm `format ELF executable`) in the emulator; ' +
        'put guest options after `--`',
    )
    .argument('<executable>', 'the program')
    .argument('[args...]', "the program's arguments")
    .option(
      '--max-instructions <n>',
      'instruction budget (exceeding it is an error)',
      positiveInteger('--max-instructions'),
      1e10,
    )
    .option('--strace', 'log system calls on stderr')
    .option(
      '--env <KEY=VALUE>',
      'add an environment string (the guest environment is otherwise empty)',
      (v, a: string[]) => [...a, v],
      [],
    )
    .option('--fas <file.fas>', "fasm's symbolic file for the program (fasm -s), to name fault addresses")
    .option('--time <seconds>', 'what time() returns (default $SOURCE_DATE_EPOCH or 0)', seconds)
    .option(
      '--trace <kinds>',
      'record branch traces: edges, pt, lbr (comma-separated or repeated)',
      (v, a: string[]) => [...a, v],
      [],
    )
    .option('--run-dir <dir>', 'where a traced run is written', 'fasmcov-run')
    .option('--test <name>', 'test name recorded in the run (default: the program file name)');
  addLbrOptions(cmd).action((file: string, args: string[], opts: ExecOptions) => {
    const traces = parseTraceKinds(opts.trace);
    const lbrSelect = lbrSelectOption(opts);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
    }
    const proc = new LinuxProcess(bytes, file, {
      argv: [file, ...args],
      env: opts.env,
      maxInstructions: opts.maxInstructions,
      time: opts.time,
      trace: opts.strace ? (line) => process.stderr.write(`[strace] ${line}\n`) : undefined,
    });
    const fas = opts.fas ? FasFile.read(opts.fas) : undefined;
    if (fas) for (const [name, a] of fasLabels(fas)) proc.machine.images[0].symbols.set(name, a);
    /** ` at file:line` (and the macro chain) of a guest address, when the .fas knows it. */
    const where = sourceNamer(fas);
    const label = (a: number): string => proc.machine.symbolize(a) ?? '';
    // The LBR as recorded, with labels and source lines, after the run directory is written.
    const lbrReport = (): string => {
      if (!traces.includes('lbr')) return '';
      annotateLbrFile(opts.runDir, label, where);
      return lbrCrashReport(opts.runDir, label, where);
    };
    const { cpu, memory, images } = proc.machine;
    const recorder = traces.length
      ? new RunRecorder(images, memory, {
          dir: opts.runDir,
          test: opts.test ?? file.split('/').pop() ?? file,
          traces,
          lbrDepth: opts.lbrDepth,
          lbrSelect,
        })
      : undefined;
    recorder?.attach(cpu);
    const record = (end: RunInfo['end']) => recorder?.finish(cpu.eip, cpu.instructionsRetired, end);
    try {
      const status = proc.run().exitCode;
      record({ kind: 'exit', status });
      lbrReport();
      process.exitCode = status;
    } catch (e) {
      if (e instanceof GuestFault) record({ kind: 'fault', message: e.message });
      else if (e instanceof BudgetExhaustedError) record({ kind: 'budget' });
      else recorder?.abandon();
      if (e instanceof GuestFault) {
        const sym = proc.machine.symbolize(e.eip);
        const signal = signalForVector(e.vector);
        throw new CliError(
          `guest fault: vector ${e.vector}, ${e.message}${sym ? ` (${sym})` : ''}${where(e.eip)} [${signal.name}]`,
          128 + signal.number,
          lbrReport(),
        );
      }
      if (e instanceof BudgetExhaustedError)
        throw new CliError(`guest stopped: ${e.message}`, BUDGET_STATUS, lbrReport());
      throw e;
    }
  });
}
