import type { Cpu } from '../cpu';
import type { Handler } from '../decode/insn';
import { FLAG } from '../constants';
import { MASK, sext, trunc } from '../flags';

const CF_OF = FLAG.CF | FLAG.OF;
const CF_OF_AF = FLAG.CF | FLAG.OF | FLAG.AF;

/**
 * rol/ror/rcl/rcr/shl/shr/sal/sar (op = the /r index) of an unsigned `size`-byte value.
 * Flag choices for Intel-undefined cases are the Zen 4 ones (UNDEFINED-FLAGS.md).
 */
export function shiftOp(cpu: Cpu, op: number, a: number, count: number, size: number): number {
  const bits = size * 8;
  const mask = MASK[size];
  let c = count & 31;
  if (c === 0) return a;
  let r: number;
  let cf: number;
  let of: number;
  switch (op) {
    case 0: {
      c %= bits;
      r = c === 0 ? a : trunc((a << c) | (a >>> (bits - c)), size);
      cf = r & 1;
      of = ((r >>> (bits - 1)) ^ cf) & 1;
      cpu.putFlags(CF_OF, cf | (of << 11));
      return r;
    }
    case 1: {
      c %= bits;
      r = c === 0 ? a : trunc((a >>> c) | (a << (bits - c)), size);
      cf = (r >>> (bits - 1)) & 1;
      of = (cf ^ (r >>> (bits - 2))) & 1;
      cpu.putFlags(CF_OF, cf | (of << 11));
      return r;
    }
    case 2: {
      if (size < 4) c %= bits + 1;
      cf = cpu.cf();
      // A count that is a multiple of 9/17 rotates nothing, but Zen 4 still updates OF.
      if (c === 0) {
        cpu.putFlags(FLAG.OF, (((a >>> (bits - 1)) ^ cf) & 1) << 11);
        return a;
      }
      r = a;
      for (let k = 0; k < c; k++) {
        const out = (r >>> (bits - 1)) & 1;
        r = trunc((r << 1) | cf, size);
        cf = out;
      }
      of = ((r >>> (bits - 1)) ^ cf) & 1;
      cpu.putFlags(CF_OF, cf | (of << 11));
      return r;
    }
    case 3: {
      if (size < 4) c %= bits + 1;
      cf = cpu.cf();
      if (c === 0) {
        cpu.putFlags(FLAG.OF, (((a >>> (bits - 1)) ^ (a >>> (bits - 2))) & 1) << 11);
        return a;
      }
      r = a;
      for (let k = 0; k < c; k++) {
        const out = r & 1;
        r = ((r >>> 1) | (cf << (bits - 1))) & mask;
        r = trunc(r, size);
        cf = out;
      }
      of = ((r >>> (bits - 1)) ^ (r >>> (bits - 2))) & 1;
      cpu.putFlags(CF_OF, cf | (of << 11));
      return r;
    }
    case 4:
    case 6:
      r = c < bits ? trunc(a << c, size) : 0;
      cf = c <= bits ? (a >>> (bits - c)) & 1 : 0;
      of = ((r >>> (bits - 1)) ^ cf) & 1;
      break;
    case 5:
      r = c < bits ? a >>> c : 0;
      cf = (a >>> (c - 1)) & 1;
      // Count 1: the original sign; larger counts on Zen 4: the same XOR of the top two bits.
      of = ((r >>> (bits - 1)) ^ (r >>> (bits - 2))) & 1;
      break;
    default: {
      const s = sext(a, size);
      r = trunc(s >> c, size);
      cf = (s >> (c - 1)) & 1;
      of = 0;
    }
  }
  cpu.result(r, size, CF_OF_AF, cf | (of << 11) | FLAG.AF);
  return r;
}

/** Group 2: C0/C1 (ib), D0/D1 (1), D2/D3 (cl). */
export function grp2Handler(opcode: number, op: number): Handler {
  const byte = (opcode & 1) === 0;
  const src = opcode <= 0xc1 ? 0 : opcode <= 0xd1 ? 1 : 2;
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    const count = src === 0 ? i.imm : src === 1 ? 1 : cpu.regs[1] & 0xff;
    const a = cpu.readE(i, size);
    const r = shiftOp(cpu, op, a, count, size);
    if ((count & 31) !== 0) cpu.writeE(i, size, r);
  };
}

/**
 * shld (left) / shrd (!left) by ib or cl. OF for counts above 1 follows Zen 4: shld gives
 * CF ^ MSB(result), shrd the XOR of the result's two top bits.
 */
export function shldHandler(left: boolean, byCl: boolean): Handler {
  return (cpu, i) => {
    const size = i.size;
    const bits = size * 8;
    const c = (byCl ? cpu.regs[1] : i.imm) & 31;
    if (c === 0) return;
    const d = cpu.readE(i, size);
    const s = cpu.getReg(size, i.reg);
    let r: number;
    let cf: number;
    if (size === 4) {
      r = left ? ((d << c) | (s >>> (32 - c))) >>> 0 : ((d >>> c) | (s << (32 - c))) >>> 0;
      cf = left ? (d >>> (32 - c)) & 1 : (d >>> (c - 1)) & 1;
    } else {
      // 48-bit pattern (exact in a double): shrd shifts d | s<<16 | s<<32 right, shld shifts
      // s | s<<16 | d<<32 left. For counts up to 16 this is the defined result; above 16 it is
      // what Zen 4 produces (UNDEFINED-FLAGS.md).
      const x = left ? s + s * 0x10000 + d * 0x100000000 : d + s * 0x10000 + s * 0x100000000;
      if (left) {
        r = Math.floor(x / 2 ** (32 - c)) & 0xffff;
        cf = Math.floor(x / 2 ** (48 - c)) & 1;
      } else {
        r = Math.floor(x / 2 ** c) & 0xffff;
        cf = Math.floor(x / 2 ** (c - 1)) & 1;
      }
    }
    const msb = (r >>> (bits - 1)) & 1;
    let of = left ? msb ^ cf : msb ^ ((r >>> (bits - 2)) & 1);
    // 16-bit counts of 16 and above, as Zen 4 gives them (UNDEFINED-FLAGS.md): shld 16 sets
    // OF = CF; above 16 both shifts clear CF and shld also clears OF.
    if (size === 2 && c >= 16) {
      if (c > 16) {
        cf = 0;
        if (left) of = 0;
      } else if (left) of = cf;
    }
    cpu.result(r, size, CF_OF_AF, cf | (of << 11) | FLAG.AF);
    cpu.writeE(i, size, r);
  };
}
