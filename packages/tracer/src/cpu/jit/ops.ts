import { BRANCH } from '../constants';
import type { Insn } from '../decode/insn';
import type { Gen } from './gen';

/** What the block compiler needs to know about an instruction it can compile. */
export interface Plan {
  /** Effect on the lazy-flag record: overwritten, read then overwritten (adc, inc), read, untouched. */
  flags: 'write' | 'readwrite' | 'read' | 'none';
  /** Accesses memory (so it may fault: a point where the flag record is observable). */
  mem: boolean;
  /** Writes memory after recording flags (a fault on that write leaves the new flags). */
  lateWrite: boolean;
  /** Ends the block with a control transfer. */
  term: boolean;
  emit: (g: Gen, i: Insn) => void;
  /**
   * A direct jump or call (its target given the next instruction's address) or a return: how to
   * emit it when the block goes on at the target `to` instead of ending (compile.ts decides; a
   * return goes on only to the address a call of the block pushed, and checks it).
   */
  through?: Through;
  /** A relative jump (jcc, jmp): its target given the next instruction's address. */
  jumpsTo?: (next: number) => number;
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);
const MASK = ['', '0xff', '0xffff', '', '0xffffffff'];

function plan(flags: Plan['flags'], mem: boolean, emit: Plan['emit'], lateWrite = false, term = false): Plan {
  return { flags, mem, lateWrite, term, emit };
}

/** Unsigned `v` sign-extended from `from` bytes and truncated to `to` bytes. */
function sextTo(v: string, from: number, to: number): string {
  const sh = 32 - from * 8;
  const s = `((${v} << ${sh}) >> ${sh})`;
  return to === 4 ? `(${s} >>> 0)` : `(${s} & ${MASK[to]})`;
}

/** add/or/adc/sbb/and/sub/xor/cmp on unsigned operands; returns the result temp. */
function alu(g: Gen, op: number, a: string, b: string, size: number): string {
  switch (op) {
    case 0:
      return g.addSub('add', a, b, '0', size);
    case 2:
      return g.addSub('add', a, b, g.tmp(g.cf()), size);
    case 3:
      return g.addSub('sub', a, b, g.tmp(g.cf()), size);
    case 5:
    case 7:
      return g.addSub('sub', a, b, '0', size);
    default: {
      const sym = op === 1 ? '|' : op === 4 ? '&' : '^';
      const r = g.tmp(size === 4 ? `(${a} ${sym} ${b}) >>> 0` : `${a} ${sym} ${b}`);
      g.logic(r, size);
      return r;
    }
  }
}
const aluFlags = (op: number): Plan['flags'] => (op === 2 || op === 3 ? 'readwrite' : 'write');

/** ALU op with the r/m operand as destination (or only source, for cmp/test). */
function aluToE(i: Insn, op: number, size: number, src: (g: Gen) => string): Plan {
  const write = op !== 7;
  return plan(
    aluFlags(op),
    !i.mod3,
    (g) => {
      const b = src(g);
      const { v, addr } = g.readE(i, size);
      const r = alu(g, op, v, b, size);
      if (write) g.writeE(i, size, r, addr);
    },
    write && !i.mod3,
  );
}

function aluFamily(i: Insn): Plan | undefined {
  const op = (i.op >> 3) & 7;
  const byte = (i.op & 1) === 0;
  const size = byte ? 1 : i.size;
  switch (i.op & 7) {
    case 0:
    case 1: {
      // Interpreter order: the r/m operand is read first, then the register.
      const write = op !== 7;
      return plan(
        aluFlags(op),
        !i.mod3,
        (g) => {
          const { v, addr } = g.readE(i, size);
          const r = alu(g, op, v, g.tmp(g.getReg(size, i.reg)), size);
          if (write) g.writeE(i, size, r, addr);
        },
        write && !i.mod3,
      );
    }
    case 2:
    case 3:
      return plan(aluFlags(op), !i.mod3, (g) => {
        const a = g.tmp(g.getReg(size, i.reg));
        const { v } = g.readE(i, size);
        const r = alu(g, op, a, v, size);
        if (op !== 7) g.setReg(size, i.reg, r);
      });
    case 4:
    case 5: {
      const s = (i.op & 7) === 4 ? 1 : i.size;
      return plan(aluFlags(op), false, (g) => {
        const r = alu(g, op, g.tmp(g.getReg(s, 0)), hex(i.imm), s);
        if (op !== 7) g.setReg(s, 0, r);
      });
    }
    default:
      return undefined;
  }
}

function grp1(i: Insn): Plan {
  const size = i.op === 0x81 || i.op === 0x83 ? i.size : 1;
  const imm = i.op === 0x83 ? sextTo(`${i.imm}`, 1, size) : hex(i.imm);
  return aluToE(i, i.reg, size, (g) => g.tmp(imm));
}

function test(i: Insn, size: number, src: (g: Gen) => string): Plan {
  return plan('write', !i.mod3, (g) => {
    const b = src(g);
    const { v } = g.readE(i, size);
    g.logic(g.tmp(size === 4 ? `(${v} & ${b}) >>> 0` : `${v} & ${b}`), size);
  });
}

function incDecE(i: Insn, size: number, dec: boolean): Plan {
  return plan(
    'readwrite',
    !i.mod3,
    (g) => {
      const { v, addr } = g.readE(i, size);
      g.writeE(i, size, g.incDec(dec, v, size), addr);
    },
    !i.mod3,
  );
}

function grp3(i: Insn, size: number): Plan | undefined {
  switch (i.reg) {
    case 0:
    case 1:
      return test(i, size, () => hex(i.imm));
    case 2:
      return plan('none', !i.mod3, (g) => {
        const { v, addr } = g.readE(i, size);
        g.writeE(i, size, g.tmp(size === 4 ? `~${v} >>> 0` : `~${v} & ${MASK[size]}`), addr);
      });
    case 3:
      return plan(
        'write',
        !i.mod3,
        (g) => {
          const { v, addr } = g.readE(i, size);
          g.writeE(i, size, g.addSub('sub', '0', v, '0', size), addr);
        },
        !i.mod3,
      );
    default:
      return undefined;
  }
}

/**
 * shl/shr/sal/sar by a constant count (C0/C1 ib, D0/D1 1), as exec/shift.ts computes them, with the
 * count folded in. Count 0 changes nothing but a memory operand is still read.
 */
function shiftConst(i: Insn, size: number, count: number): Plan | undefined {
  const op = i.reg;
  if (op < 4) return undefined;
  const c = count & 31;
  const bits = size * 8;
  if (c === 0) return plan('none', !i.mod3, (g) => void g.readE(i, size));
  return plan(
    'write',
    !i.mod3,
    (g) => {
      const { v: a, addr } = g.readE(i, size);
      let r: string;
      let cf: string;
      let of: string;
      if (op === 5) {
        r = g.tmp(c < bits ? `${a} >>> ${c}` : '0');
        cf = `((${a} >>> ${c - 1}) & 1)`;
        of = `(((${r} >>> ${bits - 1}) ^ (${r} >>> ${bits - 2})) & 1)`;
      } else if (op === 7) {
        const s = g.tmp(size === 4 ? `${a} | 0` : `(${a} << ${32 - bits}) >> ${32 - bits}`);
        r = g.tmp(size === 4 ? `(${s} >> ${c}) >>> 0` : `(${s} >> ${c}) & ${MASK[size]}`);
        cf = `((${s} >> ${c - 1}) & 1)`;
        of = '0';
      } else {
        r = g.tmp(c < bits ? (size === 4 ? `(${a} << ${c}) >>> 0` : `(${a} << ${c}) & ${MASK[size]}`) : '0');
        cf = c <= bits ? `((${a} >>> ${bits - c}) & 1)` : '0';
        of = `(((${r} >>> ${bits - 1}) ^ ${cf}) & 1)`;
      }
      g.result(r, size, `${cf} | (${of} << 11) | 0x10`);
      g.writeE(i, size, r, addr);
    },
    !i.mod3,
  );
}

function mov(i: Insn): Plan | undefined {
  const byte = (i.op & 1) === 0;
  const size = byte ? 1 : i.size;
  if (i.op <= 0x89) return plan('none', !i.mod3, (g) => g.writeE(i, size, g.tmp(g.getReg(size, i.reg))));
  return plan('none', !i.mod3, (g) => g.setReg(size, i.reg, g.readE(i, size).v));
}

function movx(i: Insn, from: number, signed: boolean): Plan {
  return plan('none', !i.mod3, (g) => {
    const { v } = g.readE(i, from);
    g.setReg(i.size, i.reg, signed ? sextTo(v, from, i.size) : v);
  });
}

function xchg(i: Insn, size: number): Plan {
  return plan('none', !i.mod3, (g) => {
    const { v, addr } = g.readE(i, size);
    g.writeE(i, size, g.tmp(g.getReg(size, i.reg)), addr);
    g.setReg(size, i.reg, v);
  });
}

/** imul Gv, Ev[, imm] (immKind 0: 0F AF, 1: 6B sign-extended ib, 2: 69 iz), as exec/muldiv.ts. */
function imulG(i: Insn, immKind: number): Plan | undefined {
  const size = i.size;
  return plan('readwrite', !i.mod3, (g) => {
    const { v: a } = g.readE(i, size);
    const b =
      immKind === 0
        ? sextTo(g.getReg(size, i.reg), size, 4)
        : immKind === 1
          ? sextTo(`${i.imm}`, 1, 4)
          : sextTo(`${i.imm}`, size, 4);
    const bs = g.tmp(`${b} | 0`);
    if (size === 4) {
      // The double product equals the int32 one exactly when it fits (no overflow).
      const low = g.tmp(`Math.imul(${a}, ${bs})`);
      const ovf = g.tmp(`(${a} | 0) * ${bs} !== ${low}`);
      g.setReg(4, i.reg, low);
      g.cfOf(`${ovf} ? 0x801 : 0`);
    } else {
      const p = g.tmp(`(((${a} << 16) >> 16) * ${bs}) | 0`);
      const low = g.tmp(`${p} & 0xffff`);
      g.setReg(2, i.reg, low);
      g.cfOf(`((${low} << 16) >> 16) !== ${p} ? 0x801 : 0`);
    }
  });
}

// ---- control transfers (they end the block; `ctx` knows the block) ----

export type Through =
  | { kind: 'jmp' | 'call'; target: (next: number) => number; emit: (g: Gen, to: number) => void }
  | { kind: 'ret'; emit: (g: Gen, to: number) => void };

export interface BlockCtx {
  start: number;
  /** Instructions in one pass of the block. */
  n: number;
  loop: boolean;
  /** Direct jumps and calls the block goes on through (see Plan.through). */
  follows: number;
}

/** Relative target: next + sign-extended displacement. */
function relTarget(i: Insn, next: number, immBytes: number): number {
  const sh = 32 - immBytes * 8;
  return (next + ((i.imm << sh) >> sh)) >>> 0;
}

/** A conditional jump exits the block when taken; when not taken the block goes on (a superblock). */
function jcc(i: Insn, immBytes: number, ctx: BlockCtx): Plan {
  const target = (next: number): number => relTarget(i, next, immBytes);
  const p = plan('read', false, (g) => {
    const to = target(g.next);
    g.line(`if (${g.cond(i.op & 15)}) {`);
    if (ctx.loop && to === ctx.start) g.loopBack(g.addr, to, BRANCH.COND_TAKEN, ctx.n);
    else g.leave(g.addr, to, BRANCH.COND_TAKEN);
    g.line('}');
    g.notTaken(g.addr);
  });
  p.jumpsTo = target;
  return p;
}

function jmp(i: Insn, immBytes: number, ctx: BlockCtx): Plan {
  const target = (next: number): number => relTarget(i, next, immBytes);
  const p = plan(
    'none',
    false,
    (g) => {
      const to = target(g.next);
      if (ctx.loop && to === ctx.start) g.loopBack(g.addr, to, BRANCH.JMP, ctx.n);
      else g.leave(g.addr, to, BRANCH.JMP);
    },
    false,
    true,
  );
  p.jumpsTo = target;
  p.through = { kind: 'jmp', target, emit: (g, to) => g.through(g.addr, to, BRANCH.JMP) };
  return p;
}

function callRel(i: Insn): Plan {
  const p = plan(
    'none',
    true,
    (g) => {
      g.push(4, hex(g.next));
      g.leave(g.addr, relTarget(i, g.next, 4), BRANCH.CALL);
    },
    false,
    true,
  );
  p.through = {
    kind: 'call',
    target: (next) => relTarget(i, next, 4),
    emit: (g, to) => {
      g.push(4, hex(g.next));
      g.through(g.addr, to, BRANCH.CALL);
    },
  };
  return p;
}

function ret(i: Insn, imm: boolean): Plan {
  const popped = (g: Gen): string => {
    const t = g.tmp(`${g.pop(4)} >>> 0`);
    if (imm) g.line(`r4 = (r4 + ${i.imm}) | 0;`);
    return t;
  };
  const p = plan('none', true, (g) => g.leave(g.addr, popped(g), BRANCH.RET), false, true);
  p.through = {
    kind: 'ret',
    emit: (g, to) => {
      // Back to where the block's call came from (the stack may say otherwise: then it leaves).
      const t = popped(g);
      g.line(`if (${t} !== ${hex(to)}) {`);
      g.leave(g.addr, t, BRANCH.RET);
      g.line('}');
      g.through(g.addr, to, BRANCH.RET);
    },
  };
  return p;
}

function indirect(i: Insn, call: boolean): Plan {
  return plan(
    'none',
    true,
    (g) => {
      const { v } = g.readE(i, 4);
      if (call) g.push(4, hex(g.next));
      g.leave(g.addr, v, call ? BRANCH.CALL_INDIRECT : BRANCH.JMP_INDIRECT);
    },
    false,
    true,
  );
}

// ---- the opcode table ----

function oneByte(i: Insn, ctx: BlockCtx): Plan | undefined {
  const op = i.op;
  if (op < 0x40) return aluFamily(i);
  if (op < 0x50)
    return plan('readwrite', false, (g) =>
      g.setReg(i.size, op & 7, g.incDec(op >= 0x48, g.tmp(g.getReg(i.size, op & 7)), i.size)),
    );
  if (op < 0x58) return plan('none', true, (g) => g.push(i.size, g.tmp(g.getReg(i.size, op & 7))));
  if (op < 0x60) return plan('none', true, (g) => g.setReg(i.size, op & 7, g.pop(i.size)));
  if (op === 0x69 || op === 0x6b) return imulG(i, op === 0x69 ? 2 : 1);
  if (op === 0x68) return plan('none', true, (g) => g.push(i.size, hex(i.imm)));
  if (op === 0x6a) return plan('none', true, (g) => g.push(i.size, sextTo(`${i.imm}`, 1, i.size)));
  if (op >= 0x70 && op < 0x80) return i.size === 4 ? jcc(i, 1, ctx) : undefined;
  if (op >= 0x80 && op <= 0x83) return grp1(i);
  if (op === 0x84 || op === 0x85) {
    const size = op === 0x84 ? 1 : i.size;
    return test(i, size, (g) => g.tmp(g.getReg(size, i.reg)));
  }
  if (op === 0x86 || op === 0x87) return xchg(i, op === 0x86 ? 1 : i.size);
  if (op >= 0x88 && op <= 0x8b) return mov(i);
  if (op === 0x8d)
    return i.mod3 ? undefined : plan('none', false, (g) => g.setReg(i.size, i.reg, g.tmp(g.ea(i))));
  if (op === 0x90) return plan('none', false, () => undefined);
  if (op > 0x90 && op < 0x98)
    return plan('none', false, (g) => {
      const a = g.tmp(g.getReg(i.size, op & 7));
      g.setReg(i.size, op & 7, g.tmp(g.getReg(i.size, 0)));
      g.setReg(i.size, 0, a);
    });
  if (op === 0x98)
    return plan('none', false, (g) =>
      i.size === 2
        ? g.setReg(2, 0, `((${g.r(0)} << 24) >> 24)`)
        : g.setReg(4, 0, `((${g.r(0)} << 16) >> 16)`),
    );
  if (op === 0x99)
    return plan('none', false, (g) =>
      i.size === 2 ? g.setReg(2, 2, `((${g.r(0)} << 16) >> 31)`) : g.setReg(4, 2, `(${g.r(0)} >> 31)`),
    );
  if (op === 0xa8 || op === 0xa9) {
    const size = op === 0xa8 ? 1 : i.size;
    return plan('write', false, (g) => {
      const a = g.getReg(size, 0);
      g.logic(g.tmp(size === 4 ? `(${a} & ${hex(i.imm)}) >>> 0` : `${a} & ${hex(i.imm)}`), size);
    });
  }
  if (op >= 0xa0 && op <= 0xa3) {
    const size = op & 1 ? i.size : 1;
    if (op >= 0xa2) return plan('none', true, (g) => g.store(size, hex(i.imm), g.tmp(g.getReg(size, 0))));
    return plan('none', true, (g) => g.setReg(size, 0, g.load(size, hex(i.imm))));
  }
  if (op >= 0xb0 && op < 0xb8) return plan('none', false, (g) => g.setReg(1, op & 7, hex(i.imm)));
  if (op >= 0xb8 && op < 0xc0) return plan('none', false, (g) => g.setReg(i.size, op & 7, hex(i.imm)));
  if (op === 0xc0 || op === 0xc1) return shiftConst(i, op === 0xc0 ? 1 : i.size, i.imm);
  if (op === 0xd0 || op === 0xd1) return shiftConst(i, op === 0xd0 ? 1 : i.size, 1);
  if ((op === 0xc6 || op === 0xc7) && i.reg === 0)
    return plan('none', !i.mod3, (g) => g.writeE(i, op === 0xc6 ? 1 : i.size, hex(i.imm)));
  if (op === 0xc9 && i.size === 4)
    return plan('none', true, (g) => {
      const v = g.load(4, g.r(5));
      g.setReg(4, 4, `(r5 + 4)`);
      g.setReg(4, 5, v);
    });
  if (i.size !== 4) return undefined;
  if (op === 0xc3 || op === 0xc2) return ret(i, op === 0xc2);
  if (op === 0xe8) return callRel(i);
  if (op === 0xe9) return jmp(i, 4, ctx);
  if (op === 0xeb) return jmp(i, 1, ctx);
  return undefined;
}

function groupF6F7FeFf(i: Insn): Plan | undefined {
  const byte = i.op === 0xf6 || i.op === 0xfe;
  const size = byte ? 1 : i.size;
  if (i.op === 0xf6 || i.op === 0xf7) return grp3(i, size);
  if (i.reg === 0 || i.reg === 1) return incDecE(i, size, i.reg === 1);
  if (i.op === 0xfe || i.size !== 4) return undefined;
  if (i.reg === 2) return indirect(i, true);
  if (i.reg === 4) return indirect(i, false);
  if (i.reg === 6) return plan('none', true, (g) => g.push(4, g.readE(i, 4).v));
  return undefined;
}

function twoByte(i: Insn, ctx: BlockCtx): Plan | undefined {
  const op = i.op & 0xff;
  if (op >= 0x80 && op < 0x90) return i.size === 4 ? jcc(i, 4, ctx) : undefined;
  if (op === 0xaf) return imulG(i, 0);
  if (op === 0xb6 || op === 0xb7) return movx(i, op === 0xb6 ? 1 : 2, false);
  if (op === 0xbe || op === 0xbf) return movx(i, op === 0xbe ? 1 : 2, true);
  if (op >= 0x40 && op < 0x50)
    return plan('read', !i.mod3, (g) => {
      const { v } = g.readE(i, i.size);
      g.line(`if (${g.cond(op & 15)}) {`);
      g.setReg(i.size, i.reg, v);
      g.line('}');
    });
  if (op >= 0x90 && op < 0xa0)
    return plan('read', !i.mod3, (g) => g.writeE(i, 1, g.tmp(`${g.cond(op & 15)} ? 1 : 0`)));
  return undefined;
}

/** How to compile `i`, or undefined when the interpreter's handler must run it. */
export function planFor(i: Insn, ctx: BlockCtx): Plan | undefined {
  if (i.lock) return undefined;
  if (!i.mod3 && i.hasModrm && i.asize !== 4) return undefined;
  if (i.op < 0x100) {
    if (i.op >= 0xf6 && (i.op === 0xf6 || i.op === 0xf7 || i.op === 0xfe || i.op === 0xff))
      return groupF6F7FeFf(i);
    return oneByte(i, ctx);
  }
  if (i.op < 0x200) return twoByte(i, ctx);
  return undefined;
}
