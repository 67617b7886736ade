import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, FasFile, FasmError, generateFasBenchSource } from '@fasmcov/fas';
import { build, cleanup, fixtureDir, objdump, sourceLine } from './helpers/fixtures';

afterAll(cleanup);

describe('.fas reader: bitness and failed assemblies', () => {
  it('records use64 rows as 64-bit code (objdump -m x86-64 agrees on lengths)', () => {
    const b = build('long');
    const fas = FasFile.read(b.fas, { cwd: fixtureDir });
    const insns = objdump(['-D', '-b', 'binary', '-m', 'i386:x86-64', b.output]);
    const rows = fas.codeRows();
    expect(rows.map((r) => [r.line, r.bits])).toEqual([
      [4, 64],
      [5, 64],
      [6, 64],
      [8, 32],
    ]);
    for (const r of rows.filter((x) => x.bits === 64)) {
      const insn = insns.get(r.address)!;
      expect(insn.length).toBe(r.length);
      expect(sourceLine(fas.files[0].path, r.line).trim().split(/\s+/)[0]).toBe(insn.mnemonic);
    }
  });

  it('reads the .fas fasm leaves when assembly fails: lines, no rows', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-broken-'));
    try {
      const fasPath = path.join(dir, 'broken.fas');
      expect(() =>
        assemble('broken.asm', { output: path.join(dir, 'b.bin'), symbols: fasPath, cwd: fixtureDir }),
      ).toThrow(FasmError);
      const fas = FasFile.read(fasPath, { cwd: fixtureDir });
      expect(fas.assembled).toBe(false);
      expect(fas.rowCount).toBe(0);
      expect(fas.findAddress(0)).toBeUndefined();
      const last = fas.locate(fas.lineCount - 1);
      expect(last.file.name).toBe('broken.asm');
      expect(fas.lineText(fas.lineCount - 1)).toBe(
        sourceLine(last.file.path, last.line).trim().replace(/\s+/, ' '),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves recorded names against the directory fasm ran in', () => {
    const root = path.resolve(fixtureDir, '../..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-cwd-'));
    try {
      const fasPath = path.join(dir, 'flat.fas');
      assemble('fixtures/fas/flat.asm', {
        output: path.join(dir, 'flat.bin'),
        symbols: fasPath,
        cwd: root,
        includeDirs: [path.join(fixtureDir, 'envdir')],
      });
      const fas = FasFile.read(fasPath, { cwd: root });
      expect(fas.files[1].name).toBe('fixtures/fas/inc/macros.inc');
      expect(fas.files.every((f) => f.exists && f.path.startsWith(fixtureDir))).toBe(true);
      // Without the right cwd the names do not resolve, and the reader says so instead of guessing.
      const lost = FasFile.read(fasPath, { cwd: dir });
      expect(lost.files[1].exists).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists symbol references at the rows that use them', () => {
    const b = build('flat');
    const fas = FasFile.read(b.fas, { cwd: fixtureDir });
    const helper = fas.symbols.findIndex((s) => s.name === 'helper');
    const rows = fas.symbolReferences.filter((r) => r.symbol === helper).map((r) => fas.row(r.row));
    // Used by `call helper` and by `table dd start, helper, deep_fn`.
    const used = rows.map((r) => sourceLine(fas.files[r.file].path, r.line).trim());
    expect(used).toEqual(expect.arrayContaining(['call helper', 'table dd start, helper, deep_fn']));
    expect(used.every((t) => /\bhelper\b/.test(t))).toBe(true);
  });

  it('the benchmark generator produces what it promises per unit (53 lines, 19 rows)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-gen-'));
    try {
      const src = path.join(dir, 'gen.asm');
      fs.writeFileSync(src, generateFasBenchSource(40));
      assemble(src, { output: path.join(dir, 'gen.bin'), symbols: path.join(dir, 'gen.fas') });
      const fas = FasFile.read(path.join(dir, 'gen.fas'));
      const per = (n: number) => Math.round(n / 40);
      expect([per(fas.lineCount), per(fas.rowCount)]).toEqual([53, 19]);
      expect(fas.symbol('kernel_procedure_number_39.check_loop_39')).toBeDefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
