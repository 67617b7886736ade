// The `fasmcov bench cpu` workloads (whole Linux programs: loader, syscalls, compiled hot loops,
// interpreted rep string instructions) give the same output, instruction count and final state
// with the JIT (default threshold) as with FASMCOV_JIT=0.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { CPU_WORKLOADS, runLinuxExecutable } from '@fasmcov/tracer';
import { BENCH_ASM_DIR } from '../../src/bench/workloads';
import { peekEflags } from './jit-helpers';

const MARKER = Buffer.from('FASMCOV-PASSES:', 'latin1');
let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-jit-bench-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function build(id: number, passes: number): { bytes: Uint8Array; file: string } {
  const file = path.join(dir, `w${id}`);
  assemble(path.join(BENCH_ASM_DIR, 'emulated.asm'), { output: file, defines: [['WORKLOAD', String(id)]] });
  const bytes = fs.readFileSync(file);
  bytes.writeUInt32LE(passes, bytes.indexOf(MARKER) + MARKER.length);
  return { bytes: new Uint8Array(bytes), file };
}

function runWith(jit: boolean, bytes: Uint8Array, file: string): Record<string, unknown> {
  const saved = process.env.FASMCOV_JIT;
  process.env.FASMCOV_JIT = jit ? '1' : '0';
  try {
    const out: Buffer[] = [];
    const r = runLinuxExecutable(bytes, file, {
      argv: [file],
      stdio: { readStdin: () => 0, write: (_fd, b) => void out.push(Buffer.from(b)) },
    });
    const cpu = r.machine.cpu;
    expect(cpu.jit).toBe(jit);
    return {
      exitCode: r.exitCode,
      instructions: r.instructions,
      output: Buffer.concat(out).toString('hex'),
      regs: Array.from(cpu.regs),
      eflags: peekEflags(cpu),
      eip: cpu.eip,
    };
  } finally {
    if (saved === undefined) delete process.env.FASMCOV_JIT;
    else process.env.FASMCOV_JIT = saved;
  }
}

describe('bench workloads: JIT and interpreter agree', () => {
  for (const w of CPU_WORKLOADS) {
    it(w.name, () => {
      const { bytes, file } = build(w.id, 3);
      const want = runWith(false, bytes, file);
      const got = runWith(true, bytes, file);
      expect(got).toEqual(want);
      expect(want.output).toMatch(/^[0-9a-f]{8}$/);
    });
  }
});
