import type { Cpu } from '../cpu';
import type { Handler } from '../decode/insn';
import { FLAG, VECTOR } from '../constants';
import { sext, trunc } from '../flags';

export const movEG =
  (byte: boolean): Handler =>
  (cpu, i) => {
    const size = byte ? 1 : i.size;
    cpu.writeE(i, size, cpu.getReg(size, i.reg), false);
  };
export const movGE =
  (byte: boolean): Handler =>
  (cpu, i) => {
    const size = byte ? 1 : i.size;
    cpu.setReg(size, i.reg, cpu.readE(i, size));
  };
export const movRegImm8: Handler = (cpu, i) => cpu.setReg(1, i.op & 7, i.imm);
export const movRegImm: Handler = (cpu, i) => cpu.setReg(i.size, i.op & 7, i.imm);
export const movEImm =
  (byte: boolean): Handler =>
  (cpu, i) => {
    if (i.reg !== 0) throw cpu.fault(VECTOR.UD, 'mov group with reg != 0');
    cpu.writeE(i, byte ? 1 : i.size, i.imm, false);
  };
/** A0..A3: mov al/eax <-> [moffs]. */
export const movMoffs =
  (toMem: boolean, byte: boolean): Handler =>
  (cpu, i) => {
    const size = byte ? 1 : i.size;
    if (toMem) cpu.wr(size, i.imm, cpu.getReg(size, 0));
    else cpu.setReg(size, 0, cpu.rd(size, i.imm));
  };
export const lea: Handler = (cpu, i) => {
  if (i.mod3) throw cpu.fault(VECTOR.UD, 'lea with a register operand');
  cpu.setReg(i.size, i.reg, trunc(cpu.ea(i), i.size));
};
export const movx =
  (srcSize: number, signed: boolean): Handler =>
  (cpu, i) => {
    const v = cpu.readE(i, srcSize);
    cpu.setReg(i.size, i.reg, signed ? trunc(sext(v, srcSize), i.size) : v);
  };
export const xchgEG =
  (byte: boolean): Handler =>
  (cpu, i) => {
    const size = byte ? 1 : i.size;
    const a = cpu.readE(i, size);
    cpu.writeE(i, size, cpu.getReg(size, i.reg));
    cpu.setReg(size, i.reg, a);
  };
export const xchgAcc: Handler = (cpu, i) => {
  const r = i.op & 7;
  const a = cpu.getReg(i.size, r);
  cpu.setReg(i.size, r, cpu.getReg(i.size, 0));
  cpu.setReg(i.size, 0, a);
};
export const xadd =
  (byte: boolean): Handler =>
  (cpu, i) => {
    const size = byte ? 1 : i.size;
    const d = cpu.readE(i, size);
    const s = cpu.getReg(size, i.reg);
    const r = cpu.add(d, s, 0, size);
    cpu.setReg(size, i.reg, d);
    cpu.writeE(i, size, r);
  };
export const cmpxchg =
  (byte: boolean): Handler =>
  (cpu, i) => {
    const size = byte ? 1 : i.size;
    const d = cpu.readE(i, size);
    const acc = cpu.getReg(size, 0);
    cpu.sub(acc, d, 0, size);
    if (acc === d) cpu.writeE(i, size, cpu.getReg(size, i.reg));
    else {
      // The destination is written back unchanged (a locked read-modify-write), then eax loaded.
      cpu.writeE(i, size, d);
      cpu.setReg(size, 0, d);
    }
  };
export const grp9: Handler = (cpu, i) => {
  if (i.reg !== 1 || i.mod3) throw cpu.fault(VECTOR.UD, 'group 9 form other than cmpxchg8b m64');
  const a = cpu.ea(i);
  const lo = cpu.memory.read32(a);
  const hi = cpu.memory.read32((a + 4) | 0);
  if (lo === cpu.regs[0] && hi === cpu.regs[2]) {
    cpu.memory.write32(a, cpu.regs[3]);
    cpu.memory.write32((a + 4) | 0, cpu.regs[1]);
    cpu.setFlag(FLAG.ZF, 1);
  } else {
    cpu.memory.write32(a, lo);
    cpu.memory.write32((a + 4) | 0, hi);
    cpu.regs[0] = lo;
    cpu.regs[2] = hi;
    cpu.setFlag(FLAG.ZF, 0);
  }
};
export const cbw: Handler = (cpu, i) => {
  if (i.size === 2) cpu.r16[0] = sext(cpu.regs[0] & 0xff, 1);
  else cpu.regs[0] = sext(cpu.regs[0] & 0xffff, 2);
};
export const cwd: Handler = (cpu, i) => {
  if (i.size === 2) cpu.r16[4] = sext(cpu.r16[0], 2) >> 16;
  else cpu.regs[2] = cpu.regs[0] >> 31;
};
export const cmov: Handler = (cpu, i) => {
  const v = cpu.readE(i, i.size);
  if (cpu.cond(i.op & 15)) cpu.setReg(i.size, i.reg, v);
};
export const setcc: Handler = (cpu, i) => cpu.writeE(i, 1, cpu.cond(i.op & 15) ? 1 : 0, false);
export const lahf: Handler = (cpu) => {
  cpu.r8[1] = (cpu.getEflags() & 0xd5) | 2;
};
export const sahf: Handler = (cpu) => cpu.putFlags(0xd5, cpu.r8[1]);
export const xlat: Handler = (cpu, i) => {
  const base = i.asize === 2 ? cpu.r16[6] : cpu.regs[3];
  const a = base + (cpu.regs[0] & 0xff);
  cpu.r8[0] = cpu.memory.read8(i.asize === 2 ? a & 0xffff : a | 0);
};
export const clc: Handler = (cpu) => cpu.setFlag(FLAG.CF, 0);
export const stc: Handler = (cpu) => cpu.setFlag(FLAG.CF, 1);
export const cmc: Handler = (cpu) => cpu.setFlag(FLAG.CF, cpu.cf() ^ 1);
export const cld: Handler = (cpu) => cpu.setFlag(FLAG.DF, 0);
export const std: Handler = (cpu) => cpu.setFlag(FLAG.DF, 1);
export const salc: Handler = (cpu) => {
  cpu.r8[0] = cpu.cf() ? 0xff : 0;
};
export const nop: Handler = () => undefined;

// Deterministic identification: vendor "FasmcovIA-32", family 6, TSC + CX8 + CMOV + MMX.
const VENDOR = [0x6d736146, 0x49766f63, 0x32332d41]; // "Fasm" "covI" "A-32" as ebx, edx, ecx
export const cpuid: Handler = (cpu) => {
  const leaf = cpu.regs[0];
  const r = cpu.regs;
  if (leaf === 0) {
    r[0] = 1;
    r[3] = VENDOR[0];
    r[2] = VENDOR[1];
    r[1] = VENDOR[2];
  } else if (leaf === 1) {
    r[0] = 0x00000600;
    r[3] = 0;
    r[1] = 0;
    r[2] = (1 << 4) | (1 << 8) | (1 << 15) | (1 << 23);
  } else r[0] = r[1] = r[2] = r[3] = 0;
};
/** rdtsc = instructions retired, so runs are reproducible. */
export const rdtsc: Handler = (cpu) => {
  const n = cpu.instructionsRetired;
  cpu.regs[0] = n % 4294967296;
  cpu.regs[2] = Math.floor(n / 4294967296);
};
export const hostCall: Handler = (cpu, i) => {
  if (!cpu.hostCall) throw cpu.fault(VECTOR.UD, `host call 0x${i.imm.toString(16)} without a handler`);
  cpu.hostCall(i.imm);
};
export const ud =
  (what: string): Handler =>
  (cpu: Cpu) => {
    throw cpu.fault(VECTOR.UD, what);
  };
export const privileged =
  (what: string): Handler =>
  (cpu: Cpu) => {
    throw cpu.fault(VECTOR.GP, `${what}: privileged instruction not supported under fasmcov`);
  };
/** Segment registers are flat: loads are accepted and ignored; stores read a fixed selector. */
export const movSregStore: Handler = (cpu, i) =>
  cpu.writeE(i, i.mod3 ? i.size : 2, i.reg === 1 ? 0x08 : 0x10, false);
export const movSregLoad: Handler = (cpu, i) => {
  if (i.reg === 1 || i.reg > 5) throw cpu.fault(VECTOR.UD, 'mov to cs');
  cpu.readE(i, 2);
};
export const pushSeg: Handler = (cpu, i) => cpu.push(i.size, i.op === 0x0e ? 0x08 : 0x10);
export const popSeg: Handler = (cpu, i) => {
  cpu.pop(i.size);
};
