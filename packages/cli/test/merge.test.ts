import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COVERAGE_SCHEMA, readLcov, writeLcov, type CoverageDocument } from '@fasmcov/report';
import { runCli } from './helpers/cli';

const doc = (test: string, hits: number, taken: number): CoverageDocument => ({
  schema: COVERAGE_SCHEMA,
  test,
  files: [
    {
      path: 'k.asm',
      lines: [
        { line: 2, hits, instructions: hits },
        { line: 5, hits: 0, instructions: 0 },
      ],
      branches: [{ line: 2, index: 0, taken, notTaken: hits - taken }],
      functions: [{ name: 'k', line: 2, hits }],
    },
  ],
});

describe('fasmcov merge', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-merge-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'k.asm'), 'a\nb\nc\nd\ne\n');
  fs.writeFileSync(path.join(dir, 'a.info'), writeLcov([doc('t1', 3, 1)], { root: dir }));
  fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify([doc('t2', 4, 4), doc('t1', 2, 0)]));

  it('adds hit counts and branch arms per test and keeps TN records', async () => {
    const r = runCli(['merge', 'a.info', 'b.json', '-o', 'all.info'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /2 test\(s\): lines 50% \(1\/2\), branches 100% \(2\/2\), functions 100% \(1\/1\)/,
    );
    const docs = await readLcov(fs.readFileSync(path.join(dir, 'all.info'), 'utf8'), 'all.info', dir);
    expect(docs.map((d) => [d.test, d.files[0].lines[0].hits, d.files[0].branches[0]])).toEqual([
      ['t1', 5, { line: 2, index: 0, taken: 1, notTaken: 4 }],
      ['t2', 4, { line: 2, index: 0, taken: 4, notTaken: 0 }],
    ]);
  });

  it('writes fasmcov JSON that reads back as the same per-test documents', () => {
    expect(runCli(['merge', 'a.info', 'b.json', '-o', 'all.json'], { cwd: dir }).status).toBe(0);
    const back = JSON.parse(fs.readFileSync(path.join(dir, 'all.json'), 'utf8')) as CoverageDocument[];
    expect(back.map((d) => d.test)).toEqual(['t1', 't2']);
    // lcov carries no instruction counts: only the JSON input adds its 2.
    expect(back[0].files[0].lines[0]).toEqual({ line: 2, hits: 5, instructions: 2 });
  });

  it('rejects a bad input with one line naming the file and leaves no output', () => {
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"schema":"other@9","files":[]}');
    const r = runCli(['merge', 'a.info', 'bad.json', '-o', 'none.info'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('fasmcov: bad.json: schema is "other@9", expected fasmcov-coverage@1\n');
    expect(fs.existsSync(path.join(dir, 'none.info'))).toBe(false);
  });
});
