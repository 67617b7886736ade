import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../decode/insn';
import { VECTOR } from '../constants';

// Scratch 64-bit operands: D = destination register, S = source, R = result.
const D = new ArrayBuffer(8);
const S = new ArrayBuffer(8);
const R = new ArrayBuffer(8);
const d32 = new Int32Array(D);
const s32 = new Int32Array(S);
const r32 = new Int32Array(R);
type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
type Ctor = new (b: ArrayBuffer) => View;
const views = (C: Ctor): [View, View, View] => [new C(D), new C(S), new C(R)];
const I8 = views(Int8Array);
const U8 = views(Uint8Array);
const I16 = views(Int16Array);
const U16 = views(Uint16Array);
const I32 = views(Int32Array);
const U32 = views(Uint32Array);

function checkMmx(cpu: Cpu, i: Insn): void {
  // With 66/F2/F3 these opcodes are SSE instructions, which are not emulated.
  if (i.size === 2 || i.rep !== 0) throw cpu.fault(VECTOR.UD, 'SSE instruction (not emulated)');
}
function loadSrc(cpu: Cpu, i: Insn): void {
  if (i.mod3) {
    s32[0] = cpu.mm[i.rm * 2];
    s32[1] = cpu.mm[i.rm * 2 + 1];
  } else {
    const a = cpu.ea(i);
    s32[0] = cpu.memory.read32(a);
    s32[1] = cpu.memory.read32((a + 4) | 0);
  }
}
function loadDst(cpu: Cpu, reg: number): void {
  d32[0] = cpu.mm[reg * 2];
  d32[1] = cpu.mm[reg * 2 + 1];
}
function storeResult(cpu: Cpu, reg: number): void {
  cpu.mm[reg * 2] = r32[0];
  cpu.mm[reg * 2 + 1] = r32[1];
}

const sat = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** A lane-wise operation: r[k] = f(d[k], s[k]) over the given views. */
function lanes(v: [View, View, View], f: (a: number, b: number) => number): Handler {
  const [dv, sv, rv] = v;
  return (cpu, i) => {
    checkMmx(cpu, i);
    loadSrc(cpu, i);
    loadDst(cpu, i.reg);
    for (let k = 0; k < rv.length; k++) rv[k] = f(dv[k], sv[k]);
    storeResult(cpu, i.reg);
  };
}

/** Custom whole-register operation on d/s into r. */
function whole(f: () => void): Handler {
  return (cpu, i) => {
    checkMmx(cpu, i);
    loadSrc(cpu, i);
    loadDst(cpu, i.reg);
    f();
    storeResult(cpu, i.reg);
  };
}

function add64(sign: number): void {
  const lo = (d32[0] >>> 0) + sign * (s32[0] >>> 0);
  r32[0] = lo;
  const carry = lo > 0xffffffff ? 1 : lo < 0 ? -1 : 0;
  r32[1] = d32[1] + sign * s32[1] + carry;
}

/** Shift every lane of `bits` by count (logical left/right or arithmetic right). */
function shiftLanes(cpu: Cpu, reg: number, bits: number, kind: number, count: number): void {
  loadDst(cpu, reg);
  if (bits === 64) {
    const lo = d32[0] >>> 0;
    const hi = d32[1] >>> 0;
    if (count > 63) r32[0] = r32[1] = 0;
    else if (kind === 6) {
      if (count >= 32) {
        r32[1] = lo << (count - 32);
        r32[0] = 0;
      } else {
        r32[1] = count ? (hi << count) | (lo >>> (32 - count)) : hi;
        r32[0] = lo << count;
      }
    } else if (count >= 32) {
      r32[0] = hi >>> (count - 32);
      r32[1] = 0;
    } else {
      r32[0] = count ? (lo >>> count) | (hi << (32 - count)) : lo;
      r32[1] = hi >>> count;
    }
  } else {
    const [dv, , rv] = bits === 16 ? (kind === 4 ? I16 : U16) : kind === 4 ? I32 : U32;
    for (let k = 0; k < rv.length; k++) {
      const a = dv[k];
      if (kind === 4) rv[k] = a >> Math.min(count, bits - 1);
      else if (count >= bits) rv[k] = 0;
      else rv[k] = kind === 6 ? a << count : a >>> count;
    }
  }
  storeResult(cpu, reg);
}

function shiftBySrc(bits: number, kind: number): Handler {
  return (cpu, i) => {
    checkMmx(cpu, i);
    loadSrc(cpu, i);
    const count = s32[1] !== 0 || s32[0] < 0 ? 0xffff : s32[0];
    shiftLanes(cpu, i.reg, bits, kind, count);
  };
}
function shiftGroup(bits: number): Handler {
  return (cpu, i) => {
    checkMmx(cpu, i);
    if (!i.mod3 || (i.reg !== 2 && i.reg !== 4 && i.reg !== 6) || (bits === 64 && i.reg === 4))
      throw cpu.fault(VECTOR.UD, 'mmx shift group form');
    shiftLanes(cpu, i.rm, bits, i.reg, i.imm);
  };
}

function pack(src: [View, View, View], out: [View, View, View], lo: number, hi: number): Handler {
  const [dv, sv] = src;
  const rv = out[2];
  return whole(() => {
    const n = dv.length;
    for (let k = 0; k < n; k++) {
      rv[k] = sat(dv[k], lo, hi);
      rv[k + n] = sat(sv[k], lo, hi);
    }
  });
}
function unpack(v: [View, View, View], high: boolean): Handler {
  const [dv, sv, rv] = v;
  return whole(() => {
    const half = rv.length / 2;
    const base = high ? half : 0;
    for (let k = 0; k < half; k++) {
      rv[2 * k] = dv[base + k];
      rv[2 * k + 1] = sv[base + k];
    }
  });
}

const movdToMm: Handler = (cpu, i) => {
  checkMmx(cpu, i);
  cpu.mm[i.reg * 2] = cpu.readE(i, 4);
  cpu.mm[i.reg * 2 + 1] = 0;
};
const movdFromMm: Handler = (cpu, i) => {
  checkMmx(cpu, i);
  cpu.writeE(i, 4, cpu.mm[i.reg * 2] >>> 0, false);
};
const movqToMm: Handler = (cpu, i) => {
  checkMmx(cpu, i);
  loadSrc(cpu, i);
  cpu.mm[i.reg * 2] = s32[0];
  cpu.mm[i.reg * 2 + 1] = s32[1];
};
const movqFromMm: Handler = (cpu, i) => {
  checkMmx(cpu, i);
  const lo = cpu.mm[i.reg * 2];
  const hi = cpu.mm[i.reg * 2 + 1];
  if (i.mod3) {
    cpu.mm[i.rm * 2] = lo;
    cpu.mm[i.rm * 2 + 1] = hi;
  } else {
    const a = cpu.ea(i);
    cpu.memory.write32(a, lo);
    cpu.memory.write32((a + 4) | 0, hi);
  }
};

/** Registers the MMX opcodes (0F 60..7F, D1..FE). */
export function register(
  set: (op: number, h: Handler) => void,
  group: (op: number, hs: Handler[]) => void,
): void {
  void group;
  set(0x160, unpack(U8, false));
  set(0x161, unpack(U16, false));
  set(0x162, unpack(U32, false));
  set(0x163, pack(I16, I8, -128, 127));
  set(
    0x164,
    lanes(I8, (a, b) => (a > b ? -1 : 0)),
  );
  set(
    0x165,
    lanes(I16, (a, b) => (a > b ? -1 : 0)),
  );
  set(
    0x166,
    lanes(I32, (a, b) => (a > b ? -1 : 0)),
  );
  set(0x167, pack(I16, U8, 0, 255));
  set(0x168, unpack(U8, true));
  set(0x169, unpack(U16, true));
  set(0x16a, unpack(U32, true));
  set(0x16b, pack(I32, I16, -32768, 32767));
  set(0x16e, movdToMm);
  set(0x16f, movqToMm);
  set(0x171, shiftGroup(16));
  set(0x172, shiftGroup(32));
  set(0x173, shiftGroup(64));
  set(
    0x174,
    lanes(U8, (a, b) => (a === b ? 0xff : 0)),
  );
  set(
    0x175,
    lanes(U16, (a, b) => (a === b ? 0xffff : 0)),
  );
  set(
    0x176,
    lanes(I32, (a, b) => (a === b ? -1 : 0)),
  );
  set(0x177, (cpu, i) => checkMmx(cpu, i)); // emms: no x87 tag word to reset
  set(0x17e, movdFromMm);
  set(0x17f, movqFromMm);
  set(0x1d1, shiftBySrc(16, 2));
  set(0x1d2, shiftBySrc(32, 2));
  set(0x1d3, shiftBySrc(64, 2));
  set(
    0x1d4,
    whole(() => add64(1)),
  );
  set(
    0x1d5,
    lanes(I16, (a, b) => Math.imul(a, b)),
  );
  set(
    0x1d8,
    lanes(U8, (a, b) => sat(a - b, 0, 255)),
  );
  set(
    0x1d9,
    lanes(U16, (a, b) => sat(a - b, 0, 65535)),
  );
  set(
    0x1db,
    lanes(I32, (a, b) => a & b),
  );
  set(
    0x1dc,
    lanes(U8, (a, b) => sat(a + b, 0, 255)),
  );
  set(
    0x1dd,
    lanes(U16, (a, b) => sat(a + b, 0, 65535)),
  );
  set(
    0x1df,
    lanes(I32, (a, b) => ~a & b),
  );
  set(0x1e1, shiftBySrc(16, 4));
  set(0x1e2, shiftBySrc(32, 4));
  set(
    0x1e5,
    lanes(I16, (a, b) => (a * b) >> 16),
  );
  set(
    0x1e8,
    lanes(I8, (a, b) => sat(a - b, -128, 127)),
  );
  set(
    0x1e9,
    lanes(I16, (a, b) => sat(a - b, -32768, 32767)),
  );
  set(
    0x1eb,
    lanes(I32, (a, b) => a | b),
  );
  set(
    0x1ec,
    lanes(I8, (a, b) => sat(a + b, -128, 127)),
  );
  set(
    0x1ed,
    lanes(I16, (a, b) => sat(a + b, -32768, 32767)),
  );
  set(
    0x1ef,
    lanes(I32, (a, b) => a ^ b),
  );
  set(0x1f1, shiftBySrc(16, 6));
  set(0x1f2, shiftBySrc(32, 6));
  set(0x1f3, shiftBySrc(64, 6));
  set(
    0x1f5,
    whole(() => {
      const [dv, sv] = I16;
      const rv = I32[2];
      rv[0] = dv[0] * sv[0] + dv[1] * sv[1];
      rv[1] = dv[2] * sv[2] + dv[3] * sv[3];
    }),
  );
  set(
    0x1f8,
    lanes(U8, (a, b) => a - b),
  );
  set(
    0x1f9,
    lanes(U16, (a, b) => a - b),
  );
  set(
    0x1fa,
    lanes(I32, (a, b) => a - b),
  );
  set(
    0x1fb,
    whole(() => add64(-1)),
  );
  set(
    0x1fc,
    lanes(U8, (a, b) => a + b),
  );
  set(
    0x1fd,
    lanes(U16, (a, b) => a + b),
  );
  set(
    0x1fe,
    lanes(I32, (a, b) => a + b),
  );
}
