// `fasmcov bench trace`: cost of the branch recorders on the emulator, trace size, and PT decode
// speed, on a small loop (a conditional, a call/ret every other round, a loop instruction).
import { performance } from 'node:perf_hooks';
import {
  BufferSink,
  Cpu,
  EdgeRecorder,
  LbrRecorder,
  Memory,
  PtEncoder,
  classifyInstruction,
} from '@fasmcov/tracer';
import { CodeImage } from './code-image';
import { decodeFlow } from './pt-flow-decoder';

// mov ecx, N / l: mov eax, ecx / test al, 1 / jz s / call f / s: loop l / hlt / f: ret
function program(rounds: number): Uint8Array {
  const p = new Uint8Array([
    0xb9, 0, 0, 0, 0, 0x89, 0xc8, 0xa8, 0x01, 0x74, 0x05, 0xe8, 0x03, 0, 0, 0, 0xe2, 0xf3, 0xf4, 0xc3,
  ]);
  new DataView(p.buffer).setUint32(1, rounds, true);
  return p;
}

interface BenchLog {
  log: (line: string) => void;
  args: string[];
}

function machine(code: Uint8Array): Cpu {
  const mem = new Memory();
  mem.map(0x1000, 0x1000);
  mem.map(0x8000, 0x1000);
  mem.writeBytes(0x1000, code);
  const cpu = new Cpu(mem);
  cpu.eip = 0x1000;
  cpu.regs[4] = 0x9000;
  return cpu;
}

type Hook = (from: number, to: number, kind: number) => void;

/** Best of three runs (the machine may be shared), each with a fresh hook from `make`. */
function timed(code: Uint8Array, make: () => Hook | undefined): [number, Cpu] {
  let best = Infinity;
  let cpu = machine(code);
  for (let k = 0; k < 3; k++) {
    cpu = machine(code);
    cpu.branchHook = make();
    const t0 = performance.now();
    cpu.run(1e12);
    best = Math.min(best, performance.now() - t0);
  }
  return [best, cpu];
}

export async function runTraceBench(ctx: BenchLog): Promise<unknown> {
  const rounds = Number(ctx.args[0] ?? 1_000_000);
  const code = program(rounds);
  timed(code, () => undefined); // warm-up: the first runs pay for compiling the interpreter
  const [base, cpu] = timed(code, () => undefined);
  const insns = cpu.instructionsRetired;
  const mips = (ms: number): string => (insns / ms / 1000).toFixed(1);
  ctx.log(`trace: ${insns} instructions, no recorder: ${base.toFixed(0)} ms (${mips(base)} MIPS)`);
  const result: Record<string, number> = { instructions: insns, baseMs: base };

  const mem = machine(code).memory;
  const insnLength = (a: number): number => classifyInstruction((x) => mem.read8(x), a).length;
  const traces: Record<string, [BufferSink, PtEncoder]> = {};
  const pt = (name: string, retCompression: boolean) => (): Hook => {
    const sink = new BufferSink();
    const enc = new PtEncoder(sink, retCompression ? { retCompression: { insnLength } } : {});
    enc.enable(0x1000);
    traces[name] = [sink, enc];
    return enc.hook;
  };
  const recorders: Array<[string, () => Hook]> = [
    ['pt', pt('pt', false)],
    ['pt-retcomp', pt('pt-retcomp', true)],
    ['edges', () => new EdgeRecorder().hook],
    ['lbr', () => new LbrRecorder().hook],
  ];
  for (const [name, make] of recorders) {
    const [ms, c] = timed(code, make);
    traces[name]?.[1].finish(c.eip);
    result[`${name}Ms`] = ms;
    ctx.log(
      `trace: with ${name}: ${ms.toFixed(0)} ms (${mips(ms)} MIPS, +${(((ms - base) / base) * 100).toFixed(0)}%)`,
    );
  }
  for (const name of ['pt', 'pt-retcomp']) {
    const n = traces[name][0].length;
    result[`${name}Bytes`] = n;
    ctx.log(`trace: ${name}: ${n} bytes, ${((n * 8) / insns).toFixed(3)} bits per instruction`);
  }

  const image = new CodeImage();
  image.add(0x1000, code);
  for (const name of ['pt', 'pt-retcomp']) {
    const t0 = performance.now();
    const flow = decodeFlow(traces[name][0].toBytes(), { classify: classifyInstruction, read8: image.read8 });
    const ms = performance.now() - t0;
    result[`${name}DecodeMs`] = ms;
    ctx.log(
      `trace: ${name} decode: ${flow.instructions} instructions in ${ms.toFixed(0)} ms ` +
        `(${(flow.instructions / ms / 1000).toFixed(1)} M/s), ${flow.errors.length} errors`,
    );
    if (flow.instructions !== insns || flow.errors.length)
      throw new Error('PT decode did not reproduce the run');
  }
  return result;
}
