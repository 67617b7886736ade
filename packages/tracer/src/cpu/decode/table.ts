/** Immediate operand kinds of the opcode table. */
export const IMM = {
  NONE: 0,
  IB: 1,
  IW: 2,
  /** 16 or 32 bits by operand size. */
  IZ: 3,
  /** moffs: 16 or 32 bits by address size. */
  MOFFS: 4,
  /** enter: iw then ib. */
  ENTER: 5,
  /** F6 group: ib only for test (reg 0/1). */
  GRP3B: 6,
  /** F7 group: iz only for test (reg 0/1). */
  GRP3V: 7,
  /** far pointer: iz then iw. */
  FAR: 8,
  /** fasmcov host call 0F FF: a 16-bit id, no ModRM. */
  HOST: 9,
} as const;

/** Data-only opcode attributes, indexed by map << 8 | opcode. */
export const HAS_MODRM = new Uint8Array(512);
export const IMM_KIND = new Uint8Array(512);

function range(lo: number, hi: number): number[] {
  const r: number[] = [];
  for (let i = lo; i <= hi; i++) r.push(i);
  return r;
}
function modrm(ops: number[], map = 0): void {
  for (const o of ops) HAS_MODRM[(map << 8) | o] = 1;
}
function imm(kind: number, ops: number[], map = 0): void {
  for (const o of ops) IMM_KIND[(map << 8) | o] = kind;
}

for (let base = 0; base < 0x40; base += 8) {
  modrm([base, base + 1, base + 2, base + 3]);
  imm(IMM.IB, [base + 4]);
  imm(IMM.IZ, [base + 5]);
}
modrm([0x62, 0x63, 0x69, 0x6b, ...range(0x80, 0x8f), 0xc0, 0xc1, ...range(0xc4, 0xc7)]);
modrm([...range(0xd0, 0xd3), ...range(0xd8, 0xdf), 0xf6, 0xf7, 0xfe, 0xff]);
imm(IMM.IZ, [0x68, 0x69, 0x81, 0xa9, ...range(0xb8, 0xbf), 0xc7, 0xe8, 0xe9]);
imm(IMM.IB, [0x6a, 0x6b, ...range(0x70, 0x7f), 0x80, 0x82, 0x83, 0xa8, ...range(0xb0, 0xb7)]);
imm(IMM.IB, [0xc0, 0xc1, 0xc6, 0xcd, 0xd4, 0xd5, ...range(0xe0, 0xe7), 0xeb]);
imm(IMM.IW, [0xc2, 0xca]);
imm(IMM.MOFFS, range(0xa0, 0xa3));
imm(IMM.ENTER, [0xc8]);
imm(IMM.FAR, [0x9a, 0xea]);
imm(IMM.GRP3B, [0xf6]);
imm(IMM.GRP3V, [0xf7]);

modrm([0x00, 0x01, 0x02, 0x03, 0x0d, ...range(0x18, 0x1f), ...range(0x20, 0x23)], 1);
modrm([...range(0x40, 0x4f), ...range(0x60, 0x76), ...range(0x78, 0x7f), ...range(0x90, 0x9f)], 1);
modrm([0xa3, 0xa4, 0xa5, 0xab, 0xac, 0xad, 0xaf, ...range(0xb0, 0xbf), ...range(0xc0, 0xc7)], 1);
modrm(range(0xd0, 0xfe), 1);
imm(IMM.IB, [...range(0x70, 0x73), 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6], 1);
imm(IMM.IZ, range(0x80, 0x8f), 1);
imm(IMM.HOST, [0xff], 1);
