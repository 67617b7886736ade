import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COVERAGE_SCHEMA, type CoverageDocument } from '@fasmcov/report';
import { runCli } from './helpers/cli';

describe('fasmcov report --diff', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-diff-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  fs.mkdirSync(path.join(dir, 'fs'));
  fs.writeFileSync(path.join(dir, 'fs/k.asm'), 'a\nb\nc\nd\ne\nf\n');
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'base');
  // line 2 changed, a line inserted as line 5; lines 1, 3, 4, 6, 7 as before
  fs.writeFileSync(path.join(dir, 'fs/k.asm'), 'a\nB\nc\nd\nnew\ne\nf\n');
  const doc: CoverageDocument = {
    schema: COVERAGE_SCHEMA,
    files: [
      {
        path: 'fs/k.asm',
        lines: [
          { line: 2, hits: 3, instructions: 3 },
          { line: 5, hits: 0, instructions: 0 },
          { line: 7, hits: 0, instructions: 0 },
        ],
        branches: [{ line: 2, index: 0, taken: 3, notTaken: 0 }],
        functions: [],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 'cov.json'), JSON.stringify(doc));

  it('reports the changed lines only, with their own threshold', () => {
    const r = runCli(
      ['report', 'cov.json', '-o', 'out', '-r', 'json', '--diff', 'HEAD', '--check-diff', '60'],
      {
        cwd: dir,
      },
    );
    expect(r.stdout).toBe('changed since HEAD: lines 50% (1/2), branches 50% (1/2), functions 100% (0/0)\n');
    expect(r.stderr).toBe('fasmcov: lines coverage of changed lines 50% is below the threshold 60%\n');
    expect(r.status).toBe(1);
    expect(
      runCli(['report', 'cov.json', '-o', 'out', '-r', 'json', '--diff', 'HEAD', '--check-diff', '50'], {
        cwd: dir,
      }).status,
    ).toBe(0);
  });

  it('names a bad revision in one line', () => {
    const r = runCli(['report', 'cov.json', '-o', 'out', '-r', 'json', '--diff', 'no-such-rev'], {
      cwd: dir,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fasmcov: --diff: git diff no-such-rev failed: .+\n$/);
  });
});
