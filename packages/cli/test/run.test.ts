import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildKernel } from '@fasmcov/tracer';
import { repoRoot, runCli } from './helpers/cli';

// `fasmcov run`: the contract of the command (errors, -o, --ref, budget, traces). The image has no
// file system, so these tests hold whatever the drivers do.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-run-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const kernelDir = process.env.FASMCOV_KERNEL_SOURCE ?? path.join(repoRoot, 'kernel');
let k: { object: string; fas: string };
beforeAll(() => {
  k = buildKernel(kernelDir, path.join(dir, 'kernel'));
  fs.writeFileSync(path.join(dir, 'blank.img'), Buffer.alloc(1 << 20));
});

function script(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const run = (...args: string[]) => runCli(['run', k.object, '--fas', k.fas, ...args]);

const GOOD =
  'disk_add blank.img hd0\n# a comment\n\nls80 /\nstat70 /hd0/1/x\nstat80 /hd7/1\ncd /hd0/1/a/./b/../c\npwd\n';

it('runs a script and prints the transcript', () => {
  const r = run('--script', script('good.us', GOOD));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(
    [
      '/> disk_add blank.img hd0',
      '/hd0: sector_size=512, capacity=2048 (1 MiB), num_partitions=1',
      '/hd0/1: fs=unknown, start=0 (0 MiB), length=2048 (1 MiB)',
      '/> # a comment',
      '',
      '/> ls80 /',
      'status = 6 end_of_file, count = 1',
      'total = 1',
      '----f hd0',
      '/> stat70 /hd0/1/x',
      'status = 3 unknown_fs',
      '/> stat80 /hd7/1',
      'status = 5 file_not_found',
      '/> cd /hd0/1/a/./b/../c',
      '/> pwd',
      '/hd0/1/a/c',
      '',
    ].join('\n'),
  );
});

it('writes -o atomically and compares with --ref, printing a unified diff on a mismatch', () => {
  const s = script('ref.us', GOOD);
  const out = path.join(dir, 'out.log');
  expect(run('--script', s, '-o', out).status).toBe(0);
  const text = fs.readFileSync(out, 'utf8');
  const ref = path.join(dir, 'ref.log');
  fs.writeFileSync(ref, text);
  expect(run('--script', s, '--ref', ref)).toMatchObject({ status: 0, stdout: '' });
  fs.writeFileSync(ref, text.replace('total = 1', 'total = 2'));
  const bad = run('--script', s, '--ref', ref);
  expect(bad.status).toBe(1);
  expect(bad.stdout).toContain('@@ -');
  expect(bad.stdout).toContain('-total = 2\n+total = 1');
  expect(bad.stderr).toContain('differs from');
});

it('names the script, the line and what was expected for a bad line', () => {
  const r = run('--script', script('bad.us', 'disk_add blank.img hd0\nread70 /hd0/1/x zero 4\n'));
  expect(r.status).not.toBe(0);
  expect(r.stderr.trim()).toBe(
    `fasmcov: ${path.join(dir, 'bad.us')}:2: offset 'zero' is not a number below 2^64 (expected read70|read80 <path> <offset> <length> [-b|-h])`,
  );
  const u = run('--script', script('unknown.us', 'frobnicate 1\n'));
  expect(u.stderr).toMatch(/unknown\.us:1: unknown command 'frobnicate'/);
});

it('names a missing image and leaves no transcript behind', () => {
  const out = path.join(dir, 'missing.log');
  const r = run('--script', script('missing.us', 'ls80 /\ndisk_add nowhere.img hd0\n'), '-o', out);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(
    `missing.us:2: disk_add: cannot open image ${path.join(dir, 'nowhere.img')}: ENOENT`,
  );
  expect(fs.existsSync(out)).toBe(false);
});

it('stops at the instruction budget with a clear message', () => {
  const s = script('budget.us', GOOD);
  const runDir = path.join(dir, 'budget.run');
  expect(run('--script', s, '--trace', 'edges', '--run-dir', runDir).status).toBe(0);
  const { instructions } = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
    instructions: number;
  };
  // Half of what the script needs: the run must stop inside a command, naming it.
  const r = run('--script', s, '--max-instructions', String(Math.floor(instructions / 2)));
  expect(r.status).toBe(124);
  expect(r.stderr).toMatch(/budget.us:\d+: .*instruction budget of \d+ exhausted at eip 0x[0-9a-f]{8}/);
});

it('with --trace lbr, a run stopped by the budget shows the last branches in kernel source lines', () => {
  const s = script('budget-lbr.us', GOOD);
  const runDir = path.join(dir, 'budget-lbr.run');
  expect(run('--script', s, '--trace', 'edges', '--run-dir', runDir).status).toBe(0);
  const { instructions } = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
    instructions: number;
  };
  const r = run(
    '--script',
    s,
    '--max-instructions',
    String(Math.floor(instructions / 2)),
    '--trace',
    'lbr',
    '--lbr-depth',
    '4',
    '--run-dir',
    runDir,
  );
  expect(r.status).toBe(124);
  const lines = r.stderr.trimEnd().split('\n');
  // The one-line error names the stop's kernel source line (the ELF object is relocated: the
  // address maps back through the loaded sections).
  expect(lines[0]).toMatch(/exhausted at eip 0x[0-9a-f]{8} .* at \S+\.(inc|asm):\d+/);
  expect(lines[1]).toMatch(/^last 4 branches recorded by the LBR, newest first/);
  const records = lines.slice(2);
  expect(records).toHaveLength(8);
  for (let i = 0; i < 4; i++) {
    expect(records[2 * i]).toMatch(
      new RegExp(`^ +${i}: \\S+ from 0x[0-9a-f]{8} \\([^)]+\\) at \\S+\\.(inc|asm):\\d+`),
    );
    expect(records[2 * i + 1]).toMatch(/^ +to 0x[0-9a-f]{8} \([^)]+\) at \S+\.(inc|asm):\d+/);
  }
  expect(fs.readFileSync(path.join(runDir, 'lbr.txt'), 'utf8')).toBe(`${records.join('\n')}\n`);
});

it('records edges of the kernel code across all calls of a script', () => {
  const runDir = path.join(dir, 'traced.run');
  const r = run('--script', script('traced.us', GOOD), '--trace', 'edges,pt', '--run-dir', runDir);
  expect(r.status).toBe(0);
  const info = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as {
    test: string;
    tracedInstructions: number;
    instructions: number;
  };
  expect(info.test).toBe('traced.us');
  expect(info.tracedInstructions).toBeGreaterThan(1000);
  expect(info.tracedInstructions).toBeLessThanOrEqual(info.instructions);
});
