import * as path from 'node:path';
import { GuestFault } from '../cpu';
import { BudgetExhaustedError } from '../host';
import type { LoadedImage } from '../loaders';
import { RunRecorder, type RunInfo, type TraceKind } from '../run';
import { UmkaShell } from './umka-shell';
import { UmkaSession, type UmkaLayout } from './umka-session';

export interface RunUmkaOptions {
  kernel: Uint8Array;
  kernelFile: string;
  /** The script's text (latin1: bytes pass through) and its file name, for messages. */
  scriptText: string;
  script: string;
  /** umka_shell's working folder: relative image paths resolve here (default: the script's). */
  cwd?: string;
  /** When set, every image is looked up here by its base name instead (generated images). */
  imageDir?: string;
  layout?: UmkaLayout;
  maxInstructions?: number;
  traces?: TraceKind[];
  runDir?: string;
  lbrDepth?: number;
  test?: string;
  /** Transcript bytes (latin1) as they are produced. */
  onText?: (text: string) => void;
  /**
   * The probe section of an instrumented umka.o: its 32-bit counters come back in `probeSlots`,
   * counted over the kernel calls a trace would cover (umka_init's are cleared).
   */
  probeSection?: string;
}

export interface RunUmkaResult {
  /** The transcript as a latin1 byte string. */
  transcript: string;
  instructions: number;
  /** Seconds spent in the kernel calls (loading and linking excluded). */
  seconds: number;
  runDir?: string;
  probeSlots?: Uint32Array;
}

/** A run stopped by a guest fault, the budget or a host-call error, with the transcript so far. */
export class UmkaRunError extends Error {
  constructor(
    message: string,
    readonly transcript: string,
    readonly eip?: number,
  ) {
    super(message);
    this.name = 'UmkaRunError';
  }
}

/** The kernel code only: the run directory snapshots these bytes (not 600 MiB of bss). */
function codeOnly(image: LoadedImage): LoadedImage {
  return { ...image, sections: image.sections.filter((s) => s.name === '.text') };
}

function probeArea(session: UmkaSession, name: string): { base: number; size: number } {
  const area = session.umka.image.sections.find((s) => s.name === name);
  if (!area) throw new UmkaRunError(`the kernel has no ${name} section (is it an instrumented build?)`, '');
  return area;
}

/** The test name of a script: its folder for `<name>/run.us`, else its file name. */
export function umkaTestName(script: string): string {
  const abs = path.resolve(script);
  return path.basename(abs) === 'run.us' ? path.basename(path.dirname(abs)) : path.basename(abs);
}

/**
 * Runs a umka_shell script on umka.o in the emulator and returns its transcript; with `traces`,
 * records one run directory over every kernel call (also when the run ends in a fault).
 */
export function runUmkaScript(o: RunUmkaOptions): RunUmkaResult {
  const session = new UmkaSession(o.kernel, o.kernelFile, {
    layout: o.layout,
    maxInstructions: o.maxInstructions,
  });
  const { cpu, memory, host } = session.umka.machine;
  const probes = o.probeSection === undefined ? undefined : probeArea(session, o.probeSection);
  if (probes) memory.writeBytes(probes.base, new Uint8Array(probes.size));
  const traces = o.traces ?? [];
  const recorder = traces.length
    ? new RunRecorder([codeOnly(session.umka.image)], memory, {
        dir: o.runDir ?? 'fasmcov-run',
        test: o.test ?? umkaTestName(o.script),
        traces,
        lbrDepth: o.lbrDepth,
        hostCallTail: 1,
      })
    : undefined;
  if (recorder) session.beforeCall = (address) => recorder.enter(cpu, address);
  let transcript = '';
  const cwd = o.cwd ?? path.dirname(path.resolve(o.script));
  const shell = new UmkaShell(session, {
    cwd,
    imageDir: o.imageDir,
    out: (t) => {
      transcript += t;
      o.onText?.(t);
    },
  });
  const finish = (end: RunInfo['end']): string | undefined => {
    if (recorder?.attached) return recorder.finish(host.returnAddress, cpu.instructionsRetired, end);
    recorder?.abandon();
    return undefined;
  };
  const started = process.hrtime.bigint();
  try {
    shell.runScript(o.scriptText);
    const runDir = finish({ kind: 'exit', status: 0 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    let probeSlots: Uint32Array | undefined;
    if (probes) {
      probeSlots = new Uint32Array(probes.size >>> 2);
      for (let i = 0; i < probeSlots.length; i++) probeSlots[i] = memory.read32(probes.base + 4 * i) >>> 0;
    }
    return { transcript, instructions: session.instructions, seconds, runDir, probeSlots };
  } catch (e) {
    const where = (eip: number) => ` (${session.umka.machine.symbolize(eip) ?? 'outside umka.o'})`;
    if (e instanceof GuestFault) {
      finish({ kind: 'fault', message: e.message });
      throw new UmkaRunError(`guest fault: ${e.message}${where(e.eip)}`, transcript, e.eip);
    }
    if (e instanceof BudgetExhaustedError) {
      finish({ kind: 'budget' });
      throw new UmkaRunError(`${e.message}${where(e.eip)}`, transcript, e.eip);
    }
    recorder?.abandon();
    throw e;
  } finally {
    session.close();
  }
}
