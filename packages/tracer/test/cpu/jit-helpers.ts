import { Cpu, GuestFault, Memory } from '@fasmcov/tracer';
import { JIT_TUNING } from '../../src/cpu/jit/engine';
import { CODE, DATA, STACK_BOTTOM, STACK_TOP, asm } from './helpers';

/** Everything architectural a run leaves behind, for comparing the interpreter with the JIT. */
export interface Snapshot {
  regs: number[];
  eflags: number;
  eip: number;
  retired: number;
  mm: number[];
  memory: string;
  outcome: string;
}

/** eflags as getEflags() gives them, without settling the lazy record (so the next slice is unchanged). */
export function peekEflags(cpu: Cpu): number {
  const saved = [cpu.flags, cpu.fchg, cpu.lkind, cpu.lop1, cpu.lop2, cpu.lres, cpu.lcin, cpu.lsb];
  const v = cpu.getEflags();
  [cpu.flags, cpu.fchg, cpu.lkind, cpu.lop1, cpu.lop2, cpu.lres, cpu.lcin, cpu.lsb] = saved;
  return v;
}

function hexDump(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function snapshot(cpu: Cpu, outcome: string, ranges: Array<[number, number]>): Snapshot {
  return {
    regs: Array.from(cpu.regs, (v) => v >>> 0),
    eflags: peekEflags(cpu),
    eip: cpu.eip >>> 0,
    retired: cpu.instructionsRetired,
    mm: Array.from(cpu.mm),
    memory: ranges.map(([a, n]) => hexDump(cpu.memory.readBytes(a, n))).join('|'),
    outcome,
  };
}

/** Runs `budget` instructions; the outcome is the stop reason or the fault's message and eip. */
export function runOutcome(cpu: Cpu, budget: number): string {
  try {
    return cpu.run(budget);
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    return `fault ${e.vector} at ${e.eip.toString(16)} addr ${e.address?.toString(16)}: ${e.message}`;
  }
}

/** Compile every block the first time it is reached (restored after the suite). */
export function compileEagerly(): void {
  const before = JIT_TUNING.hotThreshold;
  beforeAll(() => {
    JIT_TUNING.hotThreshold = 1;
  });
  afterAll(() => {
    JIT_TUNING.hotThreshold = before;
  });
}

const assembled = new Map<string, Uint8Array>();

/** Like helpers.load (program at CODE, stack, data area) but assembles each source only once. */
export function loadOnce(body: string): Cpu {
  let code = assembled.get(body);
  if (code === undefined) {
    code = asm(body);
    assembled.set(body, code);
  }
  const mem = new Memory();
  mem.map(CODE, code.length + 16);
  mem.writeBytes(CODE, code);
  mem.map(STACK_BOTTOM, STACK_TOP - STACK_BOTTOM);
  mem.map(DATA, 0x10000);
  const cpu = new Cpu(mem);
  cpu.eip = CODE;
  cpu.regs[4] = STACK_TOP;
  return cpu;
}

/**
 * Direct calls whose routines return where they were called from (f, `ret 4` of h) and one that
 * does not every fourth time (g), a `call` of the next instruction and direct jumps.
 */
export const THROUGH = [
  'mov ecx, 60',
  'l: call f',
  'inc eax',
  'push 3',
  'call h',
  'call g',
  'back: jmp m',
  'm: dec ecx',
  'jnz l',
  'hlt',
  'f: add esi, ecx',
  'ret',
  'h: add ebx, [esp+4]',
  'ret 4',
  'g: call nx',
  'nx: pop edx',
  'test ecx, 3',
  'jnz gr',
  'mov dword [esp], other',
  'gr: ret',
  'other: add edi, 1',
  'jmp m',
].join('\n');
