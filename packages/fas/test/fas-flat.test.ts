import * as fs from 'node:fs';
import * as path from 'node:path';
import { FasFile } from '@fasmcov/fas';
import { build, cleanup, fixtureDir, objdump, sourceLine, sourceMnemonic, envDir } from './helpers/fixtures';

const ORG = 0x7c00;

describe('.fas reader on a flat binary (oracles: objdump, the output bytes, the source text)', () => {
  const b = build('flat');
  const fas = FasFile.read(b.fas, { cwd: fixtureDir, includeDirs: [envDir] });
  const out = fs.readFileSync(b.output);
  const vma = ['-D', '-b', 'binary', `--adjust-vma=0x${ORG.toString(16)}`, b.output];
  const insns32 = objdump(['-m', 'i386', ...vma]);
  const insns16 = objdump(['-m', 'i8086', ...vma]);
  const rows = fas.codeRows().filter((r) => !r.virtual);
  afterAll(cleanup);

  it('reads the header and lists every file fasm read, resolved to the real files', () => {
    expect(fas.header.majorVersion).toBe(1);
    expect(fas.inputName).toBe('flat.asm');
    expect(fas.outputName).toBe(b.output);
    expect(fas.relocatable).toBe(false);
    const expected = [
      'flat.asm',
      'inc/macros.inc',
      'inc/helper.inc',
      'inc/nested/deep.inc',
      'inc/sibling.inc',
      'envdir/envinc.inc',
    ];
    expect(fas.files.map((f) => path.relative(fixtureDir, f.path))).toEqual(expected);
    for (const f of fas.files) {
      expect(f.exists).toBe(true);
      if (f.includedFrom) {
        const text = sourceLine(fas.files[f.includedFrom.file].path, f.includedFrom.line);
        expect(text).toMatch(new RegExp(`^include '.*${path.basename(f.path).replace('.', '\\.')}'`));
      }
    }
    // Found through INCLUDE: fasm recorded the directory it found the file in.
    expect(fas.files[5].name).toBe(path.join(envDir, 'envinc.inc'));
  });

  it('rows that produce bytes cover the output file exactly', () => {
    let at = 0;
    for (const r of rows) {
      expect(r.outputOffset).toBe(at);
      expect(r.address).toBe(ORG + r.outputOffset);
      at += r.length;
    }
    expect(at).toBe(out.length);
  });

  it('every instruction line maps to the instruction objdump decodes at its address, with its length', () => {
    let checked = 0;
    for (const r of rows) {
      const loc = fas.locate(r.lineIndex);
      const want = sourceMnemonic(sourceLine(loc.file.path, loc.line));
      if (!want) continue;
      const insns = r.bits === 16 ? insns16 : insns32;
      let len = 0;
      let count = 0;
      for (let a = r.address; a < r.address + r.length; a += insns.get(a)?.length ?? 1, count++) {
        const insn = insns.get(a);
        expect(insn && `${insn.mnemonic}@${a.toString(16)}`).toBe(`${want}@${a.toString(16)}`);
        len += insn?.length ?? 1;
      }
      expect(len).toBe(r.length);
      if (!/times/.test(sourceLine(loc.file.path, loc.line))) expect(count).toBe(1);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('maps addresses and output offsets back to lines, and nothing outside the code', () => {
    for (const r of rows) {
      for (let k = 0; k < r.length; k++) {
        expect(fas.rowAt(r.address + k)).toBe(r.row);
        expect(fas.findOutputOffset(r.outputOffset + k)?.lineIndex).toBe(r.lineIndex);
      }
    }
    expect(fas.findAddress(ORG - 1)).toBeUndefined();
    expect(fas.findAddress(ORG + out.length)).toBeUndefined();
    expect(fas.findAddress({ section: 1, offset: ORG })).toBeUndefined();
  });

  it('records use16/use32 as each row’s bitness, as the source text sets it', () => {
    for (const r of rows.filter((x) => x.file === 0)) {
      const text = fs.readFileSync(fas.files[0].path, 'latin1').split('\n').slice(0, r.line);
      const last = text.filter((l) => /^use(16|32)/.test(l)).pop();
      expect(`${r.line}:${r.bits}`).toBe(`${r.line}:${last?.slice(3)}`);
    }
  });

  it('symbol values match the label lines, the call targets and the bytes of `table`', () => {
    for (const s of fas.symbols.filter((x) => x.defined && x.name && !/^[A-Z_]+$/.test(x.name))) {
      const loc = fas.locate(s.lineIndex);
      const text = sourceLine(loc.file.path, loc.line);
      const local = s.name
        .split('.')
        .pop()!
        .replace(/\?\d+$/, '');
      // `pt point 1, 2` defines `pt` (and `pt.x`/`pt.y` in the struc body).
      expect(text).toMatch(new RegExp(`^\\s*\\.?(${local.replace(/[?@]/g, '\\$&')}:|${local}\\b)`));
    }
    const call = [...insns32.values()].find((i) => i.mnemonic === 'call')!;
    expect(Number(call.text.split(/\s+/)[1])).toBe(fas.symbol('helper')!.address);
    const table = fas.symbol('table')!;
    expect([0, 4, 8].map((k) => out.readUInt32LE(table.address - ORG + k))).toEqual(
      ['start', 'helper', 'deep_fn'].map((n) => fas.symbol(n)!.address),
    );
    expect(fas.symbolsAt(fas.symbol('deep_fn')!.address).map((s) => s.name)).toEqual([
      'deep_fn',
      'deep_fn.here?1',
    ]);
    expect(fas.symbol('DEBUG_BUILD')!.value).toBe(0n);
  });

  it('gives macro-generated lines their body line and the invoking lines', () => {
    const fromMacro = rows.filter((r) => fas.locate(r.lineIndex).chain.length > 0);
    expect(fromMacro.length).toBeGreaterThan(8);
    for (const r of fromMacro) {
      const loc = fas.locate(r.lineIndex);
      const body = fs.readFileSync(loc.file.path, 'latin1').split('\n');
      // The body line lies inside the definition of the macro (or struc) named by the chain.
      const head = body
        .slice(0, loc.line)
        .reverse()
        .find((l) => /^(macro|struc) /.test(l));
      expect(head?.split(/\s+/)[1]).toBe(loc.chain[0].macro);
      const invoking = sourceLine(loc.chain[0].file.path, loc.chain[0].line);
      expect(invoking).toMatch(new RegExp(`\\b${loc.chain[0].macro}\\b`));
    }
    // `rept` inside `counted`: two rows on the rept body line, one chain step (counted).
    const rept = fromMacro.filter((r) => fas.locate(r.lineIndex).chain[0].macro === 'counted');
    expect(rept.map((r) => r.length)).toEqual([3, 3]);
    expect(fas.locate(rept[0].lineIndex).chain).toHaveLength(1);
    // Invoked from a nested include.
    const deep = fromMacro.find((r) => fas.locate(r.lineIndex).chain[0].file.index === 3)!;
    expect(fas.locate(deep.lineIndex).chain[0].line).toBe(3);
  });

  it('handles repeat, times, if, virtual and per-file summaries', () => {
    expect(rows.filter((r) => r.file === 0 && r.line === 31).map((r) => r.address - ORG)).toEqual([
      0x27, 0x28, 0x29,
    ]);
    const int3 = sourceLine(fas.files[0].path, 26);
    expect(int3.trim()).toBe('int3');
    expect(rows.some((r) => r.file === 0 && r.line === 26)).toBe(false);
    const virt = fas.codeRows(0).filter((r) => r.virtual);
    expect(virt.map((r) => [r.line, r.address, r.length])).toEqual([[36, 0, 5]]);
    const repeated = fas.codeLines(0).find((l) => l.line === 31)!;
    expect(repeated.rows).toHaveLength(3);
    // A macro body line used from two files: rows from both invocations.
    const push = fas.codeLines(1).find((l) => l.line === 6)!;
    expect(push.rows.map((r) => fas.locate(r.lineIndex).chain[0].file.index).sort()).toEqual([0, 3]);
    const sum = fas.summary();
    expect(sum.reduce((a, s) => a + s.bytes, 0)).toBe(out.length);
    // fasm also reads the empty line after the last newline.
    expect(sum[0].lines).toBe(fs.readFileSync(fas.files[0].path, 'latin1').split('\n').length);
    expect(fas.symbols.filter((x) => x.name === '')).toHaveLength(1);
  });
});
