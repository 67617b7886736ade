import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../decode/insn';
import { BRANCH, FLAG, VECTOR } from '../constants';
import { sext } from '../flags';

/** Destination of a relative branch; with a 16-bit operand size eip wraps to 16 bits. */
function relTarget(cpu: Cpu, i: Insn, rel: number): number {
  const t = (cpu.eip + rel) | 0;
  return i.size === 2 ? t & 0xffff : t;
}

export const jccShort: Handler = (cpu, i) => {
  if (cpu.cond(i.op & 15)) cpu.jump(relTarget(cpu, i, sext(i.imm, 1)), BRANCH.COND_TAKEN);
  else if (cpu.branchHook) cpu.branchHook(cpu.curEip, cpu.eip, BRANCH.COND_NOT_TAKEN);
};
export const jccNear: Handler = (cpu, i) => {
  if (cpu.cond(i.op & 15)) cpu.jump(relTarget(cpu, i, sext(i.imm, i.size)), BRANCH.COND_TAKEN);
  else if (cpu.branchHook) cpu.branchHook(cpu.curEip, cpu.eip, BRANCH.COND_NOT_TAKEN);
};
export const jmpShort: Handler = (cpu, i) => cpu.jump(relTarget(cpu, i, sext(i.imm, 1)), BRANCH.JMP);
export const jmpNear: Handler = (cpu, i) => cpu.jump(relTarget(cpu, i, sext(i.imm, i.size)), BRANCH.JMP);
export const callNear: Handler = (cpu, i) => {
  cpu.push(i.size, cpu.eip & (i.size === 2 ? 0xffff : -1));
  cpu.jump(relTarget(cpu, i, sext(i.imm, i.size)), BRANCH.CALL);
};
export const callE: Handler = (cpu, i) => {
  const t = cpu.readE(i, i.size);
  cpu.push(i.size, cpu.eip & (i.size === 2 ? 0xffff : -1));
  cpu.jump(t, BRANCH.CALL_INDIRECT);
};
export const jmpE: Handler = (cpu, i) => cpu.jump(cpu.readE(i, i.size), BRANCH.JMP_INDIRECT);
export const ret: Handler = (cpu, i) => cpu.jump(cpu.pop(i.size), BRANCH.RET);
export const retImm: Handler = (cpu, i) => {
  const t = cpu.pop(i.size);
  cpu.regs[4] = cpu.regs[4] + i.imm;
  cpu.jump(t, BRANCH.RET);
};

/** loopne/loope/loop/jecxz (E0..E3); the counter is cx with a 67h prefix. */
export const loop: Handler = (cpu, i) => {
  const kind = i.op & 3;
  let count: number;
  if (kind === 3) count = i.asize === 2 ? cpu.r16[2] : cpu.regs[1];
  else if (i.asize === 2) count = --cpu.r16[2];
  else count = --cpu.regs[1];
  let taken: boolean;
  if (kind === 3) taken = count === 0;
  else if (kind === 2) taken = count !== 0;
  else taken = count !== 0 && cpu.zf() === kind;
  if (taken) cpu.jump(relTarget(cpu, i, sext(i.imm, 1)), BRANCH.COND_TAKEN);
  else if (cpu.branchHook) cpu.branchHook(cpu.curEip, cpu.eip, BRANCH.COND_NOT_TAKEN);
};

function softInt(cpu: Cpu, vector: number): void {
  if (!cpu.interruptHook) throw cpu.fault(vector, `int ${vector}`);
  if (cpu.branchHook) cpu.branchHook(cpu.curEip, cpu.eip, BRANCH.INT);
  cpu.interruptHook(vector);
}
export const int3: Handler = (cpu) => softInt(cpu, VECTOR.BP);
export const intN: Handler = (cpu, i) => softInt(cpu, i.imm);
export const into: Handler = (cpu) => {
  if (cpu.of()) softInt(cpu, VECTOR.OF);
};
export const int1: Handler = (cpu) => softInt(cpu, VECTOR.DB);

/** iret in a flat ring-0 world: pops eip, cs (ignored) and eflags. */
export const iret: Handler = (cpu, i) => {
  const s = i.size;
  const sp = cpu.regs[4];
  const eip = cpu.rd(s, sp);
  const fl = cpu.rd(s, (sp + 2 * s) | 0);
  cpu.regs[4] = sp + 3 * s;
  const mask = s === 4 ? 0x247fd5 : 0x7fd5;
  cpu.setEflags((cpu.getEflags() & ~mask) | (fl & mask));
  cpu.jump(eip, BRANCH.IRET);
};

export const hlt: Handler = (cpu) => cpu.halt();
export const cli: Handler = (cpu) => cpu.setFlag(FLAG.IF, 0);
export const sti: Handler = (cpu) => cpu.setFlag(FLAG.IF, 1);
