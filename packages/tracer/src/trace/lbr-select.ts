// Parses the LBR filter a user asks for on the command line into an MSR_LBR_SELECT value. Users
// name the branch kinds to keep (the register's bits name the kinds to suppress), or give the raw
// register value as hardware documentation shows it.
import { LBR_CALLSTACK_SELECT, LBR_SELECT } from './lbr';

/** Kind names accepted by `--lbr-select`, each with the MSR_LBR_SELECT bit that suppresses it. */
export const LBR_KIND_BITS: Readonly<Record<string, number>> = {
  jcc: LBR_SELECT.JCC,
  call: LBR_SELECT.NEAR_REL_CALL,
  icall: LBR_SELECT.NEAR_IND_CALL,
  ret: LBR_SELECT.NEAR_RET,
  jmp: LBR_SELECT.NEAR_REL_JMP,
  ijmp: LBR_SELECT.NEAR_IND_JMP,
  far: LBR_SELECT.FAR_BRANCH,
};

/** Shorthands for common filters. */
const GROUPS: Readonly<Record<string, string[]>> = {
  calls: ['call', 'icall'],
  returns: ['ret'],
  jumps: ['jmp', 'ijmp'],
  all: Object.keys(LBR_KIND_BITS),
};

const SUPPRESS_ALL_KINDS = Object.values(LBR_KIND_BITS).reduce((a, b) => a | b, 0);
const VALID_BITS = (1 << 10) - 1;

export class LbrSelectError extends Error {}

/**
 * `spec` is a comma-separated list of the branch kinds to record (`jcc`, `call`, `icall`, `ret`,
 * `jmp`, `ijmp`, `far`, or the groups `calls`, `returns`, `jumps`, `all`), or a raw MSR_LBR_SELECT
 * value (`0x...`: a set bit suppresses that kind). Returns the register value.
 */
export function parseLbrSelect(spec: string): number {
  const s = spec.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) {
    const v = Number.parseInt(s.slice(2), 16);
    if (v & ~VALID_BITS) throw new LbrSelectError(`LBR select ${s}: only bits 0-9 of MSR_LBR_SELECT exist`);
    return v;
  }
  let keep = 0;
  for (const raw of s.split(',')) {
    const name = raw.trim().toLowerCase();
    const kinds = GROUPS[name] ?? (name in LBR_KIND_BITS ? [name] : undefined);
    if (kinds === undefined)
      throw new LbrSelectError(
        `LBR select: unknown branch kind '${raw.trim()}' (expected ${[
          ...Object.keys(LBR_KIND_BITS),
          ...Object.keys(GROUPS),
        ].join(', ')}, or 0x<MSR_LBR_SELECT>)`,
      );
    for (const k of kinds) keep |= LBR_KIND_BITS[k];
  }
  return SUPPRESS_ALL_KINDS & ~keep;
}

/**
 * The select value of a run: call-stack mode needs exactly the calls-and-returns filter (other
 * filters leave its behaviour undefined on hardware), so combining it with a filter is refused.
 */
export function lbrSelectFor(spec: string | undefined, callStack: boolean): number {
  if (callStack) {
    if (spec !== undefined)
      throw new LbrSelectError('--lbr-callstack records calls and returns only: drop --lbr-select');
    return LBR_CALLSTACK_SELECT;
  }
  return spec === undefined ? 0 : parseLbrSelect(spec);
}
