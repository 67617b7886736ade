// LBR ring, LBR_SELECT filtering and call-stack mode, checked against hand-worked sequences.
import { BRANCH, LBR_CALLSTACK_SELECT, LBR_SELECT, LbrRecorder, formatLbr } from '@fasmcov/tracer';

describe('LBR recorder', () => {
  test('keeps the last N taken branches, newest first; not-taken branches are not recorded', () => {
    const lbr = new LbrRecorder({ depth: 4 });
    for (let i = 1; i <= 6; i++) lbr.hook(0x100 * i, 0x100 * i + 0x10, BRANCH.JMP);
    lbr.hook(0x999, 0x99b, BRANCH.COND_NOT_TAKEN);
    expect(lbr.snapshot().map((e) => e.from)).toEqual([0x600, 0x500, 0x400, 0x300]);
    expect(formatLbr(lbr.snapshot()).split('\n')[0]).toBe('  0: 0x00000600 -> 0x00000610 jmp');
  });

  test('LBR_SELECT bits suppress their kind of branch', () => {
    const lbr = new LbrRecorder({ select: LBR_SELECT.JCC | LBR_SELECT.NEAR_REL_JMP });
    lbr.hook(1, 2, BRANCH.COND_TAKEN);
    lbr.hook(3, 4, BRANCH.JMP);
    lbr.hook(5, 6, BRANCH.CALL);
    lbr.hook(7, 8, BRANCH.JMP_INDIRECT);
    lbr.hook(9, 10, BRANCH.FAULT);
    expect(lbr.snapshot().map((e) => e.kind)).toEqual([BRANCH.FAULT, BRANCH.JMP_INDIRECT, BRANCH.CALL]);
    const ring0 = new LbrRecorder({ select: LBR_SELECT.CPL_EQ_0 });
    ring0.hook(1, 2, BRANCH.CALL);
    expect(ring0.snapshot()).toEqual([]);
  });

  test('call-stack mode holds the live call chain: returns pop their calls', () => {
    const lbr = new LbrRecorder({ depth: 8, select: LBR_CALLSTACK_SELECT });
    lbr.hook(0x10, 0x100, BRANCH.CALL); // main -> a
    lbr.hook(0x105, 0x110, BRANCH.COND_TAKEN); // filtered
    lbr.hook(0x120, 0x200, BRANCH.CALL_INDIRECT); // a -> b
    lbr.hook(0x210, 0x300, BRANCH.CALL); // b -> c
    lbr.hook(0x301, 0x215, BRANCH.RET); // c returns
    lbr.hook(0x220, 0x400, BRANCH.CALL); // b -> d
    expect(lbr.snapshot().map((e) => [e.from, e.to])).toEqual([
      [0x220, 0x400],
      [0x120, 0x200],
      [0x10, 0x100],
    ]);
    lbr.hook(0x401, 0x225, BRANCH.RET);
    lbr.hook(0x226, 0x125, BRANCH.RET);
    lbr.hook(0x126, 0x15, BRANCH.RET);
    lbr.hook(0x16, 0x0, BRANCH.RET); // more returns than calls: nothing left to pop
    expect(lbr.snapshot()).toEqual([]);
  });

  test('a ring that wrapped still reads newest first', () => {
    const lbr = new LbrRecorder({ depth: 3 });
    for (let i = 0; i < 100; i++) lbr.hook(i, i + 1, BRANCH.RET);
    expect(lbr.snapshot().map((e) => e.from)).toEqual([99, 98, 97]);
    lbr.clear();
    expect(lbr.snapshot()).toEqual([]);
  });
});
