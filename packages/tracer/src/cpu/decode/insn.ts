import type { Cpu } from '../cpu';

export type Handler = (cpu: Cpu, i: Insn) => void;

/** Effective-address forms (how `Cpu.ea` combines base, index and displacement). */
export const EA = { DISP: 0, BASE: 1, BASE_INDEX: 2, INDEX: 3, A16: 4 } as const;

/**
 * One decoded instruction (blink's `rde` idea: everything the executor needs, decoded once and
 * cached per address). A fixed-shape class keeps property access monomorphic.
 */
export class Insn {
  /** map << 8 | opcode (map 1 = 0F). */
  op = 0;
  len = 0;
  /** Operand size in bytes for non-byte forms: 2 (66h prefix) or 4. */
  size = 4;
  /** Address size in bytes: 2 (67h prefix) or 4. */
  asize = 4;
  /** 0, 0xF3 (rep/repe) or 0xF2 (repne). */
  rep = 0;
  lock = false;
  hasModrm = false;
  mod3 = false;
  reg = 0;
  rm = 0;
  eaKind = 0;
  base = 0;
  index = 0;
  shift = 0;
  disp = 0;
  /** First immediate, raw (zero-extended); second immediate for enter / far pointers. */
  imm = 0;
  imm2 = 0;
  handler: Handler = () => undefined;
  /** Which of exec/fast.ts FAST_HANDLERS the handler is (index + 1), for Cpu.run's direct calls; 0 = none. */
  fast = 0;
}
