// Every condition code after every compiled flag producer, at every operand size, on edge values:
// the compiled code folds the producer into the condition (cmp + jb becomes a < b), so each fused
// and generic form is checked against the interpreter, with the condition read in the same block
// (compiled), after an uncompiled instruction (the record still in the Cpu) and by pushfd.
import { Cpu } from '@fasmcov/tracer';
import { DATA, load } from './helpers';
import { compileEagerly, peekEflags, runOutcome } from './jit-helpers';

compileEagerly();

const VALUES = [0, 1, 0x7f, 0x80, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const REGS: Record<number, [string, string]> = { 1: ['al', 'bl'], 2: ['ax', 'bx'], 4: ['eax', 'ebx'] };
const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

/** The producer under test with eax = a and ebx = b loaded (sizes narrower than 4 use the low parts). */
function producer(op: string, size: number, b: number, carry: boolean): string[] {
  const [d, s] = REGS[size];
  const pre = carry ? ['stc'] : ['clc'];
  if (['inc', 'dec', 'neg', 'not'].includes(op)) return [...pre, `${op} ${d}`];
  if (['shl', 'shr', 'sar'].includes(op)) return [...pre, `${op} ${d}, ${b & 31}`];
  if (op === 'shl1') return [...pre, `shl ${d}, 1`];
  // imul sets CF/OF only: the other flags still come from the instruction before it.
  if (op === 'imul')
    return [
      ...pre,
      ...[['sub al, bl', 'imul ecx, ebx, 3'], ['imul ax, bx'], ['add eax, ebx', 'imul eax, ebx']][size >> 1],
    ];
  return [...pre, `${op} ${d}, ${s}`];
}

function program(op: string): string {
  const out: string[] = [`mov edi, ${DATA}`];
  let label = 0;
  let rec = 0;
  for (const size of [1, 2, 4])
    for (const a of VALUES)
      for (const b of VALUES) {
        const carry = ((a ^ b) & 1) === 1;
        const load = [`mov eax, ${hex(a)}`, `mov ebx, ${hex(b)}`];
        out.push(...load, ...producer(op, size, b, carry));
        CC.forEach((cc, k) => out.push(`set${cc} byte [edi+${k}]`));
        // Four conditions per record as jumps (each a block exit), rotating through all sixteen; every
        // other one is read after cld, an instruction left to the interpreter (record still in the Cpu).
        for (let j = 0; j < 4; j++) {
          const k = (rec + 4 * j) % 16;
          const l = `l${label++}`;
          const between = k & 1 ? ['cld'] : [];
          out.push(...load, ...producer(op, size, b, carry), ...between, `j${CC[k]} ${l}`);
          out.push(`mov byte [edi+${16 + k}], 1`, `${l}:`);
        }
        rec++;
        out.push('pushfd', 'pop dword [edi+32]', 'mov [edi+36], eax', 'add edi, 40');
      }
  out.push('hlt');
  return out.join('\n');
}

function runBoth(op: string): { interp: Cpu; jit: Cpu } {
  const src = program(op);
  const interp = load(src);
  interp.jit = false;
  interp.memory.map(DATA, 0x20000);
  const jit = load(src);
  jit.jit = true;
  jit.memory.map(DATA, 0x20000);
  expect(runOutcome(interp, 10_000_000)).toBe('halt');
  expect(runOutcome(jit, 10_000_000)).toBe('halt');
  return { interp, jit };
}

const OPS = [
  'add',
  'adc',
  'sub',
  'sbb',
  'cmp',
  'and',
  'or',
  'xor',
  'test',
  'inc',
  'dec',
  'neg',
  'not',
  'shl',
  'shr',
  'sar',
  'shl1',
  'imul',
];

describe('JIT conditions and flags after each producer', () => {
  for (const op of OPS) {
    it(op, () => {
      const { interp, jit } = runBoth(op);
      const span = 3 * VALUES.length * VALUES.length * 40;
      const want = interp.memory.readBytes(DATA, span);
      const got = jit.memory.readBytes(DATA, span);
      // Report the first differing record: its operands and which condition.
      const at = want.findIndex((v, k) => got[k] !== v);
      if (at >= 0) {
        const rec = Math.floor(at / 40);
        const size = [1, 2, 4][Math.floor(rec / (VALUES.length * VALUES.length))];
        const a = VALUES[Math.floor(rec / VALUES.length) % VALUES.length];
        const b = VALUES[rec % VALUES.length];
        const field = at % 40;
        expect({ size, a: hex(a), b: hex(b), field, got: got[at] }).toEqual({
          size,
          a: hex(a),
          b: hex(b),
          field,
          got: want[at],
        });
      }
      expect(Array.from(jit.regs)).toEqual(Array.from(interp.regs));
      expect(peekEflags(jit)).toBe(peekEflags(interp));
      expect(jit.instructionsRetired).toBe(interp.instructionsRetired);
    });
  }
});
