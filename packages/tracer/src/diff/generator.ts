import { Prng } from './prng';

/**
 * Random instruction sequences as fasm source text, restricted to instructions whose behaviour is
 * identical in 32-bit protected mode and 64-bit mode (so the real CPU in 64-bit mode is the oracle).
 * Memory operands are [ebp+disp] into a data area; ebp is never written by the body.
 */

/** Guest address of the data area, the same in the native and the emulated program. */
export const DATA_BASE = 0x10000000;
export const DATA_SIZE = 1024;
/** ebp points into the middle of the data area. */
export const DATA_EBP = DATA_BASE + DATA_SIZE / 2;

export interface DiffCase {
  /** eax, ecx, edx, ebx, esp (unused, 0), ebp (fixed), esi, edi. */
  regs: number[];
  /** Initial arithmetic flags (DF clear). */
  flags: number;
  /** Body lines (labels are unique per case). */
  body: string[];
}

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const EDGE = [
  0, 1, 2, 0xffffffff, 0x80000000, 0x7fffffff, 0x80, 0x7f, 0xff, 0x100, 0x8000, 0x7fff, 0xffff, 0x10000,
  0xfffffffe,
];
const COUNTS = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar', 'sal'];
const SIZES = [1, 2, 4] as const;
const MMX_OPS = [
  'paddb',
  'paddw',
  'paddd',
  'paddq',
  'psubb',
  'psubw',
  'psubd',
  'psubq',
  'paddsb',
  'paddsw',
  'paddusb',
  'paddusw',
  'psubsb',
  'psubsw',
  'psubusb',
  'psubusw',
  'pand',
  'pandn',
  'por',
  'pxor',
  'pmullw',
  'pmulhw',
  'pmaddwd',
  'pcmpeqb',
  'pcmpeqw',
  'pcmpeqd',
  'pcmpgtb',
  'pcmpgtw',
  'pcmpgtd',
  'packsswb',
  'packssdw',
  'packuswb',
  'punpcklbw',
  'punpcklwd',
  'punpckldq',
  'punpckhbw',
  'punpckhwd',
  'punpckhdq',
];
const PTR = ['', 'byte', 'word', '', 'dword'];

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

/**
 * A data byte no random operand reaches (they stay below ebp+480): scratch for templates the
 * generator adds itself.
 */
const SCRATCH = `byte [ebp+${DATA_SIZE / 2 - 4}]`;

/**
 * How the generator emits `bsf`/`bsr`, whose CF, OF, SF, AF and PF Intel leaves undefined and AMD
 * generations set differently (see cpu/UNDEFINED-FLAGS.md): as they are (default); each followed
 * by two instructions that keep ZF and define the other flags from it ('defined': for a CPU whose
 * undefined flags are not the emulator's); or nothing but bit scans ('only': to find out which
 * kind of CPU runs the test).
 */
export type BitScanMode = 'as-is' | 'defined' | 'only';

export interface GeneratorOptions {
  bitScans?: BitScanMode;
}

export class CaseGenerator {
  private label = 0;
  private readonly bitScans: BitScanMode;
  constructor(
    private readonly rng: Prng,
    private readonly prefix: string,
    opts: GeneratorOptions = {},
  ) {
    this.bitScans = opts.bitScans ?? 'as-is';
  }

  value(): number {
    const r = this.rng;
    const k = r.int(4);
    if (k === 0) return r.pick(EDGE);
    if (k === 1) return r.int(256);
    return r.u32();
  }
  private imm(size: number): string {
    const v = this.value();
    return hex(size === 4 ? v : v & (size === 2 ? 0xffff : 0xff));
  }
  private reg(size: number): string {
    return this.rng.pick(size === 4 ? R32 : size === 2 ? R16 : R8);
  }
  private mem(size: number, span = size): string {
    const d = this.rng.int(DATA_SIZE - 64 - span) - (DATA_SIZE / 2 - 32);
    return `${PTR[size] ?? 'qword'} [ebp${d < 0 ? '-' : '+'}${Math.abs(d)}]`;
  }
  private rm(size: number): string {
    return this.rng.chance(0.6) ? this.reg(size) : this.mem(size);
  }
  private size(): number {
    return this.rng.pick(SIZES);
  }
  private newLabel(): string {
    return `${this.prefix}_${this.label++}`;
  }

  /** One instruction (or a small template of several lines). */
  instruction(): string[] {
    const r = this.rng;
    const s = this.size();
    if (this.bitScans === 'only') return this.bitScan(s);
    switch (r.int(26)) {
      case 22:
      case 23:
        return [this.mmx()];
      case 24:
        return this.locked(s);
      case 25:
        return this.indexed(s);
      case 0:
      case 1:
      case 2: {
        const op = r.pick(ALU);
        const form = r.int(4);
        if (form === 0) return [`${op} ${this.reg(s)}, ${this.reg(s)}`];
        if (form === 1 && op !== 'test') return [`${op} ${this.reg(s)}, ${this.mem(s)}`];
        if (form === 2) return [`${op} ${this.mem(s)}, ${this.reg(s)}`];
        return [`${op} ${this.rm(s)}, ${this.imm(s)}`];
      }
      case 3:
        return [`${r.pick(['inc', 'dec', 'neg', 'not'])} ${this.rm(s)}`];
      case 4:
      case 5: {
        const op = r.pick(SHIFTS);
        const k = r.int(3);
        if (k === 0) return [`${op} ${this.rm(s)}, 1`];
        if (k === 1) return [`${op} ${this.rm(s)}, ${r.pick(COUNTS)}`];
        const dst = this.rm(s);
        const pre = r.chance(0.5) ? [`mov cl, ${r.pick(COUNTS)}`] : [];
        return [...pre, `${op} ${dst}, cl`];
      }
      case 6: {
        const z = r.chance(0.5) ? 2 : 4;
        const op = r.chance(0.5) ? 'shld' : 'shrd';
        // 16-bit counts of 16 and above: result, CF and OF are undefined (UNDEFINED-FLAGS.md).
        const count = z === 2 ? r.pick([0, 1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 33, 47]) : r.pick(COUNTS);
        if (r.chance(0.5)) return [`${op} ${this.rm(z)}, ${this.reg(z)}, ${count & 31}`];
        return [`mov cl, ${count}`, `${op} ${this.rm(z)}, ${this.reg(z)}, cl`];
      }
      case 7: {
        const k = r.int(3);
        if (k === 0) return [`${r.pick(['mul', 'imul'])} ${this.rm(s)}`];
        const z = r.chance(0.5) ? 2 : 4;
        if (k === 1) return [`imul ${this.reg(z)}, ${this.rm(z)}`];
        return [
          `imul ${this.reg(z)}, ${this.rm(z)}, ${hex(r.chance(0.5) ? r.int(256) : this.value() & (z === 2 ? 0xffff : -1))}`,
        ];
      }
      case 8:
        return this.division(s);
      case 9: {
        const z = r.chance(0.5) ? 2 : 4;
        const src = r.chance(0.5) ? 1 : 2;
        if (src >= z) return [`movzx ${this.reg(z)}, ${this.rm(1)}`];
        return [`${r.pick(['movzx', 'movsx'])} ${this.reg(z)}, ${this.rm(src)}`];
      }
      case 10: {
        const z = r.chance(0.7) ? 4 : 2;
        const base = r.pick([...R32, 'ebp']);
        const idx = r.pick([...R32, 'ebp']);
        const d = r.pick([0, 1, -1, 127, -128, 0x1000, -0x10000, this.value() | 0]);
        const sc = r.pick([1, 2, 4, 8]);
        const ea =
          r.int(3) === 0
            ? `${idx}*${sc}${d < 0 ? '-' : '+'}${Math.abs(d)}`
            : `${base}+${idx}*${sc}${d < 0 ? '-' : '+'}${Math.abs(d)}`;
        return [`lea ${this.reg(z)}, [${ea}]`];
      }
      case 11: {
        const k = r.int(4);
        if (k === 0) return [`xchg ${this.rm(s)}, ${this.reg(s)}`];
        if (k === 1) return [`xadd ${this.rm(s)}, ${this.reg(s)}`];
        if (k === 2) return [`cmpxchg ${this.rm(s)}, ${this.reg(s)}`];
        return [`cmpxchg8b ${this.mem(8)}`];
      }
      case 12: {
        const k = r.int(4);
        if (k === 0) return [`bswap ${this.reg(4)}`];
        if (k === 1) return this.bitScan(s);
        if (k === 2) return [`set${r.pick(CC)} ${this.rm(1)}`];
        const z = s === 1 ? 4 : s;
        return [`cmov${r.pick(CC)} ${this.reg(z)}, ${this.rm(z)}`];
      }
      case 13:
        return this.bitTest();
      case 14: {
        const l = this.newLabel();
        return [`j${r.pick(CC)} ${l}`, ...this.simple(), `${l}:`];
      }
      case 15:
        return [r.pick(['cbw', 'cwde', 'cwd', 'cdq', 'lahf', 'sahf', 'clc', 'stc', 'cmc'])];
      case 16:
      case 17:
        return this.stringOp();
      case 18:
        return [`lea ebx, [ebp-${r.int(200)}]`, 'xlatb'];
      case 19: {
        const k = r.int(3);
        if (k === 0) return [`mov ${this.reg(s)}, ${this.imm(s)}`];
        if (k === 1) return [`mov ${this.mem(s)}, ${this.imm(s)}`];
        return [`mov ${this.reg(s)}, ${this.rm(s)}`];
      }
      case 20: {
        const l = this.newLabel();
        return [`jecxz ${l}`, ...this.simple(), `${l}:`];
      }
      default: {
        // A short counted loop around one ALU instruction that leaves ecx alone.
        const l = this.newLabel();
        const op = r.pick(['add', 'xor', 'sub', 'adc', 'or']);
        const kind = r.pick(['loop', 'loope', 'loopne']);
        return [
          `mov ecx, ${1 + r.int(5)}`,
          `${l}:`,
          `${op} ${r.pick(['eax', 'edx', 'ebx'])}, ${hex(this.value())}`,
          `${kind} ${l}`,
        ];
      }
    }
  }

  /** A lock-prefixed read-modify-write on memory. */
  private locked(s: number): string[] {
    const r = this.rng;
    const m = this.mem(s);
    switch (r.int(5)) {
      case 0:
        return [
          `lock ${r.pick(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor'])} ${m}, ${r.chance(0.5) ? this.reg(s) : this.imm(s)}`,
        ];
      case 1:
        return [`lock ${r.pick(['inc', 'dec', 'not', 'neg'])} ${m}`];
      case 2:
        return [`lock ${r.pick(['xadd', 'cmpxchg'])} ${m}, ${this.reg(s)}`];
      case 3:
        return [`lock ${r.pick(['bts', 'btr', 'btc'])} ${this.mem(s === 1 ? 4 : s)}, ${r.int(32)}`];
      default:
        return [`lock cmpxchg8b ${this.mem(8)}`];
    }
  }

  /** A memory operand with a SIB index register (bounded first so it stays in the data area). */
  private indexed(s: number): string[] {
    const r = this.rng;
    const idx = r.pick(['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi']);
    const sc = r.pick([1, 2, 4, 8]);
    const d = -(sc * 32) - r.int(64);
    const m = `${PTR[s]} [ebp+${idx}*${sc}${d < 0 ? '-' : '+'}${Math.abs(d)}]`;
    const dst = this.reg(s);
    const use = r.chance(0.5)
      ? `${r.pick(['add', 'sub', 'xor', 'cmp', 'mov', 'adc'])} ${dst}, ${m}`
      : `${r.pick(['add', 'or', 'and', 'mov'])} ${m}, ${dst}`;
    return [`and ${idx}, 63`, use];
  }

  /** One MMX instruction on mm0..mm7, a general register or the data area. */
  private mmx(): string {
    const r = this.rng;
    const mm = (): string => `mm${r.int(8)}`;
    const src = (): string => (r.chance(0.7) ? mm() : this.mem(8));
    const k = r.int(6);
    if (k === 0) return r.chance(0.5) ? `movd ${mm()}, ${this.rm(4)}` : `movd ${this.rm(4)}, ${mm()}`;
    if (k === 1) return r.chance(0.5) ? `movq ${mm()}, ${src()}` : `movq ${this.mem(8)}, ${mm()}`;
    if (k === 2) {
      const op = r.pick(['psllw', 'pslld', 'psllq', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad']);
      return r.chance(0.5)
        ? `${op} ${mm()}, ${r.pick([0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 200])}`
        : `${op} ${mm()}, ${src()}`;
    }
    const op = r.pick(MMX_OPS);
    return `${op} ${mm()}, ${src()}`;
  }

  private bitScan(s: number): string[] {
    const z = s === 1 ? 4 : s;
    const scan = `${this.rng.pick(['bsf', 'bsr'])} ${this.reg(z)}, ${this.rm(z)}`;
    // The compare of setz's byte with 1 keeps the scan's ZF and sets the other five from it.
    return this.bitScans === 'defined' ? [scan, `setz ${SCRATCH}`, `cmp ${SCRATCH}, 1`] : [scan];
  }

  private simple(): string[] {
    const s = this.size();
    return [`${this.rng.pick(['add', 'sub', 'xor', 'adc'])} ${this.rm(s)}, ${this.imm(s)}`];
  }

  private division(s: number): string[] {
    const r = this.rng;
    const signed = r.chance(0.5);
    const op = signed ? 'idiv' : 'div';
    const inMem = r.chance(0.4);
    const m = this.mem(s);
    const lines: string[] = [];
    // Divisor in c*: nonzero, not -1, and (unsigned) above the high half of the dividend.
    if (s === 1) {
      if (signed) lines.push('cbw', 'or cl, 0x10', 'and cl, 0xf7');
      else lines.push('and ah, 0x7f', 'or cl, 0x80');
    } else if (s === 2) {
      if (signed) lines.push('cwd', 'or cx, 0x10', 'and cx, 0xfff7');
      else lines.push('and dx, 0x7fff', 'or cx, 0x8000');
    } else if (signed) lines.push('cdq', 'or ecx, 0x10', 'and ecx, 0xfffffff7');
    else lines.push('and edx, 0x7fffffff', 'or ecx, 0x80000000');
    const c = s === 1 ? 'cl' : s === 2 ? 'cx' : 'ecx';
    if (inMem) lines.push(`mov ${m}, ${c}`, `${op} ${m}`);
    else lines.push(`${op} ${c}`);
    return lines;
  }

  private bitTest(): string[] {
    const r = this.rng;
    const op = r.pick(['bt', 'bts', 'btr', 'btc']);
    const z = r.chance(0.5) ? 2 : 4;
    const k = r.int(3);
    if (k === 0) return [`${op} ${this.rm(z)}, ${r.int(256) & 0xff}`];
    if (k === 1) return [`${op} ${this.reg(z)}, ${this.reg(z)}`];
    // Memory with a register bit offset: bounded so the addressed word stays in the data area.
    const c = z === 2 ? 'cx' : 'ecx';
    return [`and ${c}, 0x3ff`, `sub ${c}, 0x200`, `${op} ${PTR[z]} [ebp-${r.int(64)}], ${c}`];
  }

  private stringOp(): string[] {
    const r = this.rng;
    const s = this.size();
    const suffix = s === 1 ? 'b' : s === 2 ? 'w' : 'd';
    const op = r.pick(['movs', 'stos', 'lods', 'scas', 'cmps']);
    const rep = op === 'scas' || op === 'cmps' ? r.pick(['', 'repe ', 'repne ']) : r.pick(['', 'rep ']);
    const down = r.chance(0.3);
    const n = r.int(12);
    const lines = [
      `lea esi, [ebp${down ? '+' : '-'}${100 + r.int(200)}]`,
      `lea edi, [ebp${down ? '+' : '-'}${100 + r.int(200)}]`,
      `mov ecx, ${n}`,
    ];
    if (down) lines.push('std');
    lines.push(`${rep}${op}${suffix}`);
    if (down) lines.push('cld');
    return lines;
  }

  /** A whole case: initial state and a body of `length` instructions/templates. */
  next(length: number): DiffCase {
    const regs = [0, 0, 0, 0, 0, DATA_EBP, 0, 0];
    for (const k of [0, 1, 2, 3, 6, 7]) regs[k] = this.value();
    const flags = this.rng.u32() & 0x8d5;
    const body: string[] = [];
    for (let k = 0; k < length; k++) body.push(...this.instruction());
    return { regs, flags, body };
  }
}
