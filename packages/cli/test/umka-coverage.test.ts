import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildKernel, fixtureScript, prepareFixture, readUmkaTable, runScript } from '@fasmcov/tracer';
import { mergeCoverage, type CoverageDocument } from '@fasmcov/report';
import { repoRoot, runCli } from './helpers/cli';

// UMKa's native coverage files in both directions: a kernel fixture run is exported with
// `fasmcov trace umka` (the table UMKa fills on bare metal from the LBR), imported again with
// `fasmcov report --umka`, and must give the line and branch counts the run's own edges give.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-umka-cov-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function lcovDocument(args: string[], out: string): CoverageDocument {
  const r = runCli(['report', ...args, '-o', out, '-r', 'lcov'], { cwd: work });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const m = runCli(['merge', `${out}/lcov.info`, '-o', `${out}/cov.json`], { cwd: work });
  expect(m.status).toBe(0);
  // One document per test (TN:); the UMKa tables add up into one.
  return mergeCoverage(
    JSON.parse(fs.readFileSync(path.join(work, out, 'cov.json'), 'utf8')) as CoverageDocument[],
  );
}

describe('UMKa native coverage files', () => {
  const k = buildKernel(path.join(repoRoot, 'kernel'), path.join(work, 'kernel'));
  const runs = ['fat16-write', 'ext2-indirect'].map((name) => {
    const f = prepareFixture(
      path.join(repoRoot, 'fixtures/fs', name),
      path.join(repoRoot, 'fixtures/images'),
      work,
    );
    const runDir = path.join(work, `${name}.run`);
    runScript({
      kernel: fs.readFileSync(k.object),
      kernelFile: k.object,
      ...fixtureScript(f),
      maxInstructions: 1e9,
      traces: ['edges'],
      runDir,
      test: name,
    });
    const table = path.join(work, `${name}.cov`);
    const r = runCli(['trace', 'umka', runDir, '--fas', k.fas, '-o', table], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return { runDir, table };
  });

  it('writes tables of UMKa layout: 512 Ki entries of two little-endian uint64 counts', () => {
    for (const { table } of runs) {
      const bytes = fs.readFileSync(table);
      expect(bytes.length).toBe(512 * 1024 * 16);
      const t = readUmkaTable(new Uint8Array(bytes));
      // Every departure is a branch leaving an instruction, so arrivals and departures balance
      // (the run starts and stops are counted as arrivals and departures too).
      const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
      expect(sum(t.to)).toBeGreaterThan(1000);
      expect(sum(t.to)).toBe(sum(t.from));
    }
  });

  it('imports them with the line and branch counts of the runs themselves, tables adding up', () => {
    const fromEdges = lcovDocument([...runs.map((r) => r.runDir), '--fas', k.fas], 'edges');
    const umkaArgs = runs.flatMap((r) => ['--umka', r.table]);
    const fromUmka = lcovDocument([...umkaArgs, '--fas', k.fas, '--object', k.object], 'umka');
    const files = (d: CoverageDocument) => d.files.map((f) => f.path).sort();
    expect(files(fromUmka)).toEqual(files(fromEdges));
    for (const fe of fromEdges.files) {
      const fu = fromUmka.files.find((f) => f.path === fe.path);
      expect({ path: fe.path, lines: fu?.lines }).toEqual({ path: fe.path, lines: fe.lines });
      expect({ path: fe.path, branches: fu?.branches }).toEqual({ path: fe.path, branches: fe.branches });
      // Function hits: UMKa tables do not tell calls from jumps, so entries are counted where
      // static calls lead and at labels entered from the host; every function the run entered is
      // entered in the import too.
      for (const fn of fe.functions.filter((x) => x.hits > 0))
        expect({ fn: fn.name, hit: (fu?.functions.find((x) => x.name === fn.name)?.hits ?? 0) > 0 }).toEqual({
          fn: fn.name,
          hit: true,
        });
    }
    const hit = fromUmka.files.reduce((n, f) => n + f.lines.filter((l) => l.hits > 0).length, 0);
    expect(hit).toBeGreaterThan(500);
  });

  it('names the problem in one line for a bad table, a missing object or label', () => {
    fs.writeFileSync(path.join(work, 'short.cov'), Buffer.alloc(17));
    const bad = runCli(['report', '--umka', 'short.cov', '--fas', k.fas, '--object', k.object], {
      cwd: work,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /^fasmcov: short\.cov: UMKa coverage size 17 is not a multiple of 16 at byte offset 17\n$/,
    );
    const noObj = runCli(['report', '--umka', runs[0].table, '--fas', k.fas, '--object', 'none.o'], {
      cwd: work,
    });
    expect(noObj.stderr).toBe('fasmcov: cannot read the kernel object none.o (--object): ENOENT\n');
    const noLabel = runCli(
      [
        'report',
        '--umka',
        runs[0].table,
        '--fas',
        k.fas,
        '--object',
        k.object,
        '--umka-base',
        'no_such_label',
      ],
      { cwd: work },
    );
    expect(noLabel.stderr).toMatch(/^fasmcov: .*: the \.fas has no label no_such_label in a section\n$/);
  });
});
