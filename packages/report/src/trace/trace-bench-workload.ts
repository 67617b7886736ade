// The workloads of `fasmcov bench trace`, described by data (built once by the parent process) and
// run in a child process per measurement (trace-bench-child.ts).
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  KernelSession,
  LinuxProcess,
  RunRecorder,
  ScriptRunner,
  type ScriptLine,
  type TraceKind,
} from '@fasmcov/tracer';

/** A `bench cpu` workload's emulated build, or the bundled kernel running a fixture's lines. */
export type WorkloadSpec =
  | { kind: 'linux'; name: string; elf: string }
  | {
      kind: 'kernel';
      name: string;
      object: string;
      script: string;
      imageDir: string;
      fileDir: string;
      lines: ScriptLine[];
    };

/** One timed run: what the guest printed and how many instructions it retired. */
export interface TimedRun {
  ms: number;
  instructions: number;
  output: string;
}

/** Runs a `bench cpu` workload as a Linux process, recorded as `fasmcov exec` records it. */
function runLinux(w: Extract<WorkloadSpec, { kind: 'linux' }>, traces: TraceKind[], dir: string): TimedRun {
  const bytes = new Uint8Array(fs.readFileSync(w.elf));
  const output: Buffer[] = [];
  const p = new LinuxProcess(bytes, w.name, {
    argv: [w.name],
    stdio: { readStdin: () => 0, write: (_fd, b) => void output.push(Buffer.from(b)) },
  });
  const { cpu, memory, images } = p.machine;
  const rec = traces.length ? new RunRecorder(images, memory, { dir, test: w.name, traces }) : undefined;
  const t0 = performance.now();
  rec?.attach(cpu);
  const r = p.run();
  rec?.finish(cpu.eip, cpu.instructionsRetired, { kind: 'exit', status: r.exitCode });
  const ms = performance.now() - t0;
  return { ms, instructions: r.instructions, output: Buffer.concat(output).toString('hex') };
}

/**
 * Runs the kernel's script lines wired to the recorders as `fasmcov run` wires them; the timing
 * covers the script lines and the recorder's finish, not loading the kernel.
 */
function runKernel(w: Extract<WorkloadSpec, { kind: 'kernel' }>, traces: TraceKind[], dir: string): TimedRun {
  const kernel = fs.readFileSync(w.object);
  const session = new KernelSession(kernel, w.object, { maxInstructions: 1e12 });
  const { cpu, memory, images } = session.machine;
  const rec = traces.length
    ? new RunRecorder(images, memory, { dir, test: 'kernel', traces, hostCallTail: 1 })
    : undefined;
  if (rec) session.beforeCall = (address) => rec.enter(cpu, address);
  const out: string[] = [];
  const runner = new ScriptRunner(
    session,
    { script: w.script, imageDir: w.imageDir, fileDir: w.fileDir },
    (l) => out.push(l),
  );
  try {
    const before = session.instructions;
    const t0 = performance.now();
    runner.runAll(w.lines);
    rec?.finish(session.machine.host.returnAddress, cpu.instructionsRetired, { kind: 'exit', status: 0 });
    const ms = performance.now() - t0;
    return { ms, instructions: session.instructions - before, output: out.join('\n') };
  } finally {
    session.close();
  }
}

/** JSON of a spec (script lines hold bigint offsets). */
export function specToJson(w: WorkloadSpec): string {
  return JSON.stringify(w, (_k, v: unknown) => (typeof v === 'bigint' ? { bigint: v.toString() } : v));
}

export function specFromJson(text: string): WorkloadSpec {
  return JSON.parse(text, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && typeof (v as { bigint?: unknown }).bigint === 'string'
      ? BigInt((v as { bigint: string }).bigint)
      : v,
  ) as WorkloadSpec;
}

export function runWorkload(w: WorkloadSpec, traces: TraceKind[], dir: string): TimedRun {
  return w.kind === 'linux' ? runLinux(w, traces, dir) : runKernel(w, traces, dir);
}
