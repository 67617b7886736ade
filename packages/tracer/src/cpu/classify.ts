import { BRANCH, VECTOR } from './constants';
import { decodeInto } from './decode/decoder';
import { Insn } from './decode/insn';
import { GuestFault } from './fault';
import { sext } from './flags';

/** Instruction classification for trace decoders (PT flow decoder, coverage mapping). */
export interface InstructionInfo {
  length: number;
  /** 0 = not a branch, else a BRANCH kind (conditional branches report COND_TAKEN). */
  kind: number;
  /** Destination of a direct branch (jcc, jmp, call, loop and jecxz rel). */
  target?: number;
  conditional: boolean;
  mnemonic: string;
}

const CC = ['o', 'no', 'b', 'ae', 'z', 'nz', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const GRP3 = ['test', 'test', 'not', 'neg', 'mul', 'imul', 'div', 'idiv'];

const SIMPLE: Record<number, string> = {
  0x84: 'test',
  0x85: 'test',
  0x86: 'xchg',
  0x87: 'xchg',
  0x88: 'mov',
  0x89: 'mov',
  0x8a: 'mov',
  0x8b: 'mov',
  0x8d: 'lea',
  0x90: 'nop',
  0x9c: 'pushfd',
  0x9d: 'popfd',
  0xa4: 'movs',
  0xa5: 'movs',
  0xa6: 'cmps',
  0xa7: 'cmps',
  0xaa: 'stos',
  0xab: 'stos',
  0xac: 'lods',
  0xad: 'lods',
  0xae: 'scas',
  0xaf: 'scas',
  0xc6: 'mov',
  0xc7: 'mov',
  0xc8: 'enter',
  0xc9: 'leave',
  0xf4: 'hlt',
  0x60: 'pushad',
  0x61: 'popad',
  0x68: 'push',
  0x6a: 'push',
  0x8f: 'pop',
  0x1a2: 'cpuid',
  0x131: 'rdtsc',
  0x10b: 'ud2',
  0x1ff: 'hostcall',
};
function name(i: Insn): string {
  const op = i.op;
  if (op < 0x40 && (op & 7) < 6) return ALU[op >> 3];
  if (op >= 0x80 && op <= 0x83) return ALU[i.reg];
  if ((op >= 0xc0 && op <= 0xc1) || (op >= 0xd0 && op <= 0xd3)) return SHIFT[i.reg];
  if (op === 0xf6 || op === 0xf7) return GRP3[i.reg];
  if (op >= 0x140 && op <= 0x14f) return 'cmov' + CC[op & 15];
  if (op >= 0x190 && op <= 0x19f) return 'set' + CC[op & 15];

  if (SIMPLE[op]) return SIMPLE[op];
  if (op >= 0x40 && op <= 0x47) return 'inc';
  if (op >= 0x48 && op <= 0x4f) return 'dec';
  if (op >= 0x50 && op <= 0x57) return 'push';
  if (op >= 0x58 && op <= 0x5f) return 'pop';
  if (op >= 0xb0 && op <= 0xbf) return 'mov';
  return `op_${op > 0xff ? '0f' : ''}${(op & 0xff).toString(16).padStart(2, '0')}`;
}

/** Decodes the instruction at `address` and says whether (and how) it transfers control. */
export function classifyInstruction(read8: (addr: number) => number, address: number): InstructionInfo {
  const i = decodeInto(read8, address, new Insn());
  const op = i.op;
  const end = (address + i.len) >>> 0;
  const rel = (v: number, size: number): number => {
    const t = (end + sext(v, size)) >>> 0;
    return i.size === 2 ? t & 0xffff : t;
  };
  const info = (kind: number, mnemonic: string, conditional = false, target?: number): InstructionInfo =>
    target === undefined
      ? { length: i.len, kind, conditional, mnemonic }
      : { length: i.len, kind, conditional, mnemonic, target };
  if (op >= 0x70 && op <= 0x7f) return info(BRANCH.COND_TAKEN, 'j' + CC[op & 15], true, rel(i.imm, 1));
  if (op >= 0x180 && op <= 0x18f) return info(BRANCH.COND_TAKEN, 'j' + CC[op & 15], true, rel(i.imm, i.size));
  if (op >= 0xe0 && op <= 0xe3) {
    const m = ['loopne', 'loope', 'loop', i.asize === 2 ? 'jcxz' : 'jecxz'][op & 3];
    return info(BRANCH.COND_TAKEN, m, true, rel(i.imm, 1));
  }
  switch (op) {
    case 0xeb:
      return info(BRANCH.JMP, 'jmp', false, rel(i.imm, 1));
    case 0xe9:
      return info(BRANCH.JMP, 'jmp', false, rel(i.imm, i.size));
    case 0xe8:
      return info(BRANCH.CALL, 'call', false, rel(i.imm, i.size));
    case 0xc2:
    case 0xc3:
      return info(BRANCH.RET, 'ret');
    case 0xcc:
      return info(BRANCH.INT, 'int3');
    case 0xcd:
      return info(BRANCH.INT, 'int');
    case 0xce:
      return info(BRANCH.INT, 'into');
    case 0xcf:
      return info(BRANCH.IRET, 'iret');
    case 0xff:
      if (i.reg === 2) return info(BRANCH.CALL_INDIRECT, 'call');
      if (i.reg === 4) return info(BRANCH.JMP_INDIRECT, 'jmp');
      break;
  }
  const mnemonic = name(i);
  if (mnemonic.startsWith('op_') && isInvalid(i)) {
    throw new GuestFault(VECTOR.UD, address, undefined, `undecodable instruction ${mnemonic.slice(3)}`);
  }
  return info(0, mnemonic);
}

/** Opcodes the emulator does not know at all (reserved or unsupported encodings). */
function isInvalid(i: Insn): boolean {
  const op = i.op;
  if (op < 0x100) return op === 0x62 || op === 0x63;
  // In the 0F map, only the ranges the CPU implements are valid.
  const known = [
    [0x100, 0x10b],
    [0x10d, 0x10d],
    [0x118, 0x123],
    [0x130, 0x132],
    [0x140, 0x14f],
    [0x160, 0x17f],
    [0x180, 0x1c1],
    [0x1c7, 0x1cf],
    [0x1d1, 0x1fe],
    [0x1ff, 0x1ff],
  ];
  return !known.some(([lo, hi]) => op >= lo && op <= hi);
}
