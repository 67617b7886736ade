import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IMAGE_TOOLS } from '../src/prerequisites';
import { Progress } from '../src/progress';
import { repoRoot, runCli } from './helpers/cli';

describe('fasmcov demo', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-demo-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  let r: ReturnType<typeof runCli>;
  beforeAll(() => {
    r = runCli(['demo', '-o', out]);
  });

  it('runs the kernel scripts, checks their transcripts and writes reports that genhtml agrees with', () => {
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

  it('builds the instrumented kernel and prints the three-way check of probes, edges and PT', () => {
    const scripts = fs.readdirSync(path.join(repoRoot, 'fixtures/fs')).length;
    expect(r.stdout).toMatch(/instrumenting kernel\//);
    const line =
      /three-way check: probes = edges = PT on all (\d+) scripts \((\d+) line, (\d+) branch-arm/.exec(
        r.stdout,
      );
    expect(Number(line?.[1])).toBe(scripts);
    expect(Number(line?.[2])).toBeGreaterThan(1000);
    // Every branch has two arms, each with a probe: as many arm probes as lcov has branch arms.
    const lcov = fs.readFileSync(path.join(out, 'lcov.info'), 'utf8');
    const brf = [...lcov.matchAll(/^BRF:(\d+)$/gm)].map((x) => Number(x[1]));
    const files = new Set([...lcov.matchAll(/^SF:(.*)$/gm)].map((x) => x[1])).size;
    expect(brf.length).toBeGreaterThanOrEqual(files);
    expect(Number(line?.[3])).toBe(Number(/Branches\s*: [\d.]+% \( \d+\/(\d+) \)/.exec(r.stdout)?.[1]));
  });

  it('progress: plain lines per script when stdout is not a terminal', () => {
    const scripts = fs.readdirSync(path.join(repoRoot, 'fixtures/fs')).length;
    expect(r.stdout).not.toContain('\r');
    const ticks = r.stdout.split('\n').filter((l) => /^fasmcov demo: running scripts.* \d+\/\d+ \(/.test(l));
    expect(ticks.length).toBe(scripts);
    expect(ticks[ticks.length - 1]).toContain(`${scripts}/${scripts}`);
  });

  it('asm-html: a macro invocation of the kernel opens to its expansion, counted line by line', () => {
    const page = fs.readFileSync(path.join(out, 'asm-html/files/kernel/fs/fat_dir.inc.html'), 'utf8');
    const lcov = fs.readFileSync(path.join(out, 'lcov.info'), 'utf8');
    // The merged DA hits of fat_dir.inc, summed over the tests' records.
    const hits = new Map<number, number>();
    for (const rec of lcov.split('end_of_record')) {
      if (!/^SF:.*kernel\/fs\/fat_dir\.inc$/m.test(rec)) continue;
      for (const d of rec.matchAll(/^DA:(\d+),(\d+)$/gm))
        hits.set(Number(d[1]), (hits.get(Number(d[1])) ?? 0) + Number(d[2]));
    }
    const rows = [
      ...page.matchAll(/<tr id="L(\d+)"[^>]*>.*?<code>\s*stdcall[^<]*<\/code><\/summary>(.*?)<\/table>/g),
    ];
    expect(rows.length).toBeGreaterThan(0);
    for (const [, line, table] of rows) {
      const expanded = [
        ...table.matchAll(/<td class="where">kernel\/macros\.inc:\d+<\/td><td class="hits">(\d+)</g),
      ];
      expect(expanded.length).toBeGreaterThan(0);
      // stdcall runs straight through: each expanded line ran as often as the invoking line.
      for (const [, h] of expanded) expect(Number(h)).toBe(hits.get(Number(line)));
    }
  });
});

describe('demo prerequisites', () => {
  it('names a missing tool and its Debian package in one line', () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-path-'));
    const which = (t: string) =>
      spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    for (const t of ['sh', 'fasm', 'qemu-i386', ...IMAGE_TOOLS.map((x) => x.command)]) {
      if (t !== 'mke2fs' && which(t)) fs.symlinkSync(which(t), path.join(bin, t));
    }
    const r = runCli(['demo', '-o', path.join(bin, 'out')], { env: { ...process.env, PATH: bin } });
    fs.rmSync(bin, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'fasmcov: mke2fs is missing: install the Debian package e2fsprogs (apt-get install e2fsprogs, or npm run setup)',
    ]);
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, out: { isTTY, write: (t: string) => writes.push(t) } };
  };
  let clock = 0;
  const now = () => clock;

  it('on a terminal: one line rewritten in place with step, n/N and elapsed time', () => {
    const s = sink(true);
    const p = new Progress('demo', s.out, now);
    clock = 1000;
    p.start('running scripts', 4);
    clock = 3500;
    p.tick('fat16-eof');
    expect(s.writes.every((w) => w.startsWith('\r\x1b[K') && !w.includes('\n'))).toBe(true);
    expect(s.writes[s.writes.length - 1]).toBe(
      '\r\x1b[Kdemo: [#####...............] running scripts 1/4 (2.5 s) fat16-eof',
    );
    p.log('done');
    expect(s.writes.slice(-2)).toEqual(['\r\x1b[K', 'demo: done\n']);
  });

  it('elsewhere: plain lines, one per item', () => {
    const s = sink(false);
    const p = new Progress('demo', s.out, now);
    clock = 0;
    p.start('assembling');
    p.start('running scripts', 2);
    clock = 1200;
    p.tick('a');
    p.tick('b');
    expect(s.writes).toEqual([
      'demo: assembling\n',
      'demo: running scripts 1/2 (1.2 s) a\n',
      'demo: running scripts 2/2 (1.2 s) b\n',
    ]);
  });
});
