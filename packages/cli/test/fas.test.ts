import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { repoRoot, runCli } from './helpers/cli';

const fixtures = path.join(repoRoot, 'fixtures/fas');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-cli-fas-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function build(name: string): { out: string; fas: string } {
  const b = { out: path.join(dir, `${name}.out`), fas: path.join(dir, `${name}.fas`) };
  assemble(`${name}.asm`, {
    output: b.out,
    symbols: b.fas,
    cwd: fixtures,
    includeDirs: [path.join(fixtures, 'envdir')],
  });
  return b;
}

function line(file: string, n: number): string {
  return fs.readFileSync(path.join(fixtures, file), 'utf8').split('\n')[n - 1];
}

/** Runs `fasmcov fas` from the fixture directory (where fasm ran), so paths print relative to it. */
const fas = (...args: string[]) => runCli(['fas', ...args], { cwd: fixtures });

describe('fasmcov fas', () => {
  const flat = build('flat');
  const elf = build('elf');

  it('summarizes files, lines, code lines and bytes (bytes add up to the output size)', () => {
    const r = fas(flat.fas, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      files: Array<{ file: string; lines: number; bytes: number }>;
      sections: string[];
    };
    expect(doc.files.map((f) => f.file)).toEqual([
      'flat.asm',
      'inc/macros.inc',
      'inc/helper.inc',
      'inc/nested/deep.inc',
      'inc/sibling.inc',
      'envdir/envinc.inc',
    ]);
    expect(doc.files.reduce((a, f) => a + f.bytes, 0)).toBe(fs.statSync(flat.out).size);
    expect(doc.files[4].lines).toBe(
      fs.readFileSync(path.join(fixtures, 'inc/sibling.inc'), 'utf8').split('\n').length,
    );
    const text = fas(elf.fas);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/3 sections \(\.text, \.data, \.bss\)/);
    expect(text.stdout).toMatch(/^\s+\d+\s+\d+\s+\d+ {2}elf\.asm$/m);
  });

  it('--where maps an address to the macro body line and the invoking line (objdump agrees)', () => {
    const od = spawnSync(
      'objdump',
      ['-D', '-b', 'binary', '-m', 'i386', '-M', 'intel', '--adjust-vma=0x7c00', flat.out],
      {
        encoding: 'utf8',
      },
    ).stdout;
    expect(od).toMatch(/7c12:\s+53\s+push\s+ebx/);
    const r = fas(flat.fas, '--where', '0x7c12');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('inc/macros.inc:7\n  via flat.asm:15\n');
    expect(line('inc/macros.inc', 7).trim()).toBe('push b');
    expect(line('flat.asm', 15).trim()).toBe('pushpair eax, ebx');
    expect(fas(flat.fas, '--where', '7c12h').stdout).toBe(r.stdout);
  });

  it('--where maps a symbol to its definition', () => {
    const r = fas(flat.fas, '--where', 'helper');
    expect(r.stdout).toBe('inc/helper.inc:2\n');
    expect(line('inc/helper.inc', 2)).toBe('helper:');
  });

  it('--where takes .text offsets or section:offset in object files', () => {
    expect(fas(elf.fas, '--where', '0xd').stdout).toBe('elf.asm:14\n');
    expect(line('elf.asm', 14).trim()).toBe('xor ebx, ebx');
    expect(fas(elf.fas, '--where', '.data:4').stdout).toBe('elf.asm:19\n');
    expect(line('elf.asm', 19)).toMatch(/^ptrs dd/);
  });

  it('fails with one line and exit 1 when nothing maps or the file is bad', () => {
    const none = fas(flat.fas, '--where', '0x10');
    expect([none.status, none.stdout]).toEqual([1, '']);
    expect(none.stderr).toMatch(/^fasmcov: no instruction or data at 0x10 in .*flat\.fas\n$/);
    const bad = path.join(dir, 'bad.fas');
    fs.writeFileSync(bad, fs.readFileSync(flat.fas).subarray(0, 100));
    const r = fas(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fasmcov: .*bad\.fas: offset 0x[0-9a-f]+: [a-z ]+: [^\n]+\n$/);
    const missing = fas(path.join(dir, 'missing.fas'));
    expect(missing.status).toBe(1);
    expect(missing.stderr.split('\n')).toHaveLength(2);
    expect(fas(elf.fas, '--where', '.nope:0').stderr).toMatch(/^fasmcov: no section '\.nope'/);
  });

  it('has help', () => {
    const r = runCli(['fas', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--where <address\|symbol>/);
  });
});
