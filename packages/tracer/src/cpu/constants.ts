/** General registers in encoding order. */
export const REG = { EAX: 0, ECX: 1, EDX: 2, EBX: 3, ESP: 4, EBP: 5, ESI: 6, EDI: 7 } as const;

/** Control-transfer kinds passed to `Cpu.branchHook` (small ints so the hook stays cheap). */
export const BRANCH = {
  COND_TAKEN: 1,
  COND_NOT_TAKEN: 2,
  JMP: 3,
  CALL: 4,
  JMP_INDIRECT: 5,
  CALL_INDIRECT: 6,
  RET: 7,
  INT: 8,
  IRET: 9,
  FAULT: 10,
} as const;

export const FLAG = {
  CF: 0x1,
  PF: 0x4,
  AF: 0x10,
  ZF: 0x40,
  SF: 0x80,
  TF: 0x100,
  IF: 0x200,
  DF: 0x400,
  OF: 0x800,
} as const;

/** The six arithmetic flags. */
export const ARITH_FLAGS = 0x8d5;

/** Exception vectors used by the emulator. */
export const VECTOR = { DE: 0, DB: 1, BP: 3, OF: 4, UD: 6, GP: 13, PF: 14 } as const;

/** Byte register r (0..7 = al cl dl bl ah ch dh bh) as an index into the byte view of the registers. */
export const BYTE_REG = [0, 4, 8, 12, 1, 5, 9, 13];
