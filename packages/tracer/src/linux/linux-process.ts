import { GuestFault, VECTOR } from '../cpu';
import { BudgetExhaustedError, GuestMachine } from '../host';
import { LoaderError } from '../loaders';
import { FileTable, type LinuxStdio, processStdio } from './files';
import { buildInitialStack } from './initial-stack';
import { GuestExit, LinuxSyscalls } from './syscalls';

export interface LinuxRunOptions {
  /** argv[0] first. */
  argv: string[];
  /** Environment strings `KEY=VALUE` (default none, for reproducible runs). */
  env?: string[];
  /** Instruction budget for the whole run (default 10^10). */
  maxInstructions?: number;
  stdio?: LinuxStdio;
  /** Directory relative paths given to open() resolve against (default process.cwd()). */
  cwd?: string;
  /** time() result (default SOURCE_DATE_EPOCH or 0). */
  time?: number;
  /** strace-like log of the system calls. */
  trace?: (line: string) => void;
}

export interface LinuxRunResult {
  exitCode: number;
  instructions: number;
  machine: GuestMachine;
}

/** Top of the user stack, as on a 3 GiB/1 GiB Linux split; anonymous mmaps go below its guard page. */
const STACK_TOP = 0xc0000000;
const STACK_SIZE = 8 << 20;
const SLICE = 1 << 24;

/** The hlt instruction is privileged: in a Linux process it is a #GP. */
function hltFault(eip: number): GuestFault {
  return new GuestFault(VECTOR.GP, eip, undefined, 'hlt: privileged instruction');
}

/**
 * A 32-bit Linux process: the executable loaded, the initial stack built, int 0x80 served.
 * `run` returns the exit status or throws GuestFault (unhandled exception), BudgetExhaustedError.
 */
export class LinuxProcess {
  readonly machine = new GuestMachine({ stackTop: STACK_TOP, stackSize: STACK_SIZE });
  private readonly files: FileTable;

  constructor(
    bytes: Uint8Array,
    file: string,
    private readonly opts: LinuxRunOptions,
  ) {
    const machine = this.machine;
    const image = machine.loadExecutable(bytes, file);
    if (image.entry === undefined) throw new LoaderError(file, 'no entry point');
    const { cpu, memory } = machine;
    this.files = new FileTable(opts.stdio ?? processStdio, opts.cwd ?? process.cwd());
    const envTime = Number(process.env.SOURCE_DATE_EPOCH);
    const sys = new LinuxSyscalls(cpu, this.files, {
      brkStart: image.end,
      mmapTop: machine.stackBottom - 4096 * 16,
      time: opts.time ?? (Number.isFinite(envTime) ? envTime : 0),
      pid: 1000,
      trace: opts.trace,
    });
    cpu.interruptHook = (vector) => {
      if (vector === 0x80) return sys.syscall();
      // Other software interrupts are no gates a user process may use: #GP (the CPU attributes
      // a fault raised with eip -1 to the current instruction).
      throw new GuestFault(
        vector === VECTOR.BP ? VECTOR.BP : VECTOR.GP,
        -1,
        undefined,
        `int 0x${vector.toString(16)}`,
      );
    };
    cpu.regs.fill(0);
    cpu.regs[4] = buildInitialStack(memory, STACK_TOP, {
      argv: opts.argv,
      env: opts.env ?? [],
      entry: image.entry,
    });
    cpu.eip = image.entry;
  }

  run(): LinuxRunResult {
    const { cpu } = this.machine;
    const budget = this.opts.maxInstructions ?? 1e10;
    const start = cpu.instructionsRetired;
    try {
      for (;;) {
        const left = budget - (cpu.instructionsRetired - start);
        if (left <= 0) throw new BudgetExhaustedError(budget, cpu.eip, this.machine.symbolize(cpu.eip));
        const reason = cpu.run(Math.min(left, SLICE));
        if (reason === 'halt') throw hltFault((cpu.eip - 1) >>> 0);
      }
    } catch (e) {
      if (e instanceof GuestExit) {
        // The exiting `int 0x80` completed (eip is past it) but left through an exception
        // before the CPU counted it: count it, as hardware and a PT decoder do.
        cpu.instructionsRetired++;
        return { exitCode: e.code, instructions: cpu.instructionsRetired - start, machine: this.machine };
      }
      throw e;
    } finally {
      this.files.closeAll();
    }
  }
}

/** Loads and runs a Linux executable (see `LinuxProcess`). */
export function runLinuxExecutable(bytes: Uint8Array, file: string, opts: LinuxRunOptions): LinuxRunResult {
  return new LinuxProcess(bytes, file, opts).run();
}

/** The signal Linux would deliver for an exception vector, for a shell-like exit status (128 + n). */
export function signalForVector(vector: number): { name: string; number: number } {
  if (vector === VECTOR.DE) return { name: 'SIGFPE', number: 8 };
  if (vector === VECTOR.UD) return { name: 'SIGILL', number: 4 };
  if (vector === VECTOR.BP || vector === VECTOR.DB) return { name: 'SIGTRAP', number: 5 };
  return { name: 'SIGSEGV', number: 11 };
}
