import { FLAG } from './constants';

/** Kinds of the last lazily recorded flag-setting operation. */
export const LAZY = { ADD: 0, SUB: 1, LOGIC: 2 } as const;

const LAZY_ALL = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF;
const SZP = FLAG.SF | FLAG.ZF | FLAG.PF;

/** PARITY[b] = PF for a result whose low byte is b (set when the number of 1 bits is even). */
export const PARITY = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  PARITY[b] = n & 1 ? 0 : 1;
}

/** Value masks per operand size in bytes (values are kept unsigned, 0..mask). */
export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff];

/** v truncated to an unsigned value of `size` bytes. */
export function trunc(v: number, size: number): number {
  return size === 4 ? v >>> 0 : v & MASK[size];
}

/** v (of `size` bytes) sign-extended to a signed int32. */
export function sext(v: number, size: number): number {
  return size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
}

/**
 * Lazy EFLAGS (the v86 scheme): an arithmetic instruction records its operands, result and size;
 * each flag is derived only when read. `fchg` says which flags are lazy; the others live in `flags`.
 */
export class FlagsCore {
  /** Materialised flags (the bits not in `fchg`). Bit 1 is always set. */
  flags = 2;
  fchg = 0;
  lkind = 0;
  lop1 = 0;
  lop2 = 0;
  lres = 0;
  lcin = 0;
  /** Index of the sign bit of the last lazy result (7, 15 or 31). */
  lsb = 31;

  cf(): number {
    if ((this.fchg & FLAG.CF) === 0) return this.flags & 1;
    const m = this.lsb === 31 ? 0xffffffff : (1 << (this.lsb + 1)) - 1;
    if (this.lkind === LAZY.ADD) return this.lop1 + this.lop2 + this.lcin > m ? 1 : 0;
    if (this.lkind === LAZY.SUB) return this.lop1 < this.lop2 + this.lcin ? 1 : 0;
    return 0;
  }
  pf(): number {
    return this.fchg & FLAG.PF ? PARITY[this.lres & 0xff] : (this.flags >> 2) & 1;
  }
  af(): number {
    if ((this.fchg & FLAG.AF) === 0) return (this.flags >> 4) & 1;
    return ((this.lop1 ^ this.lop2 ^ this.lres) >> 4) & 1;
  }
  zf(): number {
    return this.fchg & FLAG.ZF ? (this.lres === 0 ? 1 : 0) : (this.flags >> 6) & 1;
  }
  sf(): number {
    return this.fchg & FLAG.SF ? (this.lres >>> this.lsb) & 1 : (this.flags >> 7) & 1;
  }
  of(): number {
    if ((this.fchg & FLAG.OF) === 0) return (this.flags >> 11) & 1;
    if (this.lkind === LAZY.ADD)
      return (((this.lop1 ^ this.lres) & (this.lop2 ^ this.lres)) >>> this.lsb) & 1;
    if (this.lkind === LAZY.SUB)
      return (((this.lop1 ^ this.lop2) & (this.lop1 ^ this.lres)) >>> this.lsb) & 1;
    return 0;
  }
  df(): number {
    return (this.flags >> 10) & 1;
  }

  /** Condition code test for jcc/setcc/cmovcc (cc = low nibble of the opcode). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0:
        r = this.of() === 1;
        break;
      case 1:
        r = this.cf() === 1;
        break;
      case 2:
        r = this.zf() === 1;
        break;
      case 3:
        r = (this.cf() | this.zf()) === 1;
        break;
      case 4:
        r = this.sf() === 1;
        break;
      case 5:
        r = this.pf() === 1;
        break;
      case 6:
        r = this.sf() !== this.of();
        break;
      default:
        r = this.zf() === 1 || this.sf() !== this.of();
    }
    return (cc & 1) === 0 ? r : !r;
  }

  getEflags(): number {
    if (this.fchg !== 0) {
      const f =
        this.cf() |
        (this.pf() << 2) |
        (this.af() << 4) |
        (this.zf() << 6) |
        (this.sf() << 7) |
        (this.of() << 11);
      this.flags = (this.flags & ~this.fchg) | (f & this.fchg);
      this.fchg = 0;
    }
    return this.flags | 2;
  }

  setEflags(value: number): void {
    this.flags = (value & 0x3f7fd5) | 2;
    this.fchg = 0;
  }

  /** Sets one materialised flag (bit) to v (0/1), whether or not it was lazy. */
  setFlag(bit: number, v: number): void {
    this.fchg &= ~bit;
    this.flags = v ? this.flags | bit : this.flags & ~bit;
  }

  /** Replaces the flags in `mask` by the bits of `value` (materialising only those flags). */
  putFlags(mask: number, value: number): void {
    this.fchg &= ~mask;
    this.flags = (this.flags & ~mask) | (value & mask);
  }

  // Arithmetic recorders: operands and results are unsigned values of the given size (bytes).
  add(a: number, b: number, cin: number, size: number): number {
    const r = size === 4 ? (a + b + cin) >>> 0 : (a + b + cin) & MASK[size];
    this.lkind = LAZY.ADD;
    this.lop1 = a;
    this.lop2 = b;
    this.lcin = cin;
    this.lres = r;
    this.lsb = size * 8 - 1;
    this.fchg = LAZY_ALL;
    return r;
  }
  sub(a: number, b: number, cin: number, size: number): number {
    const r = size === 4 ? (a - b - cin) >>> 0 : (a - b - cin) & MASK[size];
    this.lkind = LAZY.SUB;
    this.lop1 = a;
    this.lop2 = b;
    this.lcin = cin;
    this.lres = r;
    this.lsb = size * 8 - 1;
    this.fchg = LAZY_ALL;
    return r;
  }
  /** inc/dec: like add/sub of 1 but CF is preserved. */
  incdec(a: number, dec: boolean, size: number): number {
    const cf = this.cf();
    const r = dec ? this.sub(a, 1, 0, size) : this.add(a, 1, 0, size);
    this.fchg = LAZY_ALL & ~FLAG.CF;
    this.flags = (this.flags & ~FLAG.CF) | cf;
    return r;
  }
  /** and/or/xor/test: CF=OF=0, AF=0 (undefined by Intel; see UNDEFINED-FLAGS.md), SF/ZF/PF from r. */
  logic(r: number, size: number): number {
    this.lkind = LAZY.LOGIC;
    this.lres = r;
    this.lsb = size * 8 - 1;
    this.fchg = SZP;
    this.flags &= ~(FLAG.CF | FLAG.OF | FLAG.AF);
    return r;
  }
  // 32-bit recorders on int32 operands, returning int32 results: values at or above 2^31 would
  // be boxed as heap numbers at every call that V8 does not inline. The record stays unsigned.
  add32(a: number, b: number): number {
    const r = (a + b) | 0;
    this.lkind = LAZY.ADD;
    this.lop1 = a >>> 0;
    this.lop2 = b >>> 0;
    this.lcin = 0;
    this.lres = r >>> 0;
    this.lsb = 31;
    this.fchg = LAZY_ALL;
    return r;
  }
  sub32(a: number, b: number): number {
    const r = (a - b) | 0;
    this.lkind = LAZY.SUB;
    this.lop1 = a >>> 0;
    this.lop2 = b >>> 0;
    this.lcin = 0;
    this.lres = r >>> 0;
    this.lsb = 31;
    this.fchg = LAZY_ALL;
    return r;
  }
  logic32(r: number): number {
    this.lkind = LAZY.LOGIC;
    this.lres = r >>> 0;
    this.lsb = 31;
    this.fchg = SZP;
    this.flags &= ~(FLAG.CF | FLAG.OF | FLAG.AF);
    return r;
  }
  incdec32(a: number, dec: boolean): number {
    const cf = this.cf();
    const r = dec ? this.sub32(a, 1) : this.add32(a, 1);
    this.fchg = LAZY_ALL & ~FLAG.CF;
    this.flags = (this.flags & ~FLAG.CF) | cf;
    return r;
  }
  result32(r: number, mask: number, value: number): void {
    if (this.fchg & ~(SZP | mask)) this.getEflags();
    this.lkind = LAZY.LOGIC;
    this.lres = r >>> 0;
    this.lsb = 31;
    this.fchg = SZP;
    this.flags = (this.flags & ~mask) | (value & mask);
  }

  /** SF/ZF/PF lazily from r, the flags in `mask` set from `value`, the rest unchanged. */
  result(r: number, size: number, mask: number, value: number): void {
    // Flags still lazy but outside SZP and `mask` would be lost with the old operands: settle them.
    if (this.fchg & ~(SZP | mask)) this.getEflags();
    this.lkind = LAZY.LOGIC;
    this.lres = r;
    this.lsb = size * 8 - 1;
    this.fchg = SZP;
    this.flags = (this.flags & ~mask) | (value & mask);
  }
}
