import * as fs from 'node:fs';
import * as path from 'node:path';
import { BudgetExhaustedError, GuestFault, runLinuxExecutable, signalForVector } from '@fasmcov/tracer';
import { CapturedStdio, buildFixture, fixturesDir, haveQemu, runQemu } from './build-fixture';

interface Case {
  name: string;
  defines?: Array<[string, string]>;
  args?: string[];
  env?: string[];
  input?: Buffer;
}

function emulate(c: Case) {
  const exe = buildFixture(c.name, c.defines);
  const stdio = new CapturedStdio(c.input);
  const r = runLinuxExecutable(fs.readFileSync(exe), exe, {
    argv: [exe, ...(c.args ?? [])],
    env: c.env,
    stdio,
    cwd: fixturesDir,
  });
  return {
    exe,
    status: r.exitCode,
    stdout: stdio.stdout,
    stderr: stdio.stderr,
    instructions: r.instructions,
  };
}

const cases: Case[] = [
  { name: 'hello' },
  { name: 'echo', input: Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff)) },
  { name: 'echo', input: Buffer.alloc(0) },
  { name: 'cat', args: ['hello.asm', 'loop.asm'] },
  { name: 'cat', args: ['hello.asm', 'no-such-file'] },
  { name: 'args', args: ['one', 'two words', ''], env: ['A=1'] },
  { name: 'exit-code', defines: [['STATUS', '7']] },
  { name: 'exit-code', defines: [['STATUS', '200']] },
  { name: 'heap' },
];

describe('Linux executables: emulator against qemu-i386', () => {
  test.each(cases.map((c) => [`${c.name} ${JSON.stringify(c.args ?? c.defines ?? [])}`, c]))('%s', (_, c) => {
    const emu = emulate(c as Case);
    expect(emu.instructions).toBeGreaterThan(0);
    if (!haveQemu()) return;
    const native = runQemu(emu.exe, (c as Case).args ?? [], {
      input: (c as Case).input,
      env: (c as Case).env,
      cwd: fixturesDir,
    });
    expect(native.signal).toBeNull();
    expect(emu.stdout.toString('latin1')).toBe(native.stdout.toString('latin1'));
    expect(emu.stderr.toString('latin1')).toBe(native.stderr.toString('latin1'));
    expect(emu.status).toBe(native.status);
  });

  test('known results independent of qemu', () => {
    expect(emulate({ name: 'hello' }).stdout.toString()).toBe('Hello, world!\n');
    expect(emulate({ name: 'exit-code', defines: [['STATUS', '200']] }).status).toBe(200);
    const cat = emulate({ name: 'cat', args: ['hello.asm'] });
    expect(cat.stdout.toString()).toBe(fs.readFileSync(path.join(fixturesDir, 'hello.asm'), 'utf8'));
    expect(emulate({ name: 'heap' })).toMatchObject({ status: 0 });
    // Linux keeps the environment's order (qemu-user reverses it, so it is no oracle for this).
    const args = emulate({ name: 'args', args: ['x'], env: ['B=2', 'A=1'] });
    expect(args.stdout.toString().split('\n').slice(1)).toEqual(['x', 'B=2', 'A=1', '']);
    expect(args.status).toBe(2);
  });

  test('time and getpid are deterministic; unknown syscalls give -ENOSYS', () => {
    const exe = buildFixture('clock');
    const stdio = new CapturedStdio();
    const lines: string[] = [];
    runLinuxExecutable(fs.readFileSync(exe), exe, {
      argv: [exe],
      stdio,
      time: 0x01020304,
      trace: (l) => lines.push(l),
    });
    const out = stdio.stdout;
    expect([0, 4, 8, 12].map((o) => out.readInt32LE(o))).toEqual([0x01020304, 0x01020304, 1000, -38]);
    expect(lines.some((l) => /syscall 500\(.*-ENOSYS/.test(l))).toBe(true);
  });
});

describe('faults and budgets', () => {
  test.each([
    ['0', 14, 'SIGSEGV'],
    ['1', 0, 'SIGFPE'],
    ['2', 6, 'SIGILL'],
    ['3', 3, 'SIGTRAP'],
    ['4', 13, 'SIGSEGV'],
    ['5', 13, 'SIGSEGV'],
  ])('fault KIND=%s → vector %d (%s)', (kind, vector, signal) => {
    const exe = buildFixture('fault', [['KIND', kind]]);
    const stdio = new CapturedStdio();
    let fault: unknown;
    try {
      runLinuxExecutable(fs.readFileSync(exe), exe, { argv: [exe], stdio });
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(GuestFault);
    const f = fault as GuestFault;
    expect(f.vector).toBe(vector);
    // After the ELF header and 2 program headers (0x74 bytes): 4 five-byte movs, int 0x80 (objdump).
    expect(f.eip).toBe(0x08048074 + 4 * 5 + 2 + (kind === '1' ? 2 : 0));
    if (vector === 14) expect(f.address).toBe(0x1234);
    expect(stdio.stdout.toString()).toBe('before the fault\n');
    expect(signalForVector(vector).name).toBe(signal);
    if (haveQemu()) expect(runQemu(exe, []).signal).toBe(signal);
  });

  test('an endless loop ends with BudgetExhaustedError', () => {
    const exe = buildFixture('loop');
    expect(() =>
      runLinuxExecutable(fs.readFileSync(exe), exe, { argv: [exe], maxInstructions: 100_000 }),
    ).toThrow(BudgetExhaustedError);
  });
});

describe('system call errors and edge cases', () => {
  test('results equal Linux (qemu-i386) call by call', () => {
    const exe = buildFixture('errors');
    const stdio = new CapturedStdio(Buffer.from('unused'));
    const r = runLinuxExecutable(fs.readFileSync(exe), exe, { argv: [exe], stdio, cwd: fixturesDir });
    expect(r.exitCode).toBe(0);
    const words = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readInt32LE(4 * i));
    const size = fs.statSync(path.join(fixturesDir, 'hello.asm')).size;
    const hello = fs.readFileSync(path.join(fixturesDir, 'hello.asm'));
    const expected = [
      -2,
      -9,
      -9,
      -14,
      -29,
      3,
      -14,
      9,
      8,
      hello.readInt32LE(9),
      size - 1,
      1,
      0,
      -22,
      0,
      -9,
      -22,
      0,
      -22,
    ];
    expect(words(stdio.stdout)).toEqual(expected);
    if (!haveQemu()) return;
    const native = runQemu(exe, [], { input: Buffer.from('unused'), cwd: fixturesDir });
    expect(words(native.stdout)).toEqual(expected);
  });
});
