import type { Handler } from '../decode/insn';
import { ARITH_FLAGS, FLAG } from '../constants';
import { PARITY, sext, trunc } from '../flags';

/**
 * bt/bts/btr/btc (op 0..3 = /4../7 of 0F BA). With a register bit offset and a memory operand the
 * offset is signed and selects a word/dword beyond the operand; with an immediate it wraps.
 */
export function btHandler(op: number, immediate: boolean): Handler {
  return (cpu, i) => {
    const size = i.size;
    const bits = size * 8;
    let off = immediate ? i.imm : cpu.getReg(size, i.reg);
    let v: number;
    if (i.mod3) v = cpu.getReg(size, i.rm);
    else {
      let addr = cpu.ea(i);
      if (!immediate) {
        const s = sext(off, size);
        addr = (addr + (s >> (size === 4 ? 5 : 4)) * size) | 0;
      }
      cpu.addr = addr;
      v = cpu.rd(size, addr);
    }
    off &= bits - 1;
    const bit = (v >>> off) & 1;
    cpu.setFlag(FLAG.CF, bit);
    if (op === 0) return;
    const m = 1 << off;
    const r = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
    cpu.writeE(i, size, trunc(r, size));
  };
}

/** bsf (forward) / bsr: a zero source sets ZF and leaves the destination unchanged (AMD documents this). */
export function bsfHandler(forward: boolean): Handler {
  return (cpu, i) => {
    const size = i.size;
    const v = cpu.readE(i, size);
    // Zen 4: CF=OF=SF=AF=0 and PF from the index (from 0 when the source is zero).
    if (v === 0) {
      cpu.putFlags(ARITH_FLAGS, FLAG.ZF | FLAG.PF);
      return;
    }
    const idx = forward ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
    cpu.putFlags(ARITH_FLAGS, PARITY[idx] ? FLAG.PF : 0);
    cpu.setReg(size, i.reg, idx);
  };
}

export const bswap: Handler = (cpu, i) => {
  const r = i.op & 7;
  const v = cpu.regs[r];
  // 16-bit bswap is undefined; Zen 4 (like most CPUs) clears the low word.
  if (i.size === 2) cpu.r16[r << 1] = 0;
  else cpu.regs[r] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
};
