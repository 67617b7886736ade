import type { Cpu } from '../cpu';
import type { Handler } from '../decode/insn';
import { ARITH_FLAGS, FLAG, VECTOR } from '../constants';
import { sext } from '../flags';

const CF_OF = FLAG.CF | FLAG.OF;

/** Unsigned 32x32 → 64-bit product as [low, high] dwords, exact without BigInt. */
export function mul32(a: number, b: number): [number, number] {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = ((mid << 16) | (p00 & 0xffff)) >>> 0;
  const hi = (a1 * b1 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) >>> 0;
  return [lo, hi];
}

/** Signed 32x32 → 64-bit product as [low, high] (unsigned dwords). */
export function imul32(a: number, b: number): [number, number] {
  const [lo, hi] = mul32(a >>> 0, b >>> 0);
  let h = hi;
  if (a < 0 || a >>> 0 > 0x7fffffff) h -= b >>> 0;
  if (b < 0 || b >>> 0 > 0x7fffffff) h -= a >>> 0;
  return [lo, h >>> 0];
}

/** Flags after a multiply: CF=OF=overflow; SF/ZF/AF/PF (undefined) are left unchanged, as on Zen 4. */
function mulFlags(cpu: Cpu, _low: number, _size: number, overflow: boolean): void {
  cpu.putFlags(CF_OF, overflow ? CF_OF : 0);
}

export function mulE(byte: boolean, signed: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    const src = cpu.readE(i, size);
    if (size === 1) {
      const a = cpu.regs[0] & 0xff;
      const p = signed ? (sext(a, 1) * sext(src, 1)) & 0xffff : a * src;
      cpu.r16[0] = p;
      mulFlags(cpu, p & 0xff, 1, signed ? sext(p & 0xff, 1) !== sext(p, 2) : p > 0xff);
    } else if (size === 2) {
      const a = cpu.r16[0];
      const p = signed ? (sext(a, 2) * sext(src, 2)) | 0 : a * src;
      cpu.r16[0] = p;
      cpu.r16[4] = p >>> 16;
      mulFlags(cpu, p & 0xffff, 2, signed ? sext(p & 0xffff, 2) !== p : p > 0xffff);
    } else {
      const [lo, hi] = signed ? imul32(cpu.regs[0], src | 0) : mul32(cpu.regs[0] >>> 0, src);
      cpu.regs[0] = lo;
      cpu.regs[2] = hi;
      mulFlags(cpu, lo, 4, signed ? (lo | 0) >> 31 !== (hi | 0) : hi !== 0);
    }
  };
}

/** imul Gv, Ev[, imm] (69: iz, 6B: sign-extended ib, 0F AF: no immediate). */
export function imulG(immKind: 0 | 1 | 2): Handler {
  return (cpu, i) => {
    const size = i.size;
    const a = cpu.readE(i, size);
    const b =
      immKind === 0
        ? sext(cpu.getReg(size, i.reg), size)
        : immKind === 1
          ? sext(i.imm, 1)
          : sext(i.imm, size);
    let low: number;
    let overflow: boolean;
    if (size === 2) {
      const p = (sext(a, 2) * b) | 0;
      low = p & 0xffff;
      overflow = sext(low, 2) !== p;
    } else {
      const [lo, hi] = imul32(a | 0, b | 0);
      low = lo;
      overflow = (lo | 0) >> 31 !== (hi | 0);
    }
    cpu.setReg(size, i.reg, low);
    mulFlags(cpu, low, size, overflow);
  };
}

function divideError(cpu: Cpu): never {
  throw cpu.fault(VECTOR.DE, 'divide error');
}

export function divE(byte: boolean, signed: boolean): Handler {
  return (cpu, i) => {
    const size = byte ? 1 : i.size;
    const src = cpu.readE(i, size);
    if (src === 0) divideError(cpu);
    if (size === 1 || size === 2) {
      const dividend =
        size === 1 ? (signed ? sext(cpu.r16[0], 2) : cpu.r16[0]) : (cpu.r16[4] << 16) | cpu.r16[0];
      const n = signed ? dividend | 0 : dividend >>> 0;
      const d = signed ? sext(src, size) : src;
      const q = Math.trunc(n / d);
      const r = n - q * d;
      const bits = size * 8;
      if (signed ? q > (1 << (bits - 1)) - 1 || q < -(1 << (bits - 1)) : q > (1 << bits) - 1)
        divideError(cpu);
      if (size === 1) cpu.r16[0] = (q & 0xff) | ((r & 0xff) << 8);
      else {
        cpu.r16[0] = q;
        cpu.r16[4] = r;
      }
    } else {
      const hi = cpu.regs[2];
      const lo = cpu.regs[0] >>> 0;
      let q: number;
      let r: number;
      if (!signed && hi === 0) {
        q = Math.floor(lo / src);
        r = lo - q * src;
      } else if (signed && hi === (lo | 0) >> 31 && src !== 0) {
        // The dividend fits in 53 bits: exact with doubles.
        const n = lo | 0;
        const d = src | 0;
        if (n === -0x80000000 && d === -1) divideError(cpu);
        q = Math.trunc(n / d);
        r = n - q * d;
      } else {
        const n = signed ? (BigInt(hi) << 32n) | BigInt(lo) : (BigInt(hi >>> 0) << 32n) | BigInt(lo);
        const d = signed ? BigInt(src | 0) : BigInt(src);
        const bq = n / d;
        if (signed ? bq > 0x7fffffffn || bq < -0x80000000n : bq > 0xffffffffn) divideError(cpu);
        q = Number(BigInt.asIntN(32, bq));
        r = Number(BigInt.asIntN(32, n - bq * d));
      }
      cpu.regs[0] = q;
      cpu.regs[2] = r;
    }
    // All six flags are undefined; Zen 4 leaves AF set and the others clear.
    cpu.putFlags(ARITH_FLAGS, FLAG.AF);
  };
}
