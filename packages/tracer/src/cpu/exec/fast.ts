import type { Cpu } from '../cpu';
import { BYTE_REG, FLAG } from '../constants';
import type { Handler, Insn } from '../decode/insn';
import { aluOp } from './alu';
import * as ctl from './control';
import * as misc from './misc';
import { shiftOp } from './shift';

/**
 * Specialisations of the hottest forms, chosen at decode time (operand size 4, register or
 * memory operand known), so the common path skips the generic size and operand dispatch.
 * 32-bit values stay int32 throughout: a value at or above 2^31 would be boxed as a heap number
 * at every call V8 does not inline (see FlagsCore.add32).
 *
 * Each is a plain function, not a closure per opcode, so that `Cpu.run` can call the ones listed
 * in FAST_HANDLERS directly (a switch on Insn.fast) instead of through the megamorphic
 * `i.handler` call: the same code either way.
 */

/** add/or/adc/sbb/and/sub/xor/cmp (op = the /r group index) on int32 operands. */
function alu32(cpu: Cpu, op: number, a: number, b: number): number {
  switch (op) {
    case 0:
      return cpu.add32(a, b);
    case 1:
      return cpu.logic32(a | b);
    case 4:
      return cpu.logic32(a & b);
    case 6:
      return cpu.logic32(a ^ b);
    case 5:
    case 7:
      return cpu.sub32(a, b);
    default: // adc, sbb
      return aluOp(cpu, op, a >>> 0, b >>> 0, 4) | 0;
  }
}

/** 01/09/../39 with a register operand: op r/m32, r32. */
export function aluEGreg(cpu: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu32(cpu, op, cpu.regs[i.rm], cpu.regs[i.reg]);
  if (op !== 7) cpu.regs[i.rm] = r;
}
export function aluEGmem(cpu: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const a = cpu.ea(i);
  const r = alu32(cpu, op, cpu.memory.read32(a), cpu.regs[i.reg]);
  if (op !== 7) cpu.memory.write32(a, r);
}
/** 03/0B/../3B: op r32, r/m32. */
export function aluGEreg(cpu: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu32(cpu, op, cpu.regs[i.reg], cpu.regs[i.rm]);
  if (op !== 7) cpu.regs[i.reg] = r;
}
export function aluGEmem(cpu: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu32(cpu, op, cpu.regs[i.reg], cpu.memory.read32(cpu.ea(i)));
  if (op !== 7) cpu.regs[i.reg] = r;
}
/** 05/0D/../3D: op eax, imm32. */
export function aluAccImm(cpu: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const r = alu32(cpu, op, cpu.regs[0], i.imm | 0);
  if (op !== 7) cpu.regs[0] = r;
}
/** 81 /op (imm32) and 83 /op (sign-extended imm8) on r/m32. */
const imm32 = (i: Insn): number => (i.op === 0x83 ? (i.imm << 24) >> 24 : i.imm | 0);
export function aluImmReg(cpu: Cpu, i: Insn): void {
  const r = alu32(cpu, i.reg, cpu.regs[i.rm], imm32(i));
  if (i.reg !== 7) cpu.regs[i.rm] = r;
}
export function aluImmMem(cpu: Cpu, i: Insn): void {
  const a = cpu.ea(i);
  const r = alu32(cpu, i.reg, cpu.memory.read32(a), imm32(i));
  if (i.reg !== 7) cpu.memory.write32(a, r);
}
/** 80 /op (and 82) on a byte in memory: op byte [m], imm8. */
export function aluImm8Mem(cpu: Cpu, i: Insn): void {
  const a = cpu.ea(i);
  const r = aluOp(cpu, i.reg, cpu.memory.read8(a), i.imm, 1);
  if (i.reg !== 7) cpu.memory.write8(a, r);
}
/** Byte ALU between registers: 00/08/../38 (Eb,Gb) and 02/0A/../3A (Gb,Eb) with ModRM.mod = 3. */
export function aluByteRegs(cpu: Cpu, i: Insn): void {
  const op = (i.op >> 3) & 7;
  const toRm = (i.op & 2) === 0;
  const d = BYTE_REG[toRm ? i.rm : i.reg];
  const r = aluOp(cpu, op, cpu.r8[d], cpu.r8[BYTE_REG[toRm ? i.reg : i.rm]], 1);
  if (op !== 7) cpu.r8[d] = r;
}

/** 85: test r/m32, r32; A9: test eax, imm32. */
export function testReg(cpu: Cpu, i: Insn): void {
  cpu.logic32(cpu.regs[i.rm] & cpu.regs[i.reg]);
}
export function testMem(cpu: Cpu, i: Insn): void {
  const b = cpu.regs[i.reg];
  cpu.logic32(cpu.memory.read32(cpu.ea(i)) & b);
}
export function testAccImm(cpu: Cpu, i: Insn): void {
  cpu.logic32(cpu.regs[0] & i.imm);
}

// ---- moves ----
export function movEGreg(cpu: Cpu, i: Insn): void {
  cpu.regs[i.rm] = cpu.regs[i.reg];
}
export function movEGmem(cpu: Cpu, i: Insn): void {
  cpu.memory.write32(cpu.ea(i), cpu.regs[i.reg]);
}
export function movGEreg(cpu: Cpu, i: Insn): void {
  cpu.regs[i.reg] = cpu.regs[i.rm];
}
export function movGEmem(cpu: Cpu, i: Insn): void {
  cpu.regs[i.reg] = cpu.memory.read32(cpu.ea(i));
}
/** B8+r: mov r32, imm32. */
export function movRegImm32(cpu: Cpu, i: Insn): void {
  cpu.regs[i.op & 7] = i.imm;
}
/** C7 /0: mov r/m32, imm32. */
export function movEImmReg(cpu: Cpu, i: Insn): void {
  cpu.regs[i.rm] = i.imm;
}
export function movEImmMem(cpu: Cpu, i: Insn): void {
  cpu.memory.write32(cpu.ea(i), i.imm);
}
/** 88 / 8A with a memory operand: mov byte [m], r8 and mov r8, byte [m]. */
export function movEbGbMem(cpu: Cpu, i: Insn): void {
  cpu.memory.write8(cpu.ea(i), cpu.r8[BYTE_REG[i.reg]]);
}
export function movGbEbMem(cpu: Cpu, i: Insn): void {
  cpu.r8[BYTE_REG[i.reg]] = cpu.memory.read8(cpu.ea(i));
}
/** 0F B6 / 0F B7: movzx r32, r/m8 and r/m16. */
export function movzxByteReg(cpu: Cpu, i: Insn): void {
  cpu.regs[i.reg] = cpu.r8[BYTE_REG[i.rm]];
}
export function movzxByteMem(cpu: Cpu, i: Insn): void {
  cpu.regs[i.reg] = cpu.memory.read8(cpu.ea(i));
}
export function movzxWordReg(cpu: Cpu, i: Insn): void {
  cpu.regs[i.reg] = cpu.regs[i.rm] & 0xffff;
}
export function movzxWordMem(cpu: Cpu, i: Insn): void {
  cpu.regs[i.reg] = cpu.memory.read16(cpu.ea(i));
}

// ---- inc/dec, shifts ----
export function incReg32(cpu: Cpu, i: Insn): void {
  const r = i.op & 7;
  cpu.regs[r] = cpu.incdec32(cpu.regs[r], false);
}
export function decReg32(cpu: Cpu, i: Insn): void {
  const r = i.op & 7;
  cpu.regs[r] = cpu.incdec32(cpu.regs[r], true);
}

const CF_OF_AF = FLAG.CF | FLAG.OF | FLAG.AF;
/**
 * C1 /4-7: shl/shr/sal/sar r32, imm8 as shiftOp computes them (count 0 changes nothing, not even
 * the flags; AF is set as on Zen 4).
 */
export function shiftImmReg32(cpu: Cpu, i: Insn): void {
  const c = i.imm & 31;
  if (c === 0) return;
  const op = i.reg;
  const a = cpu.regs[i.rm];
  let r: number;
  let cf: number;
  let of: number;
  if (op === 5) {
    r = a >>> c;
    cf = (a >>> (c - 1)) & 1;
    of = ((r >>> 31) ^ (r >>> 30)) & 1;
  } else if (op === 7) {
    r = a >> c;
    cf = (a >> (c - 1)) & 1;
    of = 0;
  } else {
    r = a << c;
    cf = (a >>> (32 - c)) & 1;
    of = ((r >>> 31) ^ cf) & 1;
  }
  cpu.result32(r, CF_OF_AF, cf | (of << 11) | FLAG.AF);
  cpu.regs[i.rm] = r;
}
/** C1 /0-3: rotates by the generic shiftOp. */
export function rotateImmReg32(cpu: Cpu, i: Insn): void {
  cpu.regs[i.rm] = shiftOp(cpu, i.reg, cpu.regs[i.rm] >>> 0, i.imm, 4);
}

// ---- stack ----
export function pushReg32(cpu: Cpu, i: Insn): void {
  const sp = (cpu.regs[4] - 4) | 0;
  cpu.memory.write32(sp, cpu.regs[i.op & 7]);
  cpu.regs[4] = sp;
}
export function popReg32(cpu: Cpu, i: Insn): void {
  const sp = cpu.regs[4];
  const v = cpu.memory.read32(sp);
  cpu.regs[4] = (sp + 4) | 0;
  cpu.regs[i.op & 7] = v;
}
/** 68 / 6A: push imm32, push sign-extended imm8. */
export function pushImm32(cpu: Cpu, i: Insn): void {
  const sp = (cpu.regs[4] - 4) | 0;
  cpu.memory.write32(sp, i.op === 0x6a ? (i.imm << 24) >> 24 : i.imm);
  cpu.regs[4] = sp;
}

/**
 * The handlers `Cpu.run` calls directly: Insn.fast = index + 1 when Insn.handler is one of them
 * (the order is the switch's in cpu.ts).
 */
export const FAST_HANDLERS: readonly Handler[] = [
  aluEGreg,
  aluEGmem,
  aluGEreg,
  aluGEmem,
  aluAccImm,
  aluImmReg,
  aluImmMem,
  aluImm8Mem,
  aluByteRegs,
  testReg,
  testMem,
  testAccImm,
  movEGreg,
  movEGmem,
  movGEreg,
  movGEmem,
  movRegImm32,
  movEImmReg,
  movEImmMem,
  movEbGbMem,
  movGbEbMem,
  movzxByteReg,
  movzxByteMem,
  movzxWordReg,
  movzxWordMem,
  incReg32,
  decReg32,
  shiftImmReg32,
  pushReg32,
  popReg32,
  pushImm32,
  ctl.jccShort,
  ctl.jccNear,
  ctl.jmpShort,
  ctl.jmpNear,
  ctl.callNear,
  ctl.ret,
  misc.lea,
];
const FAST_INDEX = new Map<Handler, number>(FAST_HANDLERS.map((h, k) => [h, k + 1]));

/** Insn.fast for an instruction whose handler is `h` (0: call the handler). */
export function fastKind(h: Handler): number {
  return FAST_INDEX.get(h) ?? 0;
}

const pick = (i: Insn, reg: Handler, mem: Handler): Handler => (i.mod3 ? reg : mem);

/** A specialised handler for a common form, or undefined. */
export function fastHandler(i: Insn): Handler | undefined {
  if (i.lock) return undefined;
  const op = i.op;
  if (i.mod3 && op < 0x40 && (op & 7) < 4 && (op & 1) === 0) return aluByteRegs;
  if ((op === 0x80 || op === 0x82) && !i.mod3) return aluImm8Mem;
  if (op === 0x88 && !i.mod3) return movEbGbMem;
  if (op === 0x8a && !i.mod3) return movGbEbMem;
  if (i.size !== 4) return undefined;
  if (op === 0x1b6) return pick(i, movzxByteReg, movzxByteMem);
  if (op < 0x40) {
    if ((op & 7) === 1) return pick(i, aluEGreg, aluEGmem);
    if ((op & 7) === 3) return pick(i, aluGEreg, aluGEmem);
    if ((op & 7) === 5) return aluAccImm;
    return undefined;
  }
  if (op < 0x50) return op < 0x48 ? incReg32 : decReg32;
  if (op < 0x58) return pushReg32;
  if (op < 0x60) return popReg32;
  if (op >= 0xb8 && op < 0xc0) return movRegImm32;
  switch (op) {
    case 0x68:
    case 0x6a:
      return pushImm32;
    case 0x81:
    case 0x83:
      return pick(i, aluImmReg, aluImmMem);
    case 0x85:
      return pick(i, testReg, testMem);
    case 0x89:
      return pick(i, movEGreg, movEGmem);
    case 0x8b:
      return pick(i, movGEreg, movGEmem);
    case 0xa9:
      return testAccImm;
    case 0xc1:
      return i.mod3 ? (i.reg >= 4 ? shiftImmReg32 : rotateImmReg32) : undefined;
    case 0xc7:
      return i.reg === 0 ? pick(i, movEImmReg, movEImmMem) : undefined;
    case 0x1b7:
      return pick(i, movzxWordReg, movzxWordMem);
    default:
      return undefined;
  }
}
