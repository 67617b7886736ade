import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  COVERAGE_SCHEMA,
  mergeCoverage,
  summarize,
  toCoverageMap,
  writeLcov,
  type CoverageDocument,
} from '@fasmcov/report';

// Two tests over two real files; counts chosen so every kind of line, arm and function occurs.
function docs(root: string): CoverageDocument[] {
  fs.mkdirSync(path.join(root, 'fs'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'main.asm'),
    Array.from({ length: 30 }, (_, i) => `; line ${i + 1}`).join('\n'),
  );
  fs.writeFileSync(
    path.join(root, 'fs/fat.inc'),
    Array.from({ length: 40 }, (_, i) => `; l${i + 1}`).join('\n'),
  );
  const a: CoverageDocument = {
    schema: COVERAGE_SCHEMA,
    test: 'fat32-read',
    files: [
      {
        path: 'main.asm',
        lines: [
          { line: 3, hits: 1, instructions: 2 },
          { line: 4, hits: 0, instructions: 0 },
          { line: 9, hits: 7, instructions: 7 },
        ],
        branches: [{ line: 9, index: 0, taken: 6, notTaken: 1 }],
        functions: [{ name: 'start', line: 3, hits: 1 }],
      },
      {
        path: 'fs/fat.inc',
        lines: [
          { line: 10, hits: 2, instructions: 4 },
          { line: 11, hits: 0, instructions: 0 },
          { line: 20, hits: 0, instructions: 0 },
        ],
        branches: [
          { line: 10, index: 0, taken: 2, notTaken: 0 },
          { line: 10, index: 1, taken: 0, notTaken: 0 },
          { line: 20, index: 0, taken: 0, notTaken: 0 },
        ],
        functions: [
          { name: 'fat_read', line: 10, hits: 2 },
          { name: 'fat_write', line: 20, hits: 0 },
        ],
      },
    ],
  };
  const b: CoverageDocument = {
    schema: COVERAGE_SCHEMA,
    test: 'ext2 read!',
    files: [
      {
        path: 'fs/fat.inc',
        lines: [
          { line: 10, hits: 1, instructions: 2 },
          { line: 11, hits: 1, instructions: 3 },
          { line: 20, hits: 0, instructions: 0 },
        ],
        branches: [
          { line: 10, index: 0, taken: 0, notTaken: 1 },
          { line: 10, index: 1, taken: 0, notTaken: 0 },
          { line: 20, index: 0, taken: 0, notTaken: 0 },
        ],
        functions: [
          { name: 'fat_read', line: 10, hits: 1 },
          { name: 'fat_write', line: 20, hits: 0 },
        ],
      },
    ],
  };
  return [a, b];
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** "lines......: 62.5% (5 of 8 lines)" → [5, 8] */
function totals(text: string, what: string): [number, number] {
  const m = new RegExp(`${what}\\.*: [\\d.]+% \\((\\d+) of (\\d+)`).exec(text);
  if (!m) throw new Error(`no ${what} total in:\n${text}`);
  return [Number(m[1]), Number(m[2])];
}

describe('lcov writer', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-lcov-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const tests = docs(root);
  const merged = mergeCoverage(tests);
  const info = path.join(root, 'lcov.info');
  fs.writeFileSync(info, writeLcov(tests, { root }));
  const ours = summarize(merged);

  it('merges by location: counts add up per line, arm and function', () => {
    const fat = merged.files.find((f) => f.path === 'fs/fat.inc');
    expect(fat?.lines).toEqual([
      { line: 10, hits: 3, instructions: 6 },
      { line: 11, hits: 1, instructions: 3 },
      { line: 20, hits: 0, instructions: 0 },
    ]);
    expect(fat?.branches[0]).toEqual({ line: 10, index: 0, taken: 2, notTaken: 1 });
    expect(ours.lines).toEqual({ total: 6, covered: 4, pct: 66.66 });
    expect(ours.branches).toEqual({ total: 8, covered: 4, pct: 50 });
    expect(ours.functions).toEqual({ total: 3, covered: 2, pct: 66.66 });
  });

  it('genhtml reads it with no warning and agrees on every total', () => {
    const out = run(
      'genhtml',
      ['--branch-coverage', '--function-coverage', '-o', path.join(root, 'html'), info],
      root,
    );
    expect(out).not.toMatch(/WARNING|ERROR/i);
    expect(totals(out, 'lines')).toEqual([ours.lines.covered, ours.lines.total]);
    expect(totals(out, 'functions')).toEqual([ours.functions.covered, ours.functions.total]);
    expect(totals(out, 'branches')).toEqual([ours.branches.covered, ours.branches.total]);
  });

  it('lcov --summary agrees', () => {
    const out = run('lcov', ['--summary', info, '--rc', 'lcov_branch_coverage=1'], root);
    expect(totals(out, 'lines')).toEqual([ours.lines.covered, ours.lines.total]);
    expect(totals(out, 'branches')).toEqual([ours.branches.covered, ours.branches.total]);
  });

  it('writes per-test TN records with valid names', () => {
    const text = fs.readFileSync(info, 'utf8');
    expect(text.match(/^TN:.*$/gm)).toEqual(['TN:fat32_read', 'TN:fat32_read', 'TN:ext2_read_']);
  });

  it('istanbul agrees on the totals', () => {
    const s = toCoverageMap(merged, root).getCoverageSummary();
    expect([s.lines.covered, s.lines.total]).toEqual([ours.lines.covered, ours.lines.total]);
    expect([s.branches.covered, s.branches.total]).toEqual([ours.branches.covered, ours.branches.total]);
    expect([s.functions.covered, s.functions.total]).toEqual([ours.functions.covered, ours.functions.total]);
  });

  it('lcov-parse round-trips it', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parse = require('lcov-parse') as (
      file: string,
      cb: (err: unknown, data: Array<{ file: string; lines: { found: number; hit: number } }>) => void,
    ) => void;
    const data = await new Promise<Array<{ file: string; lines: { found: number; hit: number } }>>(
      (res, rej) => parse(info, (err, d) => (err ? rej(err) : res(d))),
    );
    expect(data.map((d) => [path.relative(root, d.file), d.lines.found, d.lines.hit])).toEqual([
      ['main.asm', 3, 2],
      ['fs/fat.inc', 3, 1],
      ['fs/fat.inc', 3, 2],
    ]);
  });
});
