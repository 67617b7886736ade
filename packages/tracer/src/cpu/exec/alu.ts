import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../decode/insn';
import { trunc } from '../flags';

/** add/or/adc/sbb/and/sub/xor/cmp (op = the /r group index) on unsigned operands of `size` bytes. */
export function aluOp(cpu: Cpu, op: number, a: number, b: number, size: number): number {
  switch (op) {
    case 0:
      return cpu.add(a, b, 0, size);
    case 1:
      return cpu.logic(size === 4 ? (a | b) >>> 0 : a | b, size);
    case 2:
      return cpu.add(a, b, cpu.cf(), size);
    case 3:
      return cpu.sub(a, b, cpu.cf(), size);
    case 4:
      return cpu.logic(size === 4 ? (a & b) >>> 0 : a & b, size);
    case 6:
      return cpu.logic(size === 4 ? (a ^ b) >>> 0 : a ^ b, size);
    default: // sub, cmp
      return cpu.sub(a, b, 0, size);
  }
}

function sext8(v: number, size: number): number {
  return trunc((v << 24) >> 24, size);
}

/** Handlers for opcodes 00..3D (the eight classic ALU families, six forms each). */
export function aluHandler(opcode: number): Handler {
  const op = (opcode >> 3) & 7;
  const write = op !== 7;
  switch (opcode & 7) {
    case 0:
    case 1: {
      const byte = (opcode & 1) === 0;
      return (cpu, i) => {
        const size = byte ? 1 : i.size;
        const r = aluOp(cpu, op, cpu.readE(i, size), cpu.getReg(size, i.reg), size);
        if (write) cpu.writeE(i, size, r);
      };
    }
    case 2:
    case 3: {
      const byte = (opcode & 1) === 0;
      return (cpu, i) => {
        const size = byte ? 1 : i.size;
        const r = aluOp(cpu, op, cpu.getReg(size, i.reg), cpu.readE(i, size), size);
        if (write) cpu.setReg(size, i.reg, r);
      };
    }
    case 4:
      return (cpu, i) => {
        const r = aluOp(cpu, op, cpu.getReg(1, 0), i.imm, 1);
        if (write) cpu.setReg(1, 0, r);
      };
    default:
      return (cpu, i) => {
        const r = aluOp(cpu, op, cpu.getReg(i.size, 0), i.imm, i.size);
        if (write) cpu.setReg(i.size, 0, r);
      };
  }
}

/** Group 1 (80/81/82/83): op Eb/Ev, imm (83: sign-extended ib). */
export function grp1Handler(opcode: number, op: number): Handler {
  const write = op !== 7;
  return (cpu: Cpu, i: Insn) => {
    const size = opcode === 0x81 || opcode === 0x83 ? i.size : 1;
    const b = opcode === 0x83 ? sext8(i.imm, size) : i.imm;
    const r = aluOp(cpu, op, cpu.readE(i, size), b, size);
    if (write) cpu.writeE(i, size, r);
  };
}

export const incReg: Handler = (cpu, i) =>
  cpu.setReg(i.size, i.op & 7, cpu.incdec(cpu.getReg(i.size, i.op & 7), false, i.size));
export const decReg: Handler = (cpu, i) =>
  cpu.setReg(i.size, i.op & 7, cpu.incdec(cpu.getReg(i.size, i.op & 7), true, i.size));

export function incDecE(byte: boolean, dec: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    cpu.writeE(i, size, cpu.incdec(cpu.readE(i, size), dec, size));
  };
}

export function testE(byte: boolean, withImm: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    const b = withImm ? i.imm : cpu.getReg(size, i.reg);
    cpu.logic((cpu.readE(i, size) & b) >>> 0, size);
  };
}

export function testAcc(byte: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    cpu.logic((cpu.getReg(size, 0) & i.imm) >>> 0, size);
  };
}

export function notE(byte: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    cpu.writeE(i, size, trunc(~cpu.readE(i, size), size));
  };
}

export function negE(byte: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    cpu.writeE(i, size, cpu.sub(0, cpu.readE(i, size), 0, size));
  };
}
