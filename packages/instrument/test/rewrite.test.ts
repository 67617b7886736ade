import {
  classifyStatement,
  globToRegExp,
  matchesAny,
  rewriteLine,
  splitLine,
  usesCurrentAddress,
} from '@fasmcov/instrument';

describe('splitLine', () => {
  test.each([
    ['  mov eax, 1 ; set', { head: '  ', statement: 'mov eax, 1', tail: ' ; set' }],
    ['.a: @@: jz .b', { head: '.a: @@: ', statement: 'jz .b', tail: '' }],
    ["msg db 'a;b', 0 ; c", { head: '', statement: "msg db 'a;b', 0", tail: ' ; c' }],
    ['start:', { head: 'start:', statement: '', tail: '' }],
    ['  mov eax, fs:[0]\r', { head: '  ', statement: 'mov eax, fs:[0]', tail: '\r' }],
    ['; only a comment', { head: '', statement: '', tail: '; only a comment' }],
  ])('%j', (text, parts) => {
    expect(splitLine(text)).toEqual(parts);
    expect(parts.head + parts.statement + parts.tail).toBe(text);
  });
});

describe('classifyStatement', () => {
  test.each([
    ['mov eax, 1', { action: { kind: 'line' } }],
    ['lock inc dword [x.Lock]', { action: { kind: 'line' } }],
    ['jz @f', { action: { kind: 'jcc', inverse: 'jnz', target: '@f' } }],
    ['JNAE short .x', { action: { kind: 'jcc', inverse: 'jae', target: '.x' } }],
    ['jg near far_away', { action: { kind: 'jcc', inverse: 'jng', target: 'near far_away' } }],
    ['loopne @b', { action: { kind: 'loop', insn: 'loopne', target: '@b' } }],
    ['jecxz .done', { action: { kind: 'loop', insn: 'jecxz', target: '.done' } }],
    ['jmp short .next', { action: { kind: 'line', statement: 'jmp .next' } }],
    ['times 3 nop', { action: { kind: 'line' } }],
    ['db 1, 2', { data: true }],
    ['Lock dd ?', { data: true }],
    ['align 16', { data: true }],
  ])('%s', (statement, verdict) => {
    expect(classifyStatement(statement)).toEqual(verdict);
  });

  test.each([
    ['jmp $ + 2', /uses \$/],
    ['call $+5', /uses \$/],
    ['mov eax, $$', /uses \$/],
    ['stdcall f, 1', /'stdcall' is not an instruction/],
    ['rept 2 n { add eax, n }', /block on one line/],
    ['', /no statement/],
  ])('%s is left alone', (statement, reason) => {
    const v = classifyStatement(statement);
    expect('skip' in v && v.skip).toMatch(reason);
  });

  test('a hexadecimal number written with $ is no current address', () => {
    expect(usesCurrentAddress('mov eax, $FF')).toBe(false);
    expect(usesCurrentAddress("mov al, '$'")).toBe(false);
  });
});

describe('rewriteLine keeps labels and comments on the same line', () => {
  test.each([
    ['@@:     add ebx, eax ; x', { kind: 'line' as const }, '@@:     __fcov_line add ebx, eax ; x'],
    ['.l: jz .zero', { kind: 'jcc' as const, inverse: 'jnz', target: '.zero' }, '.l: __fcov_jcc jnz, .zero'],
    [
      '  loop .outer',
      { kind: 'loop' as const, insn: 'loop', target: '.outer' },
      '  __fcov_loop loop, .outer',
    ],
  ])('%s', (text, action, out) => {
    expect(rewriteLine(text, action)).toBe(out);
  });
});

describe('globs', () => {
  test.each([
    ['fs/*.inc', 'fs/fat.inc', true],
    ['fs/*.inc', 'fs/sub/fat.inc', false],
    ['fs/**', 'fs/sub/fat.inc', true],
    ['*.inc', 'core/heap.inc', true],
    ['{core,fs}/**/*.inc', 'core/heap.inc', true],
    ['{core,fs}/**/*.inc', 'blkdev/disk.inc', false],
  ])('%s ~ %s', (glob, file, match) => {
    expect(globToRegExp(glob).test(file)).toBe(match);
  });
  test('no globs match everything', () => expect(matchesAny('x/y.asm', [])).toBe(true));
});
