import * as fs from 'node:fs';
import { FasFile, FasFormatError } from '@fasmcov/fas';
import { exercise, fuzz } from '../src/fuzz/mutate';
import { build, cleanup } from './helpers/fixtures';

afterAll(cleanup);

function errorOf(data: Uint8Array): FasFormatError {
  const e = exercise('bad.fas', data);
  if (!(e instanceof FasFormatError)) throw new Error(`expected FasFormatError, got ${String(e)}`);
  return e;
}

describe('.fas reader on bad input', () => {
  const good = new Uint8Array(fs.readFileSync(build('elf').fas));
  const flat = new Uint8Array(fs.readFileSync(build('flat').fas));

  it('rejects every truncation with one FasFormatError naming file, offset and field', () => {
    expect(exercise('good.fas', good)).toBeUndefined();
    for (let n = 0; n < good.length; n++) {
      const e = errorOf(good.slice(0, n));
      expect(e.message).toMatch(/^bad\.fas: offset 0x[0-9a-f]+: [a-z .]+: /);
    }
  });

  it('names the broken field', () => {
    const set32 = (at: number, v: number) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    };
    expect(errorOf(set32(0, 0x12345678)).field).toBe('signature');
    const v2 = good.slice();
    v2[4] = 2;
    expect(errorOf(v2).message).toMatch(/offset 0x4: major version: unsupported fasm version 2\./);
    expect(errorOf(set32(24, good.length + 1)).message).toMatch(
      /offset 0x18: symbol table offset: .*past the end/,
    );
    expect(errorOf(set32(28, 33)).field).toBe('symbol table length');
    expect(errorOf(set32(44, 5)).field).toBe('assembly dump length');
    expect(errorOf(set32(8, 0xffffff)).field).toBe('input file name');
    const view = new DataView(good.buffer, good.byteOffset);
    const dump = view.getUint32(40, true);
    const row = errorOf(set32(dump + 4, 3));
    expect([row.field, row.offset]).toEqual(['dump row line offset', dump + 4]);
    const bits = good.slice();
    bits[dump + 25] = 8;
    expect(errorOf(bits).message).toMatch(/dump row code type: 8 is not 16, 32 or 64/);
  });

  it('rejects macro chains that point forward or at themselves (no loops possible)', () => {
    const fas = FasFile.parse('flat.fas', flat);
    // Find a generated line and make it claim that it invoked itself.
    const dv = new DataView(flat.buffer, flat.byteOffset);
    const src = dv.getUint32(32, true);
    let target = -1;
    for (let i = 0; i < fas.rowCount && target < 0; i++) {
      const li = fas.row(i).lineIndex;
      if (fas.locate(li).chain.length) target = li;
    }
    expect(target).toBeGreaterThan(0);
    // The line's record offset: walk the preprocessed source as the reader did.
    const b = flat.slice();
    const rows = dv.getUint32(40, true);
    let rec = -1;
    for (let i = 0; i < fas.rowCount; i++) {
      if (fas.row(i).lineIndex === target) rec = src + dv.getUint32(rows + 28 * i + 4, true);
    }
    new DataView(b.buffer).setUint32(rec + 8, rec - src, true);
    const e = errorOf(b);
    expect([e.field, e.offset]).toEqual(['invoking line offset', rec]);
  });

  it('fuzz: 2,500 mutations either parse or throw a FasFormatError, each quickly', () => {
    const res = fuzz([good, flat], 2500, 20261125);
    expect(res.failures).toEqual([]);
    expect(res.parsed).toBeGreaterThan(100);
    expect(res.rejected).toBeGreaterThan(1000);
  });
});
