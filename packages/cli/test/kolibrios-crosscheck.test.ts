import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, runCli } from './helpers/cli';

// `fasmcov kolibrios --cross-check` on the real kernel (UMKA and KOLIBRIOS point at checkouts;
// GPL sources, never in this repository): the test passes byte for byte, and the instrumented
// umka.o's probes, the plain run's edges and its decoded PT give the same counts everywhere.

const umka = process.env.UMKA;
const kolibrios = process.env.KOLIBRIOS;
if (!umka || !kolibrios)
  process.stdout.write('UMKA and KOLIBRIOS are not both set: the kolibrios --cross-check test is skipped\n');
const maybe = umka && kolibrios ? it : it.skip;

maybe(
  'passes t062 with probes = edges = PT and writes fs/ coverage',
  () => {
    const work = path.join(repoRoot, '.cache/umka-cli');
    const out = path.join(work, 'coverage');
    fs.rmSync(out, { recursive: true, force: true });
    const r = runCli([
      'kolibrios',
      '--kolibrios',
      kolibrios as string,
      '--umka',
      umka as string,
      '--tests',
      't062',
      '--cross-check',
      '--work',
      work,
      '-o',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^pass t062 \(\d+ instructions/m);
    expect(r.stdout).toContain('three-way check: probes = edges = PT');
    expect(r.stdout).toMatch(/kernel\/trunk\/fs\/fat\.inc {2}lines \d+\/\d+/);
    const lcov = fs.readFileSync(path.join(out, 'lcov.info'), 'utf8');
    expect(lcov).toMatch(/^SF:.*kernel\/trunk\/fs\/fat\.inc$/m);
  },
  900_000,
);
