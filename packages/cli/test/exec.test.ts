import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { buildFixture, fixturesDir } from '../../tracer/test/linux/build-fixture';
import { runCli } from './helpers/cli';

describe('fasmcov exec', () => {
  test('runs a program: stdout passed through, exit status 0', () => {
    const r = runCli(['exec', buildFixture('hello')]);
    expect(r).toMatchObject({ status: 0, stdout: 'Hello, world!\n', stderr: '' });
  });

  test("the guest's exit status becomes the command's", () => {
    expect(runCli(['exec', buildFixture('exit-code', [['STATUS', '200']])]).status).toBe(200);
  });

  test('stdin, arguments after --, --env', () => {
    const echo = runCli(['exec', buildFixture('echo')], { input: 'abc\n'.repeat(100) });
    expect(echo).toMatchObject({ status: 0, stdout: 'abc\n'.repeat(100) });
    const exe = buildFixture('args');
    const args = runCli(['exec', '--env', 'K=V', exe, '--', '-x', 'y']);
    expect(args.stdout).toBe(`${exe}\n-x\ny\nK=V\n`);
    expect(args.status).toBe(3);
  });

  test('a guest fault: one line naming vector and eip, status 128+SIGSEGV', () => {
    const r = runCli(['exec', buildFixture('fault', [['KIND', '0']])]);
    expect(r.stdout).toBe('before the fault\n');
    expect(r.stderr).toMatch(
      /^fasmcov: guest fault: vector 14, page fault \(#PF\) reading 0x00001234 at eip 0x0804808a \(segment0\+0x8a\) \[SIGSEGV\]\n$/,
    );
    expect(r.status).toBe(139);
    // With fasm's symbolic file the fault is named after the nearest label and its source line.
    const exe = buildFixture('fault', [['KIND', '2']]);
    assemble(path.join(fixturesDir, 'fault.asm'), {
      output: `${exe}.x`,
      symbols: `${exe}.fas`,
      defines: [['KIND', '2']],
    });
    const named = runCli(['exec', '--fas', `${exe}.fas`, exe]);
    expect(named.stderr).toMatch(
      /^fasmcov: guest fault: vector 6, invalid opcode \(#UD\).* at eip 0x0804808a \(start\+0x16\) at \S*fault\.asm:20 \[SIGILL\]\n$/,
    );
    expect(named.status).toBe(132);
  });

  test('an endless loop stops at --max-instructions with one line', () => {
    const r = runCli(['exec', '--max-instructions', '100000', buildFixture('loop')]);
    expect(r.stderr).toMatch(
      /^fasmcov: guest stopped: instruction budget of 100000 exhausted at eip 0x0804805[45] /,
    );
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.status).toBe(124);
  });

  test('--strace reports unknown system calls; bad files give one line', () => {
    const r = runCli(['exec', '--strace', '--time', '5', buildFixture('clock')]);
    expect(r.stderr).toMatch(/\[strace\] syscall 500\(.*\) = -ENOSYS/);
    expect(Buffer.from(r.stdout, 'latin1').readInt32LE(0)).toBe(5);
    const bad = runCli(['exec', __filename]);
    expect(bad.stderr).toMatch(/^fasmcov: .*exec\.test\.ts: not an ELF file \(bad magic\)/);
    expect(bad.status).toBe(1);
    expect(runCli(['exec', '--max-instructions', 'x', buildFixture('hello')]).status).not.toBe(0);
  });
});
