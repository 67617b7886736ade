import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { assemble, FasFile } from '@fasmcov/fas';
import { classifyInstruction, EdgeRecorder, GuestMachine, TraceSession } from '@fasmcov/tracer';
import {
  addressCountsFromEdges,
  mapCoverage,
  mergeExpansions,
  writeAsmHtml,
  type ExpandedLine,
} from '@fasmcov/report';
import { buildFileView } from '../../src/asm-html/site-model';
import { launchChromium } from '../helpers/browser';

// macro.asm loops 10 times (eax = 1..10, edx = eax); `clamp edx, 3` runs every time and jumps
// over its `mov` when edx <= 3 (3 times); `clamp edx, 2` runs for odd eax only (5 times) with edx
// already clamped to 1, 3, 3, 3, 3, so it jumps once. Expected counts below follow from that.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-expansion-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const src = path.join(dir, 'macro.asm');
fs.copyFileSync(path.join(__dirname, 'macro.asm'), src);
assemble(src, { output: path.join(dir, 'macro.o'), symbols: path.join(dir, 'macro.fas') });
const fas = FasFile.read(path.join(dir, 'macro.fas'));
const sourceLines = fs.readFileSync(src, 'utf8').split('\n');
const lineOf = (text: string) => sourceLines.findIndex((l) => l.includes(text)) + 1;

function traced() {
  const m = new GuestMachine();
  m.loadObject(fs.readFileSync(path.join(dir, 'macro.o')), 'macro.o');
  m.memory.map(0x10000, 4096);
  m.memory.write8(0x10000, 0xf4); // `run` returns to a hlt
  m.cpu.regs[4] -= 4;
  m.memory.write32(m.cpu.regs[4], 0x10000);
  m.cpu.eip = m.symbol('run') as number;
  const edges = new EdgeRecorder();
  const session = new TraceSession({ edges });
  session.attach(m.cpu);
  expect(m.cpu.run(10_000)).toBe('halt');
  session.finish(0x10000);
  const read8 = (a: number) => m.memory.read8(a);
  const ranges = m.images[0].sections.map((x) => ({ start: x.base, end: x.base + x.size }));
  const counts = addressCountsFromEdges(edges, { classify: classifyInstruction, read8, ranges });
  return mapCoverage(counts, {
    fas,
    sections: m.images[0].sections,
    read8,
    classify: classifyInstruction,
    root: dir,
    test: 'macro',
  });
}

const mapped = traced();
const first = lineOf('clamp   edx, 3');
const second = lineOf('clamp   edx, 2');
const body = {
  cmp: lineOf('cmp     reg, limit'),
  jbe: lineOf('jbe     ..ok'),
  mov: lineOf('mov     reg, limit'),
};
const expansionAt = (line: number): ExpandedLine[] => mapped.expansions.get('macro.asm')?.get(line) ?? [];

describe('macro-expansion drill-down: the model', () => {
  it('a macro invocation is one statement: hits of its first instruction, all its instructions', () => {
    const lines = mapped.document.files[0].lines;
    expect(lines.find((l) => l.line === first)).toEqual({ line: first, hits: 10, instructions: 10 + 10 + 7 });
    expect(lines.find((l) => l.line === second)).toEqual({ line: second, hits: 5, instructions: 5 + 5 + 4 });
    // The macro bodies are not statements of their own.
    for (const l of Object.values(body)) expect(lines.some((x) => x.line === l)).toBe(false);
  });

  it('each invocation lists its expanded lines with their own counts, at the innermost body line', () => {
    const view = (e: ExpandedLine) => [e.file, e.line, e.hits, e.instructions, e.branches];
    expect(expansionAt(first).map(view)).toEqual([
      ['macro.asm', body.cmp, 10, 10, []],
      ['macro.asm', body.jbe, 10, 10, [{ taken: 3, notTaken: 7 }]],
      ['macro.asm', body.mov, 7, 7, []], // from the nested setmax
    ]);
    expect(expansionAt(second).map(view)).toEqual([
      ['macro.asm', body.cmp, 5, 5, []],
      ['macro.asm', body.jbe, 5, 5, [{ taken: 1, notTaken: 4 }]],
      ['macro.asm', body.mov, 4, 4, []],
    ]);
    // The text as fasm's preprocessor produced it: arguments substituted.
    expect(expansionAt(first)[0].text.replace(/\s+/g, '')).toBe('cmpedx,3');
    expect(expansionAt(second)[2].text.replace(/\s+/g, '')).toBe('movedx,2');
    // Plain lines have no expansion.
    expect(mapped.expansions.get('macro.asm')?.has(lineOf('mov     edx, eax'))).toBe(false);
  });

  it('the branch arms of an invocation are those of its expanded lines', () => {
    const arms = mapped.document.files[0].branches.filter((b) => b.line === first);
    expect(arms.map((b) => ({ taken: b.taken, notTaken: b.notTaken }))).toEqual(
      expansionAt(first).flatMap((e) => e.branches),
    );
  });

  it('merging runs adds each expanded line up without changing the inputs', () => {
    const merged = mergeExpansions([mapped.expansions, mapped.expansions]);
    const twice = merged.get('macro.asm')?.get(first) ?? [];
    expect(twice.map((e) => [e.hits, e.instructions])).toEqual(
      expansionAt(first).map((e) => [2 * e.hits, 2 * e.instructions]),
    );
    expect(twice[1].branches).toEqual([{ taken: 6, notTaken: 14 }]);
    expect(expansionAt(first)[1].branches).toEqual([{ taken: 3, notTaken: 7 }]);
  });

  it('the site model attaches the expansion to the invoking line only', () => {
    const f = mapped.document.files[0];
    const v = buildFileView(
      f,
      [mapped.document],
      fs.readFileSync(src, 'latin1'),
      mapped.expansions.get(f.path),
    );
    expect(v.lines[first - 1].expansion?.map((e) => e.hits)).toEqual([10, 10, 7]);
    expect(v.lines[second - 1].expansion?.map((e) => e.hits)).toEqual([5, 5, 4]);
    expect(v.lines[second - 1].expansion?.[1].branches).toEqual([{ index: 0, taken: 1, notTaken: 4 }]);
    expect(v.lines.filter((l) => l.expansion).map((l) => l.line)).toEqual([first, second]);
  });
});

describe('macro-expansion drill-down in Chromium', () => {
  let browser: Browser;
  let close: () => Promise<void>;
  const out = path.join(dir, 'site');
  const errors: string[] = [];

  beforeAll(async () => {
    writeAsmHtml([mapped.document], { root: dir, outDir: out, expansions: mapped.expansions });
    ({ browser, close } = await launchChromium());
  });
  afterAll(async () => close?.());

  it('opens from the keyboard and shows each expanded line with its counts', async () => {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(path.join(out, 'files/macro.asm.html')).href);
    const rows = (line: number) =>
      page.$$eval(`#L${line} table.expansion tbody tr`, (trs) =>
        trs.map((tr) => {
          const td = (c: string) => tr.querySelector(`td.${c}`)?.textContent ?? '';
          return [td('where'), td('hits'), td('instr'), td('brs'), tr.checkVisibility()];
        }),
      );
    // Closed at first: the rows exist but are not shown.
    expect((await rows(second)).map((r) => r[4])).toEqual([false, false, false]);
    await page.focus(`#L${second} details.expansion > summary`);
    await page.keyboard.press('Enter');
    expect(await page.$eval(`#L${second} details.expansion`, (d) => d.hasAttribute('open'))).toBe(true);
    expect(await rows(second)).toEqual([
      [`macro.asm:${body.cmp}`, '5', '5', '', true],
      [`macro.asm:${body.jbe}`, '5', '5', 'T1 N4', true],
      [`macro.asm:${body.mov}`, '4', '4', '', true],
    ]);
    expect(
      await page.$eval(`#L${second} table.expansion tbody tr:nth-child(2) .br`, (s) => s.className),
    ).toBe('br br-both');
    // The other invocation stays closed; a click opens it.
    expect(await page.$eval(`#L${first} details.expansion`, (d) => d.hasAttribute('open'))).toBe(false);
    await page.click(`#L${first} details.expansion > summary`);
    expect((await rows(first)).map((r) => r.slice(1, 4))).toEqual([
      ['10', '10', ''],
      ['10', '10', 'T3 N7'],
      ['7', '7', ''],
    ]);
    // The statement row still shows the aggregate of the invocation.
    expect(await page.textContent(`#L${first} > td.hits`)).toBe('10');
    expect(await page.textContent(`#L${first} > td.instr`)).toBe('27');
    expect(errors).toEqual([]);
  });
});
