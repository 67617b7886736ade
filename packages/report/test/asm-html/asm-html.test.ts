import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { COVERAGE_SCHEMA, flameTreeFromFolded, writeAsmHtml, type CoverageDocument } from '@fasmcov/report';
import { launchChromium } from '../helpers/browser';

const src = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `  ${tag} line ${i + 1} <&>`).join('\n') + '\n';

function docs(): CoverageDocument[] {
  const t1: CoverageDocument = {
    schema: COVERAGE_SCHEMA,
    test: 'fat-read',
    files: [
      {
        path: 'fs/fat.inc',
        lines: [
          { line: 2, hits: 3, instructions: 9 },
          { line: 4, hits: 0, instructions: 0 },
          { line: 6, hits: 3, instructions: 3 },
        ],
        branches: [{ line: 6, index: 0, taken: 3, notTaken: 0 }],
        functions: [{ name: 'fat_read', line: 2, hits: 3 }],
      },
      {
        path: 'core/string.inc',
        lines: [{ line: 1, hits: 1, instructions: 1 }],
        branches: [],
        functions: [{ name: 'strlen', line: 1, hits: 1 }],
      },
    ],
  };
  const t2: CoverageDocument = {
    schema: COVERAGE_SCHEMA,
    test: 'ext2-read',
    files: [
      {
        path: 'fs/fat.inc',
        lines: [{ line: 2, hits: 1, instructions: 3 }],
        branches: [],
        functions: [{ name: 'fat_read', line: 2, hits: 1 }],
      },
    ],
  };
  return [t1, t2];
}

describe('asm-html report in Chromium', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-asmhtml-'));
  let browser: Browser;
  let close: () => Promise<void>;
  const errors: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, 'src/fs'), { recursive: true });
    fs.mkdirSync(path.join(root, 'src/core'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/fs/fat.inc'), src(8, 'fat'));
    fs.writeFileSync(path.join(root, 'src/core/string.inc'), src(3, 'str'));
    writeAsmHtml(docs(), {
      root: path.join(root, 'src'),
      outDir: path.join(root, 'out'),
      title: 'demo kernel',
      profile: flameTreeFromFolded(
        new Map([
          ['start;fat_read', 12],
          ['start;fat_read;strlen', 4],
          ['start', 2],
        ]),
      ),
    });
    ({ browser, close } = await launchChromium());
  });
  afterAll(async () => {
    await close?.();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function open(rel: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(`${rel}: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`${rel}: ${e.message}`));
    await page.goto(pathToFileURL(path.join(root, 'out', rel)).href);
    return page;
  }

  it('index: totals, fs/ first, a treemap rectangle per file', async () => {
    const page = await open('index.html');
    expect(await page.textContent('#totals')).toBe('lines 75% (3/4) branches 50% (1/2) functions 100% (2/2)');
    expect(await page.$$eval('tr.folder th', (ths) => ths.map((t) => t.textContent))).toEqual([
      'fs/',
      'core/',
    ]);
    expect(await page.$$eval('#treemap rect', (r) => r.length)).toBe(2);
    expect(errors).toEqual([]);
  });

  it('file page: counts, branch markers, tests per line, escaping, keyboard navigation', async () => {
    const page = await open('files/fs/fat.inc.html');
    const cells = (line: number) =>
      page.$$eval(`#L${line} td`, (tds) => tds.map((td) => td.textContent ?? ''));
    expect(await cells(2)).toEqual(['2', '4', '12', '', 'ƒ  fat line 2 <&>', '2']);
    expect(await page.getAttribute('#L2 td.tests span', 'title')).toBe('fat-read, ext2-read');
    expect(await cells(4)).toEqual(['4', '0', '0', '', '  fat line 4 <&>', '']);
    expect(await page.getAttribute('#L4', 'class')).toBe('miss');
    expect(await page.getAttribute('#L6 .br', 'class')).toBe('br br-n0');
    expect(await page.textContent('#L6 .br')).toBe('T3 N0');
    expect(await page.getAttribute('#L3', 'class')).toBe('nocode');
    await page.keyboard.press('n');
    expect(await page.$eval('tr.current', (tr) => tr.id)).toBe('L4');
    await page.keyboard.press('n');
    expect(await page.$eval('tr.current', (tr) => tr.id)).toBe('L6');
    await page.keyboard.press('p');
    expect(await page.$eval('tr.current', (tr) => tr.id)).toBe('L4');
    expect(errors).toEqual([]);
  });

  it('flame graph: one frame per call-stack node, widths by inclusive instructions', async () => {
    const page = await open('flamegraph.html');
    await page.waitForSelector('#flamegraph svg g.frame');
    const frames = await page.$$eval('#flamegraph svg g.frame', (gs) =>
      gs.map((g) => [g.querySelector('title')?.textContent ?? '', Number(g.getAttribute('width'))]),
    );
    const names = frames.map(([t]) => String(t).split(' ')[0]).sort();
    expect(names).toEqual(['all', 'fat_read', 'start', 'strlen']);
    const width = (n: string) => Number(frames.find(([t]) => String(t).startsWith(`${n} `))?.[1]);
    expect(width('fat_read') / width('all')).toBeCloseTo(16 / 18, 2);
    expect(errors).toEqual([]);
  });

  it('writes the same bytes for the same input', () => {
    const again = path.join(root, 'again');
    writeAsmHtml(docs(), { root: path.join(root, 'src'), outDir: again, title: 'demo kernel' });
    const a = fs.readFileSync(path.join(root, 'out/files/fs/fat.inc.html'));
    expect(fs.readFileSync(path.join(again, 'files/fs/fat.inc.html')).equals(a)).toBe(true);
  });
});
