import type { Handler } from '../decode/insn';
import { sext, trunc } from '../flags';

/** eflags bits popf may change in ring 0 (arithmetic, TF, IF, DF, IOPL, NT, AC, ID). */
const POPF_MASK = 0x247fd5;

export const pushReg: Handler = (cpu, i) => cpu.push(i.size, cpu.getReg(i.size, i.op & 7));
export const popReg: Handler = (cpu, i) => {
  const v = cpu.pop(i.size);
  cpu.setReg(i.size, i.op & 7, v);
};
export const pushImm =
  (byteImm: boolean): Handler =>
  (cpu, i) =>
    cpu.push(i.size, byteImm ? trunc(sext(i.imm, 1), i.size) : i.imm);

export const pushE: Handler = (cpu, i) => cpu.push(i.size, cpu.readE(i, i.size));
/** pop Ev: an esp-based address is computed after esp has been incremented (as the CPU does). */
export const popE: Handler = (cpu, i) => {
  const sp = cpu.regs[4];
  const v = cpu.rd(i.size, sp);
  cpu.regs[4] = sp + i.size;
  try {
    cpu.writeE(i, i.size, v, false);
  } catch (e) {
    cpu.regs[4] = sp;
    throw e;
  }
};

export const pushad: Handler = (cpu, i) => {
  const s = i.size;
  const sp = cpu.regs[4];
  // Write all eight slots below esp first so a fault leaves esp unchanged.
  for (let r = 0; r < 8; r++) cpu.wr(s, (sp - (r + 1) * s) | 0, cpu.getReg(s, r === 4 ? 4 : r));
  cpu.regs[4] = sp - 8 * s;
};
export const popad: Handler = (cpu, i) => {
  const s = i.size;
  const sp = cpu.regs[4];
  const vals: number[] = [];
  for (let r = 7; r >= 0; r--) vals[r] = cpu.rd(s, (sp + (7 - r) * s) | 0);
  for (let r = 0; r < 8; r++) if (r !== 4) cpu.setReg(s, r, vals[r]);
  cpu.regs[4] = sp + 8 * s;
};

export const pushf: Handler = (cpu, i) =>
  cpu.push(i.size, i.size === 4 ? cpu.getEflags() & 0x00fcffff : cpu.getEflags() & 0xffff);
export const popf: Handler = (cpu, i) => {
  const v = cpu.pop(i.size);
  const mask = i.size === 4 ? POPF_MASK : POPF_MASK & 0xffff;
  cpu.setEflags((cpu.getEflags() & ~mask) | (v & mask));
};

export const enter: Handler = (cpu, i) => {
  const s = i.size;
  const level = i.imm2 & 31;
  const regs = cpu.regs;
  const bp0 = regs[5];
  cpu.push(s, cpu.getReg(s, 5));
  const frame = regs[4];
  let bp = bp0;
  for (let k = 1; k < level; k++) {
    bp = (bp - s) | 0;
    cpu.push(s, cpu.rd(s, bp));
  }
  if (level > 0) cpu.push(s, trunc(frame, s));
  cpu.setReg(s, 5, trunc(frame, s));
  regs[4] = regs[4] - i.imm;
};

export const leave: Handler = (cpu, i) => {
  const s = i.size;
  const v = cpu.rd(s, cpu.regs[5]);
  cpu.regs[4] = cpu.regs[5] + s;
  cpu.setReg(s, 5, v);
};
