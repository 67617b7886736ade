import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COVERAGE_SCHEMA, type CoverageDocument } from '@fasmcov/report';
import { runCli } from './helpers/cli';

const docs: CoverageDocument[] = [
  {
    schema: COVERAGE_SCHEMA,
    test: 'fat',
    files: [
      {
        path: 'fs/fat.inc',
        lines: [
          { line: 1, hits: 2, instructions: 2 },
          { line: 2, hits: 0, instructions: 0 },
        ],
        branches: [{ line: 1, index: 0, taken: 2, notTaken: 0 }],
        functions: [{ name: 'fat_read', line: 1, hits: 2 }],
      },
      {
        path: 'core/heap.inc',
        lines: [{ line: 3, hits: 1, instructions: 4 }],
        branches: [],
        functions: [],
      },
    ],
  },
];

describe('fasmcov report', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-report-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'fs'));
  fs.mkdirSync(path.join(dir, 'core'));
  fs.writeFileSync(path.join(dir, 'fs/fat.inc'), 'fat_read: jz x\n  ret\n');
  fs.writeFileSync(path.join(dir, 'core/heap.inc'), '\n\n  rep movsb\n');
  fs.writeFileSync(path.join(dir, 'cov.json'), JSON.stringify(docs));

  it('writes every reporter, with totals that agree', () => {
    const reporters = ['lcov', 'html', 'json', 'json-summary', 'cobertura', 'text-summary', 'asm-html'];
    const r = runCli(['report', 'cov.json', '-o', 'out', ...reporters.flatMap((x) => ['--reporter', x])], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Lines\s+: 66\.66% \( 2\/3 \)/);
    expect(r.stdout).toMatch(/Branches\s+: 50% \( 1\/2 \)/);
    for (const f of [
      'lcov.info',
      'lcov-report/index.html',
      'html/index.html',
      'coverage-final.json',
      'coverage-summary.json',
      'cobertura-coverage.xml',
      'asm-html/index.html',
      'asm-html/files/fs/fat.inc.html',
    ]) {
      expect(fs.existsSync(path.join(dir, 'out', f))).toBe(true);
    }
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'out/coverage-summary.json'), 'utf8'));
    expect([summary.total.lines.covered, summary.total.lines.total]).toEqual([2, 3]);
    expect(fs.readFileSync(path.join(dir, 'out/cobertura-coverage.xml'), 'utf8')).toMatch(/lines-valid="3"/);
    expect(fs.readdirSync(path.join(dir, 'out')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('filters files by glob', () => {
    const r = runCli(['report', 'cov.json', '-o', 'fsonly', '-r', 'json-summary', '--include', 'fs/**'], {
      cwd: dir,
    });
    expect(r.status).toBe(0);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'fsonly/coverage-summary.json'), 'utf8'));
    expect(Object.keys(summary).map((k) => path.relative(dir, k))).toEqual([
      path.relative(dir, 'total'),
      'fs/fat.inc',
    ]);
  });

  it('fails a threshold with one line naming metric, value and threshold', () => {
    const r = runCli(
      ['report', 'cov.json', '-o', 'th', '-r', 'json', '--check-lines', '60', '--check-branches', '75'],
      {
        cwd: dir,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('fasmcov: branches coverage 50% is below the threshold 75%\n');
  });

  it('rejects an unknown reporter and writes nothing', () => {
    const r = runCli(['report', 'cov.json', '-o', 'none', '-r', 'pdf'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fasmcov: unknown reporter 'pdf' \(have: lcov, html, /);
    expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
  });
});
