import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, FasFile } from '@fasmcov/fas';
import { instrument, type InstrumentOptions, type InstrumentResult, type Probe } from '@fasmcov/instrument';
import { BRANCH, GuestExit, LinuxProcess, type LinuxStdio } from '@fasmcov/tracer';

export const repoRoot = path.resolve(__dirname, '../../..');
export const fixturesDir = path.join(repoRoot, 'fixtures/instrument');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-instrument-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let serial = 0;
/** A fresh folder under the test file's temporary folder. */
export function tempDir(tag: string): string {
  const d = path.join(work, `${tag}-${serial++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Instruments `opts.main` into a fresh folder. */
export function instrumentInto(tag: string, opts: Omit<InstrumentOptions, 'outDir'>): InstrumentResult {
  return instrument({ ...opts, outDir: path.join(tempDir(tag), 'tree') });
}

export interface Built {
  exe: string;
  fas: FasFile;
}

/** Assembles a main file with real fasm (as a user would), returning the output and its .fas. */
export function build(
  main: string,
  opts: { includeDirs?: string[]; defines?: Array<[string, string]> } = {},
): Built {
  const dir = tempDir('build');
  const exe = path.join(dir, 'out');
  const symbols = path.join(dir, 'out.fas');
  assemble(main, { output: exe, symbols, ...opts });
  return { exe, fas: FasFile.read(symbols, { includeDirs: opts.includeDirs }) };
}

class Captured implements LinuxStdio {
  private readonly chunks: Buffer[] = [];
  readStdin(): number {
    return 0;
  }
  write(_fd: 1 | 2, bytes: Uint8Array): void {
    this.chunks.push(Buffer.from(bytes));
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

export interface Observed {
  output: string;
  status: number;
  instructions: number;
  /** Executions of each instruction address, and conditional branches taken / not taken by address. */
  executed: Map<number, number>;
  taken: Map<number, number>;
  notTaken: Map<number, number>;
}

const bump = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);

/**
 * Runs an executable one instruction at a time (no JIT), counting every executed address and
 * every conditional branch's outcome: the reference the probes are checked against.
 */
export function observe(exe: string): Observed {
  const stdio = new Captured();
  const proc = new LinuxProcess(fs.readFileSync(exe), exe, { argv: [exe], stdio });
  const { cpu } = proc.machine;
  // Stepping one instruction at a time needs the interpreter (a JIT, where present, is turned off).
  (cpu as { jit?: boolean }).jit = false;
  const o: Observed = {
    output: '',
    status: -1,
    instructions: 0,
    executed: new Map(),
    taken: new Map(),
    notTaken: new Map(),
  };
  cpu.branchHook = (from, _to, kind) => {
    if (kind === BRANCH.COND_TAKEN) bump(o.taken, from);
    if (kind === BRANCH.COND_NOT_TAKEN) bump(o.notTaken, from);
  };
  try {
    for (let n = 0; n < 10_000_000; n++) {
      bump(o.executed, cpu.eip);
      cpu.run(1);
    }
    throw new Error(`${exe}: did not exit`);
  } catch (e) {
    if (!(e instanceof GuestExit)) throw e;
    o.status = e.code;
  }
  o.output = stdio.text;
  o.instructions = cpu.instructionsRetired + 1;
  return o;
}

export interface ProbedRun {
  output: string;
  status: number;
  instructions: number;
  /** The probe area after the run, one number per slot. */
  slots: number[];
}

/** Runs an instrumented executable normally and reads its probe area (address from its .fas). */
export function runProbed(built: Built, slotSize: number, count: number): ProbedRun {
  const stdio = new Captured();
  const proc = new LinuxProcess(fs.readFileSync(built.exe), built.exe, { argv: [built.exe], stdio });
  const r = proc.run();
  const base = built.fas.symbol('__fcov_probes');
  if (!base) throw new Error('no __fcov_probes in the instrumented build');
  const mem = proc.machine.memory;
  const slots = Array.from({ length: count }, (_, i) =>
    slotSize === 1 ? mem.read8(base.address + i) : mem.read32(base.address + 4 * i) >>> 0,
  );
  return { output: stdio.text, status: r.exitCode, instructions: r.instructions, slots };
}

/** What a probe must read after the run, from the reference observation of the plain build. */
export function expectedCount(p: Probe, o: Observed): number {
  const at = p.address?.offset ?? -1;
  if (p.kind === 'branch-taken') return o.taken.get(at) ?? 0;
  if (p.kind === 'branch-not-taken') return o.notTaken.get(at) ?? 0;
  return o.executed.get(at) ?? 0;
}
