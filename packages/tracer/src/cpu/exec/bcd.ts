import type { Handler } from '../decode/insn';
import { FLAG, VECTOR } from '../constants';

const CF_AF = FLAG.CF | FLAG.AF;

/** daa / das (Intel pseudo-code; OF undefined, left clear). */
export const daa =
  (sub: boolean): Handler =>
  (cpu) => {
    const old = cpu.regs[0] & 0xff;
    const oldCf = cpu.cf();
    let al = old;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || cpu.af()) {
      al = sub ? al - 6 : al + 6;
      cf = oldCf | (al > 0xff || al < 0 ? 1 : 0);
      al &= 0xff;
      af = 1;
    }
    if (old > 0x99 || oldCf) {
      al = (sub ? al - 0x60 : al + 0x60) & 0xff;
      cf = 1;
    }
    cpu.r8[0] = al;
    cpu.result(al, 1, CF_AF | FLAG.OF, cf | (af << 4));
  };

/** aaa / aas: SF/ZF/PF/OF undefined; they follow the resulting al here. */
export const aaa =
  (sub: boolean): Handler =>
  (cpu) => {
    let ax = cpu.r16[0];
    let f = 0;
    if ((ax & 0x0f) > 9 || cpu.af()) {
      ax = sub ? ((ax - 6) & 0xff) | (((ax >> 8) - 1) << 8) : ((ax + 6) & 0xff) | (((ax >> 8) + 1) << 8);
      f = CF_AF;
    }
    cpu.r16[0] = ax & 0xff0f;
    cpu.result(ax & 0x0f, 1, CF_AF | FLAG.OF, f);
  };

export const aam: Handler = (cpu, i) => {
  const base = i.imm;
  if (base === 0) throw cpu.fault(VECTOR.DE, 'aam 0');
  const al = cpu.regs[0] & 0xff;
  const r = al % base;
  cpu.r16[0] = (Math.floor(al / base) << 8) | r;
  cpu.result(r, 1, CF_AF | FLAG.OF, 0);
};

export const aad: Handler = (cpu, i) => {
  const al = ((cpu.regs[0] & 0xff) + ((cpu.regs[0] >> 8) & 0xff) * i.imm) & 0xff;
  cpu.r16[0] = al;
  cpu.result(al, 1, CF_AF | FLAG.OF, 0);
};
