/**
 * JavaScript expressions for the arithmetic flags of the block's last flag-setting instruction.
 *
 * Compiled code keeps the lazy-flag record (FlagsCore's fields) in locals named after FIELD_LOCAL;
 * when the producing instruction is known at compile time, a flag or condition is an expression over
 * those locals with the kind and size folded in. Before the block's first producer the record still
 * lives in the Cpu object, so reads go through its own methods.
 */

/**
 * FlagsCore field -> the local that holds it inside compiled code. lop1/lop2/lres are kept as int32
 * in the locals (FlagsCore holds them unsigned): converted when loaded and stored.
 */
export const FIELD_LOCAL = {
  flags: 'fl',
  fchg: 'fK',
  lkind: 'fL',
  lop1: 'f1',
  lop2: 'f2',
  lres: 'fr',
  lcin: 'fc',
  lsb: 'fS',
} as const;

export type FlagField = keyof typeof FIELD_LOCAL;

/** Fields whose local is the int32 form of an unsigned FlagsCore value. */
export const INT32_FIELDS: ReadonlySet<FlagField> = new Set<FlagField>(['lop1', 'lop2', 'lres']);

/** Kinds of producers, named after the FlagsCore recorder each one mirrors. */
export type ProdKind = 'add' | 'sub' | 'logic' | 'inc' | 'dec' | 'result';

export interface Producer {
  kind: ProdKind;
  /** Operand size in bytes. */
  size: number;
  /** The carry-in is the constant 0 (add/sub/cmp, inc/dec), allowing fused conditions. */
  cin0: boolean;
  /** A later multiply materialised CF and OF (FlagsCore.putFlags): they are read from `fl`. */
  cfOfInFl?: boolean;
}

/** Fields each recorder writes (so exits store exactly the fields the interpreter would have set). */
export const PRODUCER_FIELDS: Record<ProdKind, FlagField[]> = {
  add: ['lkind', 'lop1', 'lop2', 'lcin', 'lres', 'lsb', 'fchg'],
  sub: ['lkind', 'lop1', 'lop2', 'lcin', 'lres', 'lsb', 'fchg'],
  inc: ['lkind', 'lop1', 'lop2', 'lcin', 'lres', 'lsb', 'fchg', 'flags'],
  dec: ['lkind', 'lop1', 'lop2', 'lcin', 'lres', 'lsb', 'fchg', 'flags'],
  logic: ['lkind', 'lres', 'lsb', 'fchg', 'flags'],
  result: ['lkind', 'lres', 'lsb', 'fchg', 'flags'],
};

function mask(size: number): string {
  return size === 4 ? '0xffffffff' : size === 2 ? '0xffff' : '0xff';
}

function isAddLike(k: ProdKind): boolean {
  return k === 'add' || k === 'inc';
}

/** The operands as unsigned values (the locals hold int32s so that V8 never boxes them). */
const unsigned = (e: string): string => e.replace(/U1/g, '(f1 >>> 0)').replace(/U2/g, '(f2 >>> 0)');

/** CF as 0/1. */
export function cfExpr(p: Producer): string {
  return unsigned(cfRaw(p));
}
function cfRaw(p: Producer): string {
  if (p.cfOfInFl) return '(fl & 1)';
  if (p.kind === 'add')
    return p.cin0 ? `(U1 + U2 > ${mask(p.size)} ? 1 : 0)` : `(U1 + U2 + fc > ${mask(p.size)} ? 1 : 0)`;
  if (p.kind === 'sub') return p.cin0 ? '(U1 < U2 ? 1 : 0)' : '(U1 < U2 + fc ? 1 : 0)';
  return '(fl & 1)';
}
export function zfExpr(): string {
  return '(fr === 0 ? 1 : 0)';
}
export function sfExpr(p: Producer): string {
  return `((fr >>> ${p.size * 8 - 1}) & 1)`;
}
export function pfExpr(): string {
  return 'P[fr & 0xff]';
}
export function ofExpr(p: Producer): string {
  const sb = p.size * 8 - 1;
  if (p.cfOfInFl) return '((fl >> 11) & 1)';
  if (p.kind === 'logic') return '0';
  if (p.kind === 'result') return '((fl >> 11) & 1)';
  if (isAddLike(p.kind)) return `((((f1 ^ fr) & (f2 ^ fr)) >>> ${sb}) & 1)`;
  return `((((f1 ^ f2) & (f1 ^ fr)) >>> ${sb}) & 1)`;
}

/** Sign-extending shift that turns an unsigned value of `size` bytes into a comparable int32. */
function signed(v: string, size: number): string {
  return size === 4 ? `(${v} | 0)` : `(${v} << ${32 - size * 8})`;
}

/** Condition cc (jcc/setcc/cmovcc low nibble) as a boolean expression. */
export function condExpr(p: Producer, cc: number): string {
  const fused = p.kind === 'sub' && p.cin0 && !p.cfOfInFl ? fusedCompare(p.size, cc) : undefined;
  if (fused !== undefined) return fused;
  let r: string;
  switch (cc >> 1) {
    case 0:
      r = `${ofExpr(p)} === 1`;
      break;
    case 1:
      r = `${cfExpr(p)} === 1`;
      break;
    case 2:
      r = 'fr === 0';
      break;
    case 3:
      r = `(${cfExpr(p)} === 1 || fr === 0)`;
      break;
    case 4:
      r = `${sfExpr(p)} === 1`;
      break;
    case 5:
      r = `${pfExpr()} === 1`;
      break;
    case 6:
      r = `${sfExpr(p)} !== ${ofExpr(p)}`;
      break;
    default:
      r = `(fr === 0 || ${sfExpr(p)} !== ${ofExpr(p)})`;
  }
  return (cc & 1) === 0 ? r : `!(${r})`;
}

/** cmp/sub a, b (no carry-in): conditions as direct comparisons of the operands. */
function fusedCompare(size: number, cc: number): string | undefined {
  const e = fusedRaw(size, cc);
  return e === undefined ? undefined : unsigned(e);
}
function fusedRaw(size: number, cc: number): string | undefined {
  const a = signed('f1', size);
  const b = signed('f2', size);
  switch (cc) {
    case 2:
      return 'U1 < U2';
    case 3:
      return 'U1 >= U2';
    case 4:
      return 'f1 === f2';
    case 5:
      return 'f1 !== f2';
    case 6:
      return 'U1 <= U2';
    case 7:
      return 'U1 > U2';
    case 12:
      return `${a} < ${b}`;
    case 13:
      return `${a} >= ${b}`;
    case 14:
      return `${a} <= ${b}`;
    case 15:
      return `${a} > ${b}`;
    default:
      return undefined;
  }
}
