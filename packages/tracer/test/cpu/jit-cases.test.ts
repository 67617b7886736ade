// Hand-written programs for what random sequences rarely reach: faults inside compiled loops,
// instruction budgets ending mid-block, self-modifying code, rdtsc, call/ret, hooks and stop().
// Each program runs on the interpreter and on the JIT; the full state must be the same.
import { BRANCH, type Cpu } from '@fasmcov/tracer';
import { DATA, STACK_BOTTOM, STACK_TOP } from './helpers';
import { compileBlock } from '../../src/cpu/jit/compile';
import { EdgeCounters } from '../../src/cpu/jit/engine';
import { SHAPE } from '../../src/cpu/jit/gen';
import { type Snapshot, THROUGH, compileEagerly, loadOnce, runOutcome, snapshot } from './jit-helpers';

/** Memory compared after every slice, and (all of it) at the end. */
const SLICE_RANGES: Array<[number, number]> = [
  [DATA, 0x400],
  [DATA + 0xfc00, 0x400],
  [STACK_TOP - 0x100, 0x100],
];
const FINAL_RANGES: Array<[number, number]> = [
  [DATA, 0x10000],
  [STACK_BOTTOM, STACK_TOP - STACK_BOTTOM],
];

interface Trace {
  steps: Snapshot[];
  events: number[][];
}

/** Runs `src` in slices of `budget` until it stops (at most `slices`), recording branch events. */
function trace(src: string, jit: boolean, budget: number, setup?: (cpu: Cpu) => void, stopEvery = 0): Trace {
  const cpu = loadOnce(src);
  cpu.jit = jit;
  setup?.(cpu);
  const events: number[][] = [];
  cpu.branchHook = (a, b, k) => {
    events.push([a, b, k]);
    if (stopEvery && events.length % stopEvery === 0) cpu.stop();
  };
  const slices = 1000;
  const steps: Snapshot[] = [];
  for (let s = 0; s < slices; s++) {
    const why = runOutcome(cpu, budget);
    steps.push(snapshot(cpu, why, SLICE_RANGES));
    if (why !== 'budget' && why !== 'stop') break;
  }
  steps.push(snapshot(cpu, 'end', FINAL_RANGES));
  return { steps, events };
}

/** The JIT must reproduce the interpreter exactly; returns the interpreter's trace for further checks. */
function same(src: string, budget = 1_000_000, setup?: (cpu: Cpu) => void, stopEvery = 0): Trace {
  const want = trace(src, false, budget, setup, stopEvery);
  const got = trace(src, true, budget, setup, stopEvery);
  expect(got.steps.length).toBe(want.steps.length);
  got.steps.forEach((s, k) => expect({ slice: k, ...s }).toEqual({ slice: k, ...want.steps[k] }));
  expect(got.events).toEqual(want.events);
  return want;
}

const last = (t: Trace): Snapshot => t.steps[t.steps.length - 2];

describe('JIT exactness on hand-written programs', () => {
  compileEagerly();

  it('a compiled loop reading past the end of memory faults at the same instruction and state', () => {
    const src = [
      `mov esi, ${DATA + 0x10000 - 64}`,
      'xor eax, eax',
      'l: add eax, [esi]', // faults once esi reaches the unmapped page
      'add esi, 4',
      'inc ecx',
      'cmp ecx, 1000',
      'jb l',
      'hlt',
    ].join('\n');
    const t = same(src);
    expect(last(t).outcome).toMatch(/fault 14 .* addr 210000/);
    // And with budgets that end inside the loop body, the same.
    same(src, 7);
    same(src, 3);
  });

  it('a write fault after the flags are computed leaves the flags as the interpreter does', () => {
    const src = ['mov eax, 0x7fffffff', 'l: add eax, 1', `add [${DATA + 0x10000 - 2}], eax`, 'jmp l'].join(
      '\n',
    );
    const t = same(src);
    expect(last(t).outcome).toMatch(/fault 14/);
    const ro = ['l: sub eax, 3', 'inc dword [0x1000]', 'jmp l'].join('\n');
    const r = same(ro, 1_000_000, (cpu) => cpu.memory.map(0x1000, 0x1000, { writable: false }));
    expect(last(r).outcome).toMatch(/fault 14 .* addr 1000/);
  });

  it('push into the guard page: esp unchanged, fault at the push', () => {
    const t = same('l: push eax\ninc eax\njmp l');
    expect(last(t).regs[4]).toBe(STACK_BOTTOM);
    same('l: push eax\ninc eax\njmp l', 1000);
  });

  it('unaligned and page-crossing accesses', () => {
    same(
      [
        `mov esi, ${DATA + 0xffd}`,
        'mov ecx, 50',
        'l: mov eax, [esi]',
        'add [esi+1], eax',
        'mov bx, [esi+3]',
        'xor [esi+2], bx',
        'dec ecx',
        'jnz l',
        'hlt',
      ].join('\n'),
    );
  });

  it('budgets of every size stop after exactly that many instructions', () => {
    const src = [
      'xor ecx, ecx',
      'l: add eax, ecx',
      'adc ebx, eax',
      'inc ecx',
      'cmp ecx, 40',
      'jne l',
      'hlt',
    ].join('\n');
    for (const b of [1, 2, 3, 4, 5, 6, 11, 64, 1000]) {
      const t = same(src, b);
      expect(last(t).outcome).toBe('halt');
      t.steps.slice(0, -2).forEach((s, k) => expect(s.retired).toBe((k + 1) * b));
    }
  });

  it('rdtsc inside a hot loop reads the instructions retired', () => {
    const t = same(
      ['mov ecx, 100', `mov edi, ${DATA}`, 'l: rdtsc', 'stosd', 'dec ecx', 'jnz l', 'hlt'].join('\n'),
    );
    expect(last(t).outcome).toBe('halt');
  });

  it('self-modifying code: a compiled loop that patches its own immediate', () => {
    const t = same(
      [
        'mov ecx, 200',
        'l: add eax, 1', // the 1 is patched to 2, then 3, ...
        'p = $ - 1',
        'inc byte [p]',
        'dec ecx',
        'jnz l',
        'hlt',
      ].join('\n'),
    );
    expect(last(t).outcome).toBe('halt');
    // Patching the next instruction in the same block takes effect at once.
    same(['mov ecx, 100', 'l: mov byte [q+1], 0x48', 'q: inc eax', 'dec ecx', 'jnz l', 'hlt'].join('\n'));
    // A rep stos (interpreted) overwriting compiled code.
    same(
      [
        'mov edx, 60',
        'l: inc eax',
        'r: add ebx, 5',
        'dec edx',
        'jz done',
        'cmp edx, 30',
        'jne l',
        'mov edi, r',
        'mov al, 0x90',
        'mov ecx, 3',
        'rep stosb',
        'jmp l',
        'done: hlt',
      ].join('\n'),
    );
  });

  it('call / ret / indirect jumps and leave, with the hook seeing every branch', () => {
    const t = same(
      [
        'mov ecx, 50',
        'l: call f',
        'mov edx, g',
        'call edx',
        'mov ebx, h',
        'jmp ebx',
        'h: dec ecx',
        'jnz l',
        'hlt',
        'f: push ebp',
        'mov ebp, esp',
        'push 7',
        'add eax, [esp]',
        'leave',
        'ret',
        'g: ret 0',
      ].join('\n'),
    );
    const kinds = new Set(t.events.map((e) => e[2]));
    for (const k of [BRANCH.CALL, BRANCH.CALL_INDIRECT, BRANCH.RET, BRANCH.JMP_INDIRECT, BRANCH.COND_TAKEN])
      expect(kinds).toContain(k);
  });

  it('blocks go on through direct jumps, calls and the returns of those calls; a return elsewhere leaves', () => {
    const t = same(THROUGH);
    const kinds = new Set(t.events.map((e) => e[2]));
    for (const k of [BRANCH.CALL, BRANCH.RET, BRANCH.JMP, BRANCH.COND_TAKEN]) expect(kinds).toContain(k);
    // The first block runs from the start through f and h and back, into g and its call of the
    // next instruction, through g's return (checked against the address the call pushed), the jmp
    // and dec to the loop's branch, and ends with the hlt: 20 instructions.
    const cpu = loadOnce(THROUGH);
    const env = {
      epoch: 0,
      counters: new EdgeCounters(),
      inl: undefined,
      ring: undefined,
      pt: undefined,
      rest: undefined,
    };
    expect(compileBlock(cpu, cpu.eip, env, SHAPE.BARE)?.n).toBe(20);
    // A jump to code already in the block ends it: a loop entered there is compiled as a loop
    // (from its head) rather than unrolled.
    const entered = loadOnce(['mov ecx, 9', 'jmp l', 'l: inc eax', 'dec ecx', 'jnz l', 'jmp l'].join('\n'));
    expect(compileBlock(entered, entered.eip, env, SHAPE.BARE)?.n).toBe(6);
  });

  it('hlt and stop() from a host call end the run where the interpreter ends it', () => {
    const src = ['mov ecx, 100', 'l: inc eax', 'db 0x0f, 0xff', 'dw 1', 'dec ecx', 'jnz l', 'hlt'].join('\n');
    // The host call stops the run every fifth time.
    let calls = 0;
    const setup = (cpu: Cpu): void => {
      calls = 0;
      cpu.hostCall = () => {
        if (++calls % 5 === 0) cpu.stop();
      };
    };
    const t = same(src, 1_000_000, setup);
    expect(t.steps.filter((s) => s.outcome === 'stop').length).toBe(20);
  });

  it('a branch hook calling stop() ends the run right after that branch', () => {
    const src = [
      'mov ecx, 60',
      'l: add eax, ecx',
      'test al, 1',
      'jz s',
      'inc ebx',
      's: dec ecx',
      'jnz l',
      'hlt',
    ].join('\n');
    for (const every of [1, 2, 3, 7]) {
      const t = same(src, 1_000_000, undefined, every);
      expect(t.steps.filter((x) => x.outcome === 'stop').length).toBeGreaterThan(10);
    }
  });

  it('FASMCOV_JIT / cpu.jit switch the compiler off and on', () => {
    const cpu = loadOnce('l: inc eax\njmp l');
    cpu.jit = false;
    expect(cpu.jit).toBe(false);
    cpu.run(1000);
    cpu.jit = true;
    expect(cpu.jit).toBe(true);
    expect(cpu.run(1000)).toBe('budget');
    expect(cpu.instructionsRetired).toBe(2000);
    expect(cpu.regs[0]).toBe(1000);
  });
});
