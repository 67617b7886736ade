import * as path from 'node:path';
import { BudgetExhaustedError, HostCallError } from '../host';
import { GuestFault } from '../cpu';
import { RunRecorder, type RunInfo, type TraceKind } from '../run';
import type { ScriptLine } from './commands';
import { ScriptError } from './commands';
import { KernelSession } from './kernel-session';
import { ScriptRunner } from './runner';

export interface RunScriptOptions {
  kernel: Uint8Array;
  kernelFile: string;
  lines: ScriptLine[];
  script: string;
  /** Relative image names resolve here (default: the script's folder). */
  imageDir?: string;
  /** Host files of write/create commands resolve here (default: the script's folder). */
  fileDir?: string;
  /** The kernel clock (default DEFAULT_KERNEL_TIME). */
  time?: number;
  maxInstructions: number;
  traces?: TraceKind[];
  runDir?: string;
  lbrDepth?: number;
  lbrSelect?: number;
  test?: string;
  log?: (line: string) => void;
  /** Each transcript line as it is produced. */
  onLine?: (line: string) => void;
}

export interface ScriptRunResult {
  transcript: string;
  instructions: number;
  /** The run directory, when traces were recorded. */
  runDir?: string;
}

/** A loaded section: guest address, size and its section number in the .fas (ELF objects). */
export interface SectionPlacement {
  address: number;
  size: number;
  fasSection?: number;
}

/**
 * A script run failed: a guest fault, the budget, or a script-level error. `line` is the script
 * line being run; `eip` the guest address for faults and budget run-outs.
 */
export class ScriptRunError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
    readonly line?: ScriptLine,
    readonly eip?: number,
    /** Where the kernel's sections were loaded, to map `eip` (and LBR records) back to the .fas. */
    readonly sections: SectionPlacement[] = [],
  ) {
    super(message);
    this.name = 'ScriptRunError';
  }
}

/** The test name of a script: its folder for `<name>/run.us`, else its file name. */
export function scriptTestName(script: string): string {
  const abs = path.resolve(script);
  return path.basename(abs) === 'run.us' ? path.basename(path.dirname(abs)) : path.basename(abs);
}

/**
 * Loads the kernel, runs every line of a script and returns the transcript; with `traces`, records
 * one run directory covering every call the script makes into the kernel (also for a run that ends
 * in a fault or the budget, so its coverage can be read).
 */
export function runScript(o: RunScriptOptions): ScriptRunResult {
  const session = new KernelSession(o.kernel, o.kernelFile, {
    time: o.time,
    maxInstructions: o.maxInstructions,
    log: o.log,
  });
  const scriptDir = path.dirname(path.resolve(o.script));
  const { cpu, memory, images } = session.machine;
  const traces = o.traces ?? [];
  const recorder = traces.length
    ? new RunRecorder(images, memory, {
        dir: o.runDir ?? 'fasmcov-run',
        test: o.test ?? scriptTestName(o.script),
        traces,
        lbrDepth: o.lbrDepth,
        lbrSelect: o.lbrSelect,
        // Host functions are stubs whose `ret` runs outside the traced kernel code.
        hostCallTail: 1,
      })
    : undefined;
  if (recorder) session.beforeCall = (address) => recorder.enter(cpu, address);
  const transcript: string[] = [];
  const runner = new ScriptRunner(
    session,
    { script: o.script, imageDir: o.imageDir ?? scriptDir, fileDir: o.fileDir ?? scriptDir },
    (l) => {
      transcript.push(l);
      o.onLine?.(l);
    },
  );
  const finish = (end: RunInfo['end']) =>
    recorder?.finish(session.machine.host.returnAddress, cpu.instructionsRetired, end);
  let current: ScriptLine | undefined;
  try {
    for (const l of o.lines) {
      current = l;
      runner.runLine(l);
    }
    const runDir = finish({ kind: 'exit', status: 0 });
    return {
      transcript: transcript.length ? `${transcript.join('\n')}\n` : '',
      instructions: session.instructions,
      runDir,
    };
  } catch (e) {
    const at = current ? `${o.script}:${current.line}: ${current.text.trim()}: ` : '';
    const sym = (eip: number) => {
      const name = session.machine.symbolize(eip);
      return name ? ` (${name})` : '';
    };
    const placed: SectionPlacement[] = session.machine.images.flatMap((i) =>
      i.sections.map((s) => ({ address: s.base, size: s.size, fasSection: s.fasSection || undefined })),
    );
    if (e instanceof GuestFault) {
      finish({ kind: 'fault', message: e.message });
      throw new ScriptRunError(`${at}guest fault: ${e.message}${sym(e.eip)}`, e, current, e.eip, placed);
    }
    if (e instanceof BudgetExhaustedError) {
      finish({ kind: 'budget' });
      throw new ScriptRunError(`${at}${e.message}${sym(e.eip)}`, e, current, e.eip, placed);
    }
    recorder?.abandon();
    if (e instanceof ScriptError) throw new ScriptRunError(e.message, e, current);
    if (e instanceof HostCallError) throw new ScriptRunError(`${at}${e.message}`, e, current, e.address);
    throw e;
  } finally {
    session.close();
  }
}
