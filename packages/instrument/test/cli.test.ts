import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { instrument, InstrumentError } from '@fasmcov/instrument';
import { registerInstrument } from '../../cli/src/commands/instrument';
import { fixturesDir, repoRoot, tempDir } from './helpers';

/** Runs `fasmcov instrument ...` in-process; returns what it printed. */
async function cli(args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command('fasmcov').exitOverride();
  registerInstrument(program);
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    await program.parseAsync(['node', 'fasmcov', 'instrument', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out, err };
}

test('fasmcov instrument: -I, -d, --mode, --include; warnings name file:line and reason', async () => {
  const out = path.join(tempDir('cli'), 'tree');
  const main = path.join(fixturesDir, 'macros.asm');
  const r = await cli([
    main,
    '-o',
    out,
    '-I',
    path.join(fixturesDir, 'lib'),
    '-d',
    'EXTRA=1',
    '--mode',
    'flag',
  ]);
  expect(r.out).toMatch(/^\d+ probes \(\d+ line, \d+ function-entry, 1 branch pairs\)/);
  expect(r.out).toMatch(/INCLUDE=\S*tree\/lib\)/);
  expect(r.err).toMatch(/warning: macros\.asm:\d+: not probed: uses \$/);
  expect(r.err).toMatch(/warning: 6 code line\(s\) left without probes/);
  const map = JSON.parse(fs.readFileSync(path.join(out, 'probes.json'), 'utf8'));
  expect(map).toMatchObject({ version: 1, mode: 'flag', slotSize: 1 });
  // --include: only the helper file gets probes; the others are copied as they are.
  const only = path.join(tempDir('cli'), 'tree');
  await cli([main, '-o', only, '-I', path.join(fixturesDir, 'lib'), '--include', 'inc/*.inc']);
  const partial = JSON.parse(fs.readFileSync(path.join(only, 'probes.json'), 'utf8'));
  expect(new Set(partial.probes.map((p: { file: string }) => p.file))).toEqual(
    new Set(['inc/exit.inc', 'inc/print.inc']),
  );
  expect(fs.readFileSync(path.join(only, 'lib/twice.inc'), 'latin1')).toBe(
    fs.readFileSync(path.join(fixturesDir, 'lib/twice.inc'), 'latin1'),
  );
});

test('bad options are one-line errors', async () => {
  const main = path.join(fixturesDir, 'branches.asm');
  await expect(cli([main, '-o', tempDir('cli'), '--mode', 'often'])).rejects.toThrow(/--mode: 'often'/);
  await expect(cli([main, '-o', tempDir('cli'), '-d', 'X'])).rejects.toThrow(/-d: 'X' is not NAME=VALUE/);
  await expect(cli([main, '-o', fixturesDir])).rejects.toThrow(/must not hold the sources/);
});

test('fasm errors in the instrumented tree name the original file and line', () => {
  const main = path.join(fixturesDir, 'size-limit.asm');
  const text = fs.readFileSync(main, 'latin1').split('\n');
  const line = text.findIndex((l) => l.includes('assert')) + 1;
  let error: unknown;
  try {
    instrument({ main, outDir: path.join(tempDir('err'), 'tree') });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InstrumentError);
  expect((error as InstrumentError).message).toBe(`${main}:${line}: instrumented: assertion failed.`);
  expect((error as InstrumentError).sites).toEqual([{ file: main, line }]);
});

test('the main file keeps every line number; the probe macros ride on a comment line', () => {
  const out = path.join(tempDir('lines'), 'tree');
  const main = path.join(repoRoot, 'fixtures/instrument/branches.asm');
  instrument({ main, outDir: out, mode: 'flag' });
  const before = fs.readFileSync(main, 'latin1').split('\n');
  const after = fs.readFileSync(path.join(out, 'branches.asm'), 'latin1').split('\n');
  expect(after[0]).toBe(`include '__fcov.inc' ${before[0]}`);
  // Same line count up to the original end; only the probe area follows it.
  const strip = (s: string) =>
    s
      .replace(/__fcov_(line|jcc|loop) /, '')
      .replace(/\s+/g, ' ')
      .trim();
  for (let i = 1; i < before.length; i++)
    if (!/__fcov_(jcc|loop)/.test(after[i]) && !before[i].includes('short'))
      expect(strip(after[i])).toBe(strip(before[i]));
  expect(after.slice(before.length).join('\n')).toMatch(/__fcov_probes: rb/);
});
