import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { Cpu, Memory } from '@fasmcov/tracer';

export const CODE = 0x1000;
export const STACK_TOP = 0x90000;
/** The stack is 64 KiB below STACK_TOP; the page under it is an unmapped guard page. */
export const STACK_BOTTOM = STACK_TOP - 0x10000;
export const DATA = 0x200000;

let dir: string | undefined;
let n = 0;
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Assembles `use32` source at CODE with fasm and returns the bytes. */
export function asm(body: string): Uint8Array {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-cpu-'));
  const src = path.join(dir, `t${n}.asm`);
  const out = path.join(dir, `t${n++}.bin`);
  fs.writeFileSync(src, `use32\norg ${CODE}\n${body}\n`);
  assemble(src, { output: out });
  return new Uint8Array(fs.readFileSync(out));
}

/** A CPU with the program at CODE, a stack and a 64 KiB data area at DATA. */
export function load(body: string): Cpu {
  const mem = new Memory();
  const code = asm(body);
  mem.map(CODE, code.length + 16);
  mem.writeBytes(CODE, code);
  mem.map(STACK_BOTTOM, STACK_TOP - STACK_BOTTOM);
  mem.map(DATA, 0x10000);
  const cpu = new Cpu(mem);
  cpu.eip = CODE;
  cpu.regs[4] = STACK_TOP;
  return cpu;
}

/** Loads and runs to hlt. */
export function run(body: string, budget = 1_000_000): Cpu {
  const cpu = load(body);
  expect(cpu.run(budget)).toBe('halt');
  return cpu;
}
