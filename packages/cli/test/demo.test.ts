import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, runCli } from './helpers/cli';

describe('fasmcov demo', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-demo-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('runs the kernel scripts, checks their transcripts and writes reports that genhtml agrees with', () => {
    const r = runCli(['demo', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const scripts = fs.readdirSync(path.join(repoRoot, 'fixtures/fs')).length;
    expect(r.stdout).toContain(`${scripts}/${scripts} scripts match their reference logs`);
    // The kernel's file-system code is in the report, with the scripts as lcov tests.
    const lcov = fs.readFileSync(path.join(out, 'lcov.info'), 'utf8');
    expect(lcov).toMatch(/^SF:.*kernel\/fs\/fat_dir\.inc$/m);
    expect(lcov).toMatch(/^TN:fat16_write$/m); // lcov test names allow [A-Za-z0-9_] only
    // Functions are procedures, not the places where tracing resumed after a host call.
    expect(lcov).toMatch(/^FN:\d+,fat_read_file$/m);
    expect(lcov).not.toMatch(/^FN:\d+,(sub_[0-9a-f]+|\w+\.\w+)$/m);
    for (const f of [
      'lcov.info',
      'asm-html/index.html',
      'asm-html/flamegraph.html',
      'html/index.html',
      'coverage-summary.json',
    ]) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
    const m = /lines (\d+(?:\.\d+)?)%/.exec(r.stdout);
    const g = spawnSync('genhtml', ['-o', path.join(out, 'genhtml'), path.join(out, 'lcov.info')], {
      encoding: 'utf8',
    });
    expect(g.status).toBe(0);
    const gl = /lines\.*: ([\d.]+)%/.exec(g.stdout);
    expect(Number(gl?.[1])).toBeCloseTo(Number(m?.[1]), 1);
  });
});
