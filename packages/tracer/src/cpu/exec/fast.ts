import { BYTE_REG } from '../constants';
import type { Handler, Insn } from '../decode/insn';
import { aluOp } from './alu';
import { shiftOp } from './shift';

/**
 * 32-bit specialisations of the hottest forms, chosen at decode time (operand size 4, register
 * or memory operand known), so the common path skips the generic size and operand dispatch.
 */
function aluEG(op: number, mod3: boolean): Handler {
  const write = op !== 7;
  if (mod3)
    return (cpu, i) => {
      const r = aluOp(cpu, op, cpu.regs[i.rm] >>> 0, cpu.regs[i.reg] >>> 0, 4);
      if (write) cpu.regs[i.rm] = r;
    };
  return (cpu, i) => {
    const a = cpu.ea(i);
    const r = aluOp(cpu, op, cpu.memory.read32(a) >>> 0, cpu.regs[i.reg] >>> 0, 4);
    if (write) cpu.memory.write32(a, r);
  };
}
function aluGE(op: number, mod3: boolean): Handler {
  const write = op !== 7;
  if (mod3)
    return (cpu, i) => {
      const r = aluOp(cpu, op, cpu.regs[i.reg] >>> 0, cpu.regs[i.rm] >>> 0, 4);
      if (write) cpu.regs[i.reg] = r;
    };
  return (cpu, i) => {
    const r = aluOp(cpu, op, cpu.regs[i.reg] >>> 0, cpu.memory.read32(cpu.ea(i)) >>> 0, 4);
    if (write) cpu.regs[i.reg] = r;
  };
}
function aluImm(op: number, mod3: boolean, signExtend: boolean): Handler {
  const write = op !== 7;
  const imm = (i: Insn): number => (signExtend ? ((i.imm << 24) >> 24) >>> 0 : i.imm);
  if (mod3)
    return (cpu, i) => {
      const r = aluOp(cpu, op, cpu.regs[i.rm] >>> 0, imm(i), 4);
      if (write) cpu.regs[i.rm] = r;
    };
  return (cpu, i) => {
    const a = cpu.ea(i);
    const r = aluOp(cpu, op, cpu.memory.read32(a) >>> 0, imm(i), 4);
    if (write) cpu.memory.write32(a, r);
  };
}

const movEGreg: Handler = (cpu, i) => {
  cpu.regs[i.rm] = cpu.regs[i.reg];
};
const movEGmem: Handler = (cpu, i) => cpu.memory.write32(cpu.ea(i), cpu.regs[i.reg]);
const movGEmem: Handler = (cpu, i) => {
  cpu.regs[i.reg] = cpu.memory.read32(cpu.ea(i));
};
const movzxByteMem: Handler = (cpu, i) => {
  cpu.regs[i.reg] = cpu.memory.read8(cpu.ea(i));
};

// [reg form, memory form] per opcode.
const FAST = new Map<number, [Handler, Handler]>();
for (let op = 0; op < 8; op++) {
  FAST.set((op << 3) | 1, [aluEG(op, true), aluEG(op, false)]);
  FAST.set((op << 3) | 3, [aluGE(op, true), aluGE(op, false)]);
}
FAST.set(0x89, [movEGreg, movEGmem]);
FAST.set(0x8b, [movEGregSwap(), movGEmem]);
FAST.set(0x1b6, [
  (cpu, i) => (cpu.regs[i.reg] = (cpu.regs[i.rm & 3] >>> (i.rm & 4 ? 8 : 0)) & 0xff),
  movzxByteMem,
]);
const GRP1_FAST: Array<[Handler, Handler]>[] = [0x81, 0x83].map((opc) =>
  [0, 1, 2, 3, 4, 5, 6, 7].map((op) => [aluImm(op, true, opc === 0x83), aluImm(op, false, opc === 0x83)]),
);

function movEGregSwap(): Handler {
  return (cpu, i) => {
    cpu.regs[i.reg] = cpu.regs[i.rm];
  };
}

const incReg32: Handler = (cpu, i) => {
  const r = i.op & 7;
  cpu.regs[r] = cpu.incdec(cpu.regs[r] >>> 0, false, 4);
};
const decReg32: Handler = (cpu, i) => {
  const r = i.op & 7;
  cpu.regs[r] = cpu.incdec(cpu.regs[r] >>> 0, true, 4);
};
/** C1 /op r32, imm8 (count 0 returns the value unchanged and leaves the flags alone). */
const SHIFT_IMM_REG: Handler[] = [0, 1, 2, 3, 4, 5, 6, 7].map((op): Handler => (cpu, i) => {
  cpu.regs[i.rm] = shiftOp(cpu, op, cpu.regs[i.rm] >>> 0, i.imm, 4);
});

/** Byte ALU between registers: 00/08/../38 (Eb,Gb) and 02/0A/../3A (Gb,Eb) with ModRM.mod = 3. */
function aluByteRegs(op: number, toRm: boolean): Handler {
  const write = op !== 7;
  return (cpu, i) => {
    const d = BYTE_REG[toRm ? i.rm : i.reg];
    const r = aluOp(cpu, op, cpu.r8[d], cpu.r8[BYTE_REG[toRm ? i.reg : i.rm]], 1);
    if (write) cpu.r8[d] = r;
  };
}
const BYTE_FAST = new Map<number, Handler>();
for (let op = 0; op < 8; op++) {
  BYTE_FAST.set(op << 3, aluByteRegs(op, true));
  BYTE_FAST.set((op << 3) | 2, aluByteRegs(op, false));
}

/** A specialised handler for a common form, or undefined. */
export function fastHandler(i: Insn): Handler | undefined {
  if (i.lock) return undefined;
  if (i.mod3 && i.op < 0x40) {
    const b = BYTE_FAST.get(i.op);
    if (b) return b;
  }
  if (i.size !== 4) return undefined;
  if (i.op >= 0x40 && i.op <= 0x4f) return i.op < 0x48 ? incReg32 : decReg32;
  if (i.op === 0xc1 && i.mod3) return SHIFT_IMM_REG[i.reg];
  const f = FAST.get(i.op);
  if (f) return f[i.mod3 ? 0 : 1];
  if (i.op === 0x81 || i.op === 0x83) return GRP1_FAST[i.op === 0x81 ? 0 : 1][i.reg][i.mod3 ? 0 : 1];
  return undefined;
}
