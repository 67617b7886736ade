import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FasFile, assemble } from '@fasmcov/fas';
import {
  GuestFault,
  LoaderError,
  Memory,
  loadBinary,
  loadElfExecutable,
  loadElfObject,
  sectionAt,
} from '@fasmcov/tracer';
import { buildFixture, fixturesDir } from '../linux/build-fixture';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-loaders-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const objPath = path.join(tmp, 'library.o');
assemble(path.join(fixturesDir, 'library.asm'), { output: objPath });
const obj = fs.readFileSync(objPath);
const bindings = new Map([
  ['host_mul', 0x7ffe0008],
  ['host_add64', 0x7ffe0010],
  ['host_reenter', 0x7ffe0018],
]);

function have(tool: string): boolean {
  const ok = !spawnSync(tool, ['--version']).error;
  if (!ok) process.stdout.write(`${tool} not installed: GNU ld oracle skipped\n`);
  return ok;
}

describe('format ELF relocatable objects', () => {
  const memory = new Memory();
  const image = loadElfObject(memory, obj, objPath, { resolve: bindings });

  test('layout: allocatable sections page-aligned from 0x00400000 in section order', () => {
    expect(image.sections.map((s) => [s.name, s.index, s.base, s.size])).toEqual([
      ['.text', 1, 0x400000, 0x64],
      ['.data', 3, 0x401000, 0x10],
      ['.bss', 5, 0x402000, 0x138c],
    ]);
    expect(image.entry).toBeUndefined();
    // The .fas file (read by @fasmcov/fas) numbers sections its own way: 1 .text, 2 .data, 3 .bss.
    const fasPath = path.join(tmp, 'library.fas');
    assemble(path.join(fixturesDir, 'library.asm'), { output: path.join(tmp, 'again.o'), symbols: fasPath });
    const fas = FasFile.read(fasPath);
    for (const name of ['square', 'table', 'counter']) {
      const sym = fas.symbol(name)!;
      const sec = image.sections.find((s) => s.fasSection === sym.section)!;
      expect([name, sec.name]).toEqual([name, sym.sectionName]);
      expect(sec.base + sym.address).toBe(image.symbols.get(name));
    }
    expect(image.end).toBe(0x404000);
    expect(sectionAt(image, 0x401004)).toMatchObject({ section: { name: '.data' }, offset: 4 });
    expect(sectionAt(image, 0x400064)).toBeUndefined();
  });

  test('relocated bytes and symbols equal GNU ld linking the same object at the same addresses', () => {
    if (!have('ld') || !have('objcopy')) return;
    const elf = path.join(tmp, 'library.elf');
    const defsyms = [...bindings].flatMap(([k, v]) => ['--defsym', `${k}=0x${v.toString(16)}`]);
    const ld = spawnSync('ld', [
      '-m', 'elf_i386', '-e', '0', '-o', elf,
      '--section-start=.text=0x400000', '--section-start=.data=0x401000', '--section-start=.bss=0x402000',
      ...defsyms, objPath,
    ], { encoding: 'utf8' }); // prettier-ignore
    expect(ld.stderr).toBe('');
    for (const s of ['.text', '.data']) {
      const bin = path.join(tmp, `section${s}`);
      spawnSync('objcopy', ['-O', 'binary', `--only-section=${s}`, elf, bin]);
      const expected = fs.readFileSync(bin);
      const sec = image.sections.find((x) => x.name === s)!;
      expect(Buffer.from(memory.readBytes(sec.base, sec.size))).toEqual(expected);
    }
    const nm = spawnSync('nm', [elf], { encoding: 'utf8' }).stdout;
    const fromNm = new Map<string, number>();
    for (const line of nm.trim().split('\n')) {
      const [addr, kind, name] = line.split(' ');
      // Names starting with _ are ld's own (__bss_start, _edata, _end).
      if (/[tdbTDB]/.test(kind) && !name.startsWith('_')) fromNm.set(name, parseInt(addr, 16));
    }
    for (const [name, addr] of fromNm) expect([name, image.symbols.get(name)]).toEqual([name, addr]);
    expect(image.symbols.size).toBe(fromNm.size);
  });

  test('protection: .text read-only, .data and .bss writable and zero-filled', () => {
    expect(() => memory.write8(0x400000, 1)).toThrow(GuestFault);
    memory.write32(0x401000, 5);
    expect(memory.read32(0x402000 + 0x1388)).toBe(0);
    memory.write32(0x402000 + 0x1388, 7);
    expect(memory.isMapped(0x404000)).toBe(false);
    const open = new Memory();
    loadElfObject(open, obj, objPath, { resolve: bindings, protect: false });
    open.write8(0x400000, 0x90);
    expect(open.read8(0x400000)).toBe(0x90);
  });

  test('an unresolved extrn names the symbol and the relocation site', () => {
    const partial = new Map([...bindings].filter(([k]) => k !== 'host_reenter'));
    expect(() => loadElfObject(new Memory(), obj, objPath, { resolve: partial })).toThrow(
      /library\.o: unresolved extrn 'host_reenter' \(no host binding\), used at \.text\+0x/,
    );
  });

  test('bad input: one LoaderError naming the file and the item', () => {
    const load = (bytes: Uint8Array) => () =>
      loadElfObject(new Memory(), bytes, 'x.o', { resolve: bindings });
    expect(load(Buffer.from('MZ\x90\x00 not an ELF file'))).toThrow(/^x\.o: not an ELF file/);
    expect(load(obj.subarray(0, 30))).toThrow(/x\.o: truncated file: ELF header/);
    expect(load(obj.subarray(0, 0xe0))).toThrow(/x\.o: truncated file: section header table/);
    const amd64 = Buffer.from(obj);
    amd64[18] = 62;
    expect(load(amd64)).toThrow(/unsupported machine type 62/);
    // First entry of .rel.text (readelf: offset 0xa8): make its type R_386_GOT32 (3).
    const badRel = Buffer.from(obj);
    expect(badRel[0xa8 + 4]).toBe(1);
    badRel[0xa8 + 4] = 3;
    expect(load(badRel)).toThrow(/unsupported relocation type 3 at \.text\+0x[0-9a-f]+ \(file offset 0xa8\)/);
    expect(load(badRel)).toThrow(LoaderError);
    expect(() => loadElfExecutable(new Memory(), obj, 'x.o')).toThrow(/not an executable/);
  });
});

describe('format ELF executable and format binary', () => {
  test('PT_LOAD segments at their addresses with their protection', () => {
    const exe = buildFixture('hello');
    const bytes = fs.readFileSync(exe);
    const memory = new Memory();
    const image = loadElfExecutable(memory, bytes, exe);
    const readelf = spawnSync('readelf', ['-lW', exe], { encoding: 'utf8' }).stdout;
    const loads = [...readelf.matchAll(/LOAD\s+(0x\S+)\s+(0x\S+)\s+\S+\s+(0x\S+)\s+(0x\S+)/g)];
    expect(image.sections.map((s) => [s.fileOffset, s.base, s.size])).toEqual(
      loads.map((m) => [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[4], 16)]),
    );
    expect(image.entry).toBe(parseInt(/Entry point (0x\S+)/.exec(readelf)![1], 16));
    const seg0 = image.sections[0];
    expect(Buffer.from(memory.readBytes(seg0.base, seg0.size))).toEqual(bytes.subarray(0, seg0.size));
    expect(() => memory.write8(seg0.base, 0)).toThrow(GuestFault);
    memory.write8(image.sections[1].base, 0);
    expect(() => loadElfObject(new Memory(), bytes, exe)).toThrow(/not a relocatable object/);
  });

  test('format binary at an origin', () => {
    const src = path.join(tmp, 'flat.asm');
    fs.writeFileSync(src, 'use32\norg 0x10000\nstart: mov eax, start\nret\ndb 1,2,3\n');
    const out = path.join(tmp, 'flat.bin');
    assemble(src, { output: out });
    const bytes = fs.readFileSync(out);
    const memory = new Memory();
    const image = loadBinary(memory, bytes, out, { origin: 0x10000, extra: 4096 });
    expect(image.entry).toBe(0x10000);
    expect(memory.read32(0x10001)).toBe(0x10000);
    expect(memory.read8(0x10000 + bytes.length + 4095)).toBe(0);
    expect(() => loadBinary(memory, new Uint8Array(0), 'e.bin', { origin: 0 })).toThrow(LoaderError);
  });
});
