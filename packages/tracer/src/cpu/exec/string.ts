import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../decode/insn';
import { STR, STRING_STATS, STRING_TUNING, repBulk } from './string-bulk';

/** Iterations of a rep prefix executed per step; longer runs resume at the same eip. */
const REP_CHUNK = 4096;

const { MOVS, CMPS, STOS, LODS, SCAS } = STR;

function stringOp(kind: number, byte: boolean): Handler {
  return (cpu: Cpu, i: Insn) => {
    const size = byte ? 1 : i.size;
    const a16 = i.asize === 2;
    const step = cpu.df() ? -size : size;
    const regs = cpu.regs;
    const r16 = cpu.r16;
    const repeat = i.rep !== 0;
    const bulk = repeat && !a16 && STRING_TUNING.bulk;
    const cmpKind = kind === CMPS || kind === SCAS;
    let n = 0;
    for (;;) {
      if (repeat) {
        const count = a16 ? r16[2] : regs[1];
        if (count === 0) return;
        if (n === REP_CHUNK) {
          cpu.eip = cpu.curEip;
          cpu.repRestarts++;
          return;
        }
        // Many iterations at once where every access stays on mapped pages; else one below.
        const k = bulk ? repBulk(cpu, kind, size, step, Math.min(count >>> 0, REP_CHUNK - n), i.rep) : 0;
        if (k !== 0) {
          regs[1] = count - k;
          n += k;
          STRING_STATS.bulkIterations += k;
          if (cmpKind && (cpu.zf() === 1) !== (i.rep === 0xf3)) return;
          continue;
        }
      }
      const si = a16 ? r16[12] : regs[6];
      const di = a16 ? r16[14] : regs[7];
      let advSi = false;
      let advDi = false;
      let cmp = false;
      switch (kind) {
        case MOVS:
          cpu.wr(size, di, cpu.rd(size, si));
          advSi = advDi = true;
          break;
        case CMPS:
          cpu.sub(cpu.rd(size, si), cpu.rd(size, di), 0, size);
          advSi = advDi = cmp = true;
          break;
        case STOS:
          cpu.wr(size, di, cpu.getReg(size, 0));
          advDi = true;
          break;
        case LODS:
          cpu.setReg(size, 0, cpu.rd(size, si));
          advSi = true;
          break;
        default: // SCAS
          cpu.sub(cpu.getReg(size, 0), cpu.rd(size, di), 0, size);
          advDi = cmp = true;
      }
      if (a16) {
        if (advSi) r16[12] = si + step;
        if (advDi) r16[14] = di + step;
      } else {
        if (advSi) regs[6] = si + step;
        if (advDi) regs[7] = di + step;
      }
      if (!repeat) return;
      if (a16) r16[2]--;
      else regs[1]--;
      n++;
      if (cmp && (cpu.zf() === 1) !== (i.rep === 0xf3)) return;
    }
  };
}

export const movs = (byte: boolean): Handler => stringOp(MOVS, byte);
export const cmps = (byte: boolean): Handler => stringOp(CMPS, byte);
export const stos = (byte: boolean): Handler => stringOp(STOS, byte);
export const lods = (byte: boolean): Handler => stringOp(LODS, byte);
export const scas = (byte: boolean): Handler => stringOp(SCAS, byte);
