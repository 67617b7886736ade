import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { FasFile } from '@fasmcov/fas';
import { build, cleanup, fixtureDir, objdump, sourceLine, sourceMnemonic } from './helpers/fixtures';

function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout;
}

afterAll(cleanup);

describe('.fas reader on ELF object files (oracles: objdump, nm, readelf)', () => {
  const b = build('elf');
  const fas = FasFile.read(b.fas, { cwd: fixtureDir });

  it('lists the sections in the order of the object file', () => {
    const names = tool('readelf', ['-SW', b.output])
      .split('\n')
      .map((l) => /\]\s+(\S+)\s+(PROGBITS|NOBITS)/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    expect(fas.sections).toEqual(names);
    expect(fas.relocatable).toBe(true);
  });

  it('gives public symbols the section and offset nm reports, and marks externals', () => {
    const nm = tool('nm', [b.output]).trim().split('\n');
    for (const line of nm) {
      const [value, type, name] =
        line.trim().split(/\s+/).length === 3 ? line.trim().split(/\s+/) : ['', ...line.trim().split(/\s+/)];
      const s = fas.symbol(name)!;
      if (type === 'U') expect(s.external).toBe(name);
      else {
        expect(s.sectionName).toBe('.text');
        expect(s.address).toBe(parseInt(value, 16));
      }
    }
    expect(fas.symbol('counter')!.sectionName).toBe('.data');
    expect(fas.symbol('buffer')!.sectionName).toBe('.bss');
    expect(fas.symbol('buffer')!.size).toBe(1);
  });

  it('maps section-relative addresses of .text to the lines objdump decodes there', () => {
    const insns = objdump(['-d', '-j', '.text', b.output]);
    const text = fas.sections.indexOf('.text') + 1;
    const rows = fas.codeRows().filter((r) => r.section === text);
    let covered = 0;
    for (const r of rows) {
      const loc = fas.locate(r.lineIndex);
      const want = sourceMnemonic(sourceLine(loc.file.path, loc.line));
      expect(want).toBeDefined();
      expect(insns.get(r.address)?.mnemonic).toBe(want);
      expect(insns.get(r.address)?.length).toBe(r.length);
      expect(fas.rowAt({ section: text, offset: r.address })).toBe(r.row);
      covered += r.length;
    }
    const size = parseInt(
      /\.text\s+PROGBITS\s+\S+\s+\S+\s+(\S+)/.exec(tool('readelf', ['-SW', b.output]))![1],
      16,
    );
    expect(covered).toBe(size);
    // The same offset in .data is another place.
    const data = fas.sections.indexOf('.data') + 1;
    expect(fas.findAddress({ section: data, offset: 0 })?.line).toBe(18);
    expect(sourceLine(fas.files[0].path, 18)).toMatch(/^counter dd 0/);
  });

  it('maps output file offsets through the section file offsets readelf reports', () => {
    const data = /\.data\s+PROGBITS\s+\S+\s+(\S+)/.exec(tool('readelf', ['-SW', b.output]))![1];
    const loc = fas.findOutputOffset(parseInt(data, 16) + 4);
    expect(sourceLine(loc!.file.path, loc!.line)).toMatch(/^ptrs dd/);
    expect(fas.findOutputOffset(0)).toBeUndefined(); // the ELF header is no line's code
  });
});

describe('.fas reader on an ELF executable', () => {
  const b = build('exe');
  const fas = FasFile.read(b.fas, { cwd: fixtureDir });

  it('uses absolute addresses that objdump and the entry point agree with', () => {
    expect(fas.relocatable).toBe(false);
    const entry = /Entry point address:\s+0x([0-9a-f]+)/.exec(tool('readelf', ['-h', b.output]))![1];
    expect(fas.symbol('main')!.address).toBe(parseInt(entry, 16));
    // No section headers: disassemble the file as loaded by its first LOAD segment.
    const load = /LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/.exec(tool('readelf', ['-lW', b.output]))!;
    const vma = parseInt(load[2], 16) - parseInt(load[1], 16);
    const insns = objdump([
      '-D',
      '-b',
      'binary',
      '-m',
      'i386',
      `--adjust-vma=0x${vma.toString(16)}`,
      `--start-address=0x${entry}`,
      b.output,
    ]);
    const rows = fas
      .codeRows()
      .filter((r) =>
        sourceMnemonic(sourceLine(fas.locate(r.lineIndex).file.path, fas.locate(r.lineIndex).line)),
      );
    expect(rows.length).toBe(5);
    for (const r of rows) {
      const loc = fas.locate(r.lineIndex);
      expect(insns.get(r.address)?.mnemonic).toBe(sourceMnemonic(sourceLine(loc.file.path, loc.line)));
      expect(fas.findAddress(r.address + r.length - 1)?.lineIndex).toBe(r.lineIndex);
    }
    const out = fs.readFileSync(b.output);
    const value = fas.symbol('value')!;
    const row = fas.row(fas.rowAt(value.address));
    expect(out.readUInt32LE(row.outputOffset)).toBe(42);
  });
});
