import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, FasmError, parseFasmError } from '@fasmcov/fas';

describe('fasm runner', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-runner-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('assembles a flat binary and reports passes and size', () => {
    const src = path.join(dir, 'ok.asm');
    fs.writeFileSync(src, 'use32\nmov eax, 1\nret\n');
    const r = assemble(src, { output: path.join(dir, 'ok.bin'), symbols: path.join(dir, 'ok.fas') });
    expect(r.bytes).toBe(6);
    expect([...fs.readFileSync(path.join(dir, 'ok.bin'))]).toEqual([0xb8, 1, 0, 0, 0, 0xc3]);
    expect(fs.statSync(path.join(dir, 'ok.fas')).size).toBeGreaterThan(64);
  });

  it('passes -d definitions and INCLUDE directories', () => {
    const inc = path.join(dir, 'inc');
    fs.mkdirSync(inc, { recursive: true });
    fs.writeFileSync(path.join(inc, 'val.inc'), 'db VALUE\n');
    const src = path.join(dir, 'def.asm');
    fs.writeFileSync(src, 'include "val.inc"\n');
    assemble(src, { output: path.join(dir, 'def.bin'), includeDirs: [inc], defines: [['VALUE', '42']] });
    expect([...fs.readFileSync(path.join(dir, 'def.bin'))]).toEqual([42]);
  });

  it('turns an error inside a macro into a FasmError naming the invoking line first', () => {
    const src = path.join(dir, 'bad.asm');
    fs.writeFileSync(src, 'macro m x { mov x, }\nuse32\nm eax\n');
    let err: unknown;
    try {
      assemble(src, { output: path.join(dir, 'bad.bin') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FasmError);
    const fe = err as FasmError;
    expect(fe.message).toMatch(/bad\.asm:3: invalid operand\.$/);
    expect(fe.sites).toEqual([
      { file: expect.stringMatching(/bad\.asm$/), line: 3 },
      { file: expect.stringMatching(/bad\.asm$/), line: 1, macro: 'm' },
    ]);
  });

  it('parses a report without sites', () => {
    expect(parseFasmError('error: source file not found.\n')).toEqual({
      message: 'source file not found.',
      sites: [],
    });
  });
});
