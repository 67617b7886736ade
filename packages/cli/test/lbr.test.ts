import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { BRANCH, type LbrEntry } from '@fasmcov/tracer';
import { runCli } from './helpers/cli';

// The LBR as a crash report: a program walks a known call chain with a loop in it and then
// dereferences a null pointer; the report must show how it got there, by label and source line,
// and the filters and the call-stack mode must keep exactly the records the SDM says.
const SOURCE = `format ELF executable 3
entry start
segment readable executable
start:  call outer                 ; @call-outer
        mov eax, 1
        int 0x80
outer:  mov ecx, 3
.loop:  call inner                 ; @call-inner
        dec ecx
        jnz .loop                  ; @jnz
        call crash                 ; @call-crash
        ret
inner:  ret                        ; @ret-inner
crash:  xor ebx, ebx
        mov eax, [ebx]             ; @fault
        ret
`;

describe('fasmcov exec --trace lbr', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-lbr-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'crash.asm'), SOURCE);
  assemble(path.join(dir, 'crash.asm'), {
    output: path.join(dir, 'crash'),
    symbols: path.join(dir, 'crash.fas'),
  });
  const lineOf = (tag: string) => SOURCE.split('\n').findIndex((l) => l.includes(`@${tag}`)) + 1;
  const exec = (...opts: string[]) =>
    runCli(['exec', '--trace', 'lbr', '--fas', 'crash.fas', '--run-dir', 'run', ...opts, 'crash'], {
      cwd: dir,
    });
  const ring = (): LbrEntry[] =>
    JSON.parse(fs.readFileSync(path.join(dir, 'run/lbr.json'), 'utf8')) as LbrEntry[];
  const kinds = (entries: LbrEntry[]) => entries.map((e) => e.kind);

  it('prints the last branches before a fault with labels and source lines', () => {
    const r = exec();
    expect(r.status).toBe(139);
    const [first, ...report] = r.stderr.trimEnd().split('\n');
    expect(first).toContain(`crash.asm:${lineOf('fault')}`);
    expect(report[0]).toMatch(/last \d+ branches recorded by the LBR, newest first/);
    // Newest first: the fault itself, then the call into crash from the call-crash line.
    expect(report[1]).toMatch(/^ {2}0: fault from 0x[0-9a-f]{8} \(crash\+0x2\) at \S*crash\.asm:/);
    expect(report[1]).toContain(`crash.asm:${lineOf('fault')}`);
    expect(report[3]).toMatch(/^ {2}1: call from 0x[0-9a-f]{8} \(outer[^)]*\)/);
    expect(report[3]).toContain(`crash.asm:${lineOf('call-crash')}`);
    expect(report[4]).toMatch(/to 0x[0-9a-f]{8} \(crash\)/);
    // The run directory's lbr.txt says the same.
    expect(fs.readFileSync(path.join(dir, 'run/lbr.txt'), 'utf8')).toBe(`${report.slice(1).join('\n')}\n`);
    // call outer, 3 × (call inner, ret), 2 × jnz taken, call crash, the fault.
    expect(kinds(ring()).reverse()).toEqual([
      BRANCH.CALL,
      BRANCH.CALL,
      BRANCH.RET,
      BRANCH.COND_TAKEN,
      BRANCH.CALL,
      BRANCH.RET,
      BRANCH.COND_TAKEN,
      BRANCH.CALL,
      BRANCH.RET,
      BRANCH.CALL,
      BRANCH.FAULT,
    ]);
  });

  it('keeps only the selected kinds', () => {
    expect(exec('--lbr-select', 'calls').status).toBe(139);
    expect(kinds(ring())).toEqual(Array(5).fill(BRANCH.CALL));
    expect(exec('--lbr-select', 'jcc,ret').status).toBe(139);
    expect(kinds(ring()).reverse()).toEqual([
      BRANCH.RET,
      BRANCH.COND_TAKEN,
      BRANCH.RET,
      BRANCH.COND_TAKEN,
      BRANCH.RET,
    ]);
    // The raw register: bit 2 suppresses conditional branches, bit 8 far branches (the fault).
    expect(exec('--lbr-select', '0x104').status).toBe(139);
    expect(kinds(ring())).not.toContain(BRANCH.COND_TAKEN);
    expect(kinds(ring())).not.toContain(BRANCH.FAULT);
    expect(ring()).toHaveLength(8); // 5 calls, 3 returns
  });

  it('call-stack mode leaves the live call chain at the fault', () => {
    expect(exec('--lbr-callstack').status).toBe(139);
    const live = ring();
    expect(kinds(live)).toEqual([BRANCH.CALL, BRANCH.CALL]);
    const r = exec('--lbr-callstack');
    expect(r.stderr).toContain(`crash.asm:${lineOf('call-crash')}`);
    expect(r.stderr).toContain(`crash.asm:${lineOf('call-outer')}`);
    expect(r.stderr).not.toContain(`crash.asm:${lineOf('call-inner')}`);
  });

  it('depth bounds the ring', () => {
    expect(exec('--lbr-depth', '3').status).toBe(139);
    expect(kinds(ring())).toEqual([BRANCH.FAULT, BRANCH.CALL, BRANCH.RET]);
  });

  it('rejects unknown kinds and a filter together with call-stack mode, in one line', () => {
    const bad = exec('--lbr-select', 'calls,bogus');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^fasmcov: LBR select: unknown branch kind 'bogus' \(expected .*\)\n$/);
    const both = exec('--lbr-select', 'calls', '--lbr-callstack');
    expect(both.status).toBe(1);
    expect(both.stderr.split('\n')).toHaveLength(2);
    expect(exec('--lbr-select', '0x400').stderr).toContain('only bits 0-9');
  });
});
