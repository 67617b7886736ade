import { VECTOR } from '../constants';
import { GuestFault } from '../fault';
import { EA, Insn } from './insn';
import { HAS_MODRM, IMM, IMM_KIND } from './table';

const MAX_LENGTH = 15;
// 16-bit addressing: base and index register per r/m value (-1 = none).
const BASE16 = [3, 3, 5, 5, -1, -1, 5, 3];
const INDEX16 = [6, 7, 6, 7, 6, 7, -1, -1];

/**
 * Decodes the instruction at `addr` into `out` (lengths, prefixes, ModRM/SIB, displacement,
 * immediates). Does not choose the handler. Fetch faults surface from `read8` as thrown.
 */
export function decodeInto(read8: (addr: number) => number, addr: number, out: Insn): Insn {
  let p = addr;
  const next = (): number => {
    if (p - addr >= MAX_LENGTH)
      throw new GuestFault(VECTOR.GP, addr, undefined, 'instruction longer than 15 bytes');
    const b = read8(p >>> 0);
    p++;
    return b;
  };
  const nextN = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++) v |= next() << (8 * k);
    return n === 4 ? v >>> 0 : v;
  };
  out.size = 4;
  out.asize = 4;
  out.rep = 0;
  out.lock = false;
  let b: number;
  for (;;) {
    b = next();
    if (b === 0x66) out.size = 2;
    else if (b === 0x67) out.asize = 2;
    else if (b === 0xf2 || b === 0xf3) out.rep = b;
    else if (b === 0xf0) out.lock = true;
    else if (b !== 0x26 && b !== 0x2e && b !== 0x36 && b !== 0x3e && b !== 0x64 && b !== 0x65) break;
  }
  let op = b;
  if (b === 0x0f) op = 0x100 | next();
  out.op = op;
  out.hasModrm = HAS_MODRM[op] === 1;
  out.mod3 = false;
  out.reg = op & 7;
  out.rm = 0;
  out.eaKind = EA.DISP;
  out.base = 0;
  out.index = 0;
  out.shift = 0;
  out.disp = 0;
  if (out.hasModrm) {
    const m = next();
    const mod = m >> 6;
    out.reg = (m >> 3) & 7;
    out.rm = m & 7;
    if (mod === 3) out.mod3 = true;
    else if (out.asize === 4) decodeEa32(out, mod, next, nextN);
    else {
      out.eaKind = EA.A16;
      if (mod === 0 && out.rm === 6) {
        out.base = -1;
        out.index = -1;
        out.disp = nextN(2);
      } else {
        out.base = BASE16[out.rm];
        out.index = INDEX16[out.rm];
        out.disp = mod === 1 ? (next() << 24) >> 24 : mod === 2 ? nextN(2) : 0;
      }
    }
  }
  out.imm = 0;
  out.imm2 = 0;
  switch (IMM_KIND[op]) {
    case IMM.IB:
      out.imm = next();
      break;
    case IMM.IW:
    case IMM.HOST:
      out.imm = nextN(2);
      break;
    case IMM.IZ:
      out.imm = nextN(out.size);
      break;
    case IMM.MOFFS:
      out.imm = nextN(out.asize);
      break;
    case IMM.ENTER:
      out.imm = nextN(2);
      out.imm2 = next();
      break;
    case IMM.GRP3B:
      if (out.reg < 2) out.imm = next();
      break;
    case IMM.GRP3V:
      if (out.reg < 2) out.imm = nextN(out.size);
      break;
    case IMM.FAR:
      out.imm = nextN(out.size);
      out.imm2 = nextN(2);
      break;
  }
  out.len = p - addr;
  return out;
}

function decodeEa32(out: Insn, mod: number, next: () => number, nextN: (n: number) => number): void {
  let base = out.rm;
  if (out.rm === 4) {
    const sib = next();
    out.shift = sib >> 6;
    const index = (sib >> 3) & 7;
    base = sib & 7;
    out.index = index;
    if (mod === 0 && base === 5) {
      out.eaKind = index === 4 ? EA.DISP : EA.INDEX;
      out.disp = nextN(4) | 0;
      return;
    }
    out.eaKind = index === 4 ? EA.BASE : EA.BASE_INDEX;
  } else if (mod === 0 && base === 5) {
    out.eaKind = EA.DISP;
    out.disp = nextN(4) | 0;
    return;
  } else out.eaKind = EA.BASE;
  out.base = base;
  out.disp = mod === 1 ? (next() << 24) >> 24 : mod === 2 ? nextN(4) | 0 : 0;
}
