import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FasFile, SourceLocation } from '@fasmcov/fas';
import type { InstrumentResult, Probe, ProbeMode } from '@fasmcov/instrument';
import { build, expectedCount, fixturesDir, instrumentInto, observe, runProbed, type Built } from './helpers';

interface Case {
  name: string;
  defines?: Array<[string, string]>;
  includeDirs?: string[];
}

const cases: Case[] = [
  { name: 'branches' },
  { name: 'macros', defines: [['EXTRA', '40']], includeDirs: [path.join(fixturesDir, 'lib')] },
];
const modes: ProbeMode[] = ['flag', 'count'];

/** `file:line` plus the macro chain, with files relative to `root`: what probes.json calls a place. */
function place(loc: SourceLocation, root: string): string {
  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/');
  return [
    `${rel(loc.file.path)}:${loc.line}`,
    ...loc.chain.map((c) => `${rel(c.file.path)}:${c.line}:${c.macro}`),
  ].join(' < ');
}

const probePlace = (p: Probe) =>
  [`${p.file}:${p.line}`, ...p.chain.map((c) => `${c.file}:${c.line}:${c.macro}`)].join(' < ');

interface Setup {
  result: InstrumentResult;
  plain: Built;
  probed: Built;
}

const setups = new Map<string, Setup>();
/** Instruments a fixture and assembles both trees with fasm, once per fixture and mode. */
function setup(c: Case, mode: ProbeMode): Setup {
  const key = `${c.name}-${mode}`;
  let s = setups.get(key);
  if (!s) {
    const main = path.join(fixturesDir, `${c.name}.asm`);
    const result = instrumentInto(key, { main, mode, defines: c.defines, includeDirs: c.includeDirs });
    const plain = build(main, { includeDirs: c.includeDirs, defines: c.defines });
    const probed = build(result.main, { includeDirs: result.includeDirs, defines: c.defines });
    setups.set(key, (s = { result, plain, probed }));
  }
  return s;
}

/** Rows that name a symbol: their bytes may change when code moves. */
function rowsWithReferences(fas: FasFile): Set<number> {
  return new Set(fas.symbolReferences.map((r) => r.row));
}

describe.each(cases)('$name', (c) => {
  test.each(modes)('--mode %s: same output and status; every probe equals the emulator count', (mode) => {
    const { result, plain, probed } = setup(c, mode);
    const reference = observe(plain.exe);
    const run = runProbed(probed, result.map.slotSize, result.map.count);
    expect(run.output).toBe(reference.output);
    expect(run.status).toBe(reference.status);
    expect(result.map.count).toBeGreaterThan(10);
    const rows = result.map.probes.map((p) => ({
      id: p.id,
      at: probePlace(p),
      kind: p.kind,
      n: run.slots[p.id],
    }));
    const want = result.map.probes.map((p) => {
      const n = expectedCount(p, reference);
      return { id: p.id, at: probePlace(p), kind: p.kind, n: mode === 'flag' ? Number(n > 0) : n };
    });
    expect(rows).toEqual(want);
    // Not a vacuous comparison: the fixture runs most probes, and some more than once.
    expect(want.filter((w) => w.n > 0).length).toBeGreaterThan(want.length / 2);
    if (mode === 'count') expect(want.some((w) => w.n > 1)).toBe(true);
    process.stdout.write(
      `${c.name} --mode ${mode}: ${result.map.count} probes, code ${result.stats.plainCodeBytes} -> ` +
        `${result.stats.instrumentedCodeBytes} bytes, instructions ${reference.instructions} -> ${run.instructions}\n`,
    );
  });

  // This machine's kernel cannot run 32-bit programs, so qemu-i386 stands in for native execution:
  // the instrumented program, run for real, prints and exits exactly as in fasmcov's emulator.
  const qemu = spawnSync('qemu-i386', ['--version']).status === 0;
  (qemu ? test.each(modes) : test.skip.each(modes))(
    '--mode %s: outside the emulator (qemu-i386) the instrumented program behaves the same',
    (mode) => {
      const { probed } = setup(c, mode);
      fs.chmodSync(probed.exe, 0o755);
      const real = spawnSync('qemu-i386', [probed.exe], { encoding: 'latin1' });
      const emulated = observe(probed.exe);
      expect(real.stdout).toBe(emulated.output);
      expect(real.status).toBe(emulated.status);
    },
  );

  test('probes.json names the same place as the .fas of both builds', () => {
    const { result, plain, probed } = setup(c, 'count');
    const root = path.dirname(path.join(fixturesDir, `${c.name}.asm`));
    const onDisk = JSON.parse(fs.readFileSync(path.join(path.dirname(result.main), 'probes.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(result.map)));
    expect(onDisk.version).toBe(1);
    const plainBytes = fs.readFileSync(plain.exe);
    const probedBytes = fs.readFileSync(probed.exe);
    const refs = rowsWithReferences(plain.fas);
    // The instrumented build: the instruction each line probe guards, found through the rewriting macro.
    const outRoot = path.dirname(result.main);
    const guarded = new Map<string, number[]>();
    for (const r of probed.fas.codeRows()) {
      const loc = probed.fas.locate(r.lineIndex);
      if (loc.chain[0]?.macro !== '__fcov_line' || r.virtual) continue;
      const site = { ...loc, file: loc.chain[0].file, line: loc.chain[0].line, chain: loc.chain.slice(1) };
      const key = place(site, outRoot);
      guarded.set(key, [...(guarded.get(key) ?? []), r.row]);
    }
    const used = new Map<string, number>();
    let compared = 0;
    for (const p of result.map.probes) {
      expect(p.address).toBeDefined();
      const plainRow = plain.fas.rowAt(p.address!.offset);
      expect(place(plain.fas.locate(plain.fas.row(plainRow).lineIndex), root)).toBe(probePlace(p));
      if (p.kind !== 'line' && p.kind !== 'function-entry') continue;
      const k = used.get(probePlace(p)) ?? 0;
      used.set(probePlace(p), k + 1);
      const row = guarded.get(probePlace(p))?.[k];
      expect(row).toBeDefined();
      const a = plain.fas.row(plainRow);
      const b = probed.fas.row(row!);
      expect(b.length).toBe(a.length);
      if (refs.has(plainRow)) continue;
      compared++;
      expect(probedBytes.subarray(b.outputOffset, b.outputOffset + b.length)).toEqual(
        plainBytes.subarray(a.outputOffset, a.outputOffset + a.length),
      );
    }
    expect(compared).toBeGreaterThan(5);
  });

  test('every instruction the plain build runs is probed or reported', () => {
    const { result, plain } = setup(c, 'flag');
    const root = path.dirname(path.join(fixturesDir, `${c.name}.asm`));
    const probedLines = new Set(result.map.probes.map((p) => `${p.file}:${p.line}`));
    const reported = new Set(result.skipped.map((s) => `${s.file}:${s.line}`));
    const unaccounted = new Set<string>();
    for (const address of observe(plain.exe).executed.keys()) {
      const loc = plain.fas.findAddress(address);
      const at = `${path.relative(root, loc!.file.path)}:${loc!.line}`;
      if (!probedLines.has(at) && !reported.has(at)) unaccounted.add(at);
    }
    expect([...unaccounted]).toEqual([]);
  });
});

test('macros: the hard cases are reported with their reasons, nothing else', () => {
  const { result } = setup(cases[1], 'flag');
  const text = fs.readFileSync(path.join(fixturesDir, 'macros.asm'), 'latin1').split('\n');
  const lineOf = (needle: string) => text.findIndex((l) => l.includes(needle)) + 1;
  expect(result.skipped.map((s) => `${s.file}:${s.line}`).sort()).toEqual(
    [
      lineOf('insn    a, b'),
      lineOf('xor     reg, reg'),
      lineOf('rept 2 n {'),
      lineOf('call    $ + 5'),
      lineOf('jmp     $ + 2'),
      lineOf('mov     ax, 1'),
    ]
      .map((n) => `macros.asm:${n}`)
      .sort(),
  );
  // Each copy of a repeated line has a probe of its own: three for `repeat 3`, two for `rept 2`.
  const copies = (needle: string) => result.map.probes.filter((p) => p.line === lineOf(needle)).length;
  expect(copies('add     eax, %')).toBe(3);
  expect(copies('add     eax, n')).toBe(2);
  // The function whose label a macro defines: entry probe on the macro's first instruction.
  const bump = result.map.probes.find((p) => p.function === 'bump');
  expect(bump).toMatchObject({ kind: 'function-entry', file: 'macros.asm', chain: [{ macro: 'func' }] });
});
