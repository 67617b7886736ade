import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FasFile } from '@fasmcov/fas';
import {
  flameTreeFromFolded,
  frameNamer,
  profileFromRunDir,
  readRunInfo,
  runAddressCounts,
  runImage,
} from '@fasmcov/report';
import { buildKernel, fixtureScript, prepareFixture, runScript } from '@fasmcov/tracer';

// Call-stack profiles decoded from PT against two independent views of the same run: the
// instruction count the run reports, and per-function totals from the edge trace's address counts.

const repo = path.resolve(__dirname, '../../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-profile-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

it('folds every traced instruction into the kernel call stacks of a script run', () => {
  const k = buildKernel(path.join(repo, 'kernel'), path.join(work, 'kernel'));
  const fas = FasFile.read(k.fas);
  const f = prepareFixture(
    path.join(repo, 'fixtures/fs/fat16-write'),
    path.join(repo, 'fixtures/images'),
    work,
  );
  const runDir = path.join(work, 'run');
  runScript({
    kernel: fs.readFileSync(k.object),
    kernelFile: k.object,
    ...fixtureScript(f),
    maxInstructions: 1e9,
    traces: ['edges', 'pt'],
    runDir,
    test: 'fat16-write',
  });
  const folded = profileFromRunDir(runDir, fas);
  const info = readRunInfo(runDir);
  const total = [...folded.values()].reduce((a, b) => a + b, 0);
  expect(total).toBe(info.tracedInstructions);

  // Every stack starts at the test, then a public entry point the runner called.
  const entries = new Set([
    'kernel_alloc',
    'disk_add',
    'disk_del',
    'disk_query',
    'kos_fn70',
    'kos_fn80',
    'kos_set_cwd',
    'kos_get_cwd',
  ]);
  for (const stack of folded.keys()) {
    const frames = stack.split(';');
    expect(frames[0]).toBe('fat16-write');
    expect(entries.has(frames[1])).toBe(true);
  }
  expect([...folded.keys()].some((s) => s.endsWith('fat_write_found;fat_file_io'))).toBe(true);

  // Self counts per function equal the edge trace's counts of the addresses in that function.
  const self = new Map<string, number>();
  for (const [stack, n] of folded) {
    const fn = stack.slice(stack.lastIndexOf(';') + 1);
    self.set(fn, (self.get(fn) ?? 0) + n);
  }
  const image = runImage(runDir, info);
  const counts = runAddressCounts(runDir, info, image, 'edges');
  const name = frameNamer(fas, info);
  const byAddress = new Map<string, number>();
  for (const [a, n] of counts.instructions) byAddress.set(name(a), (byAddress.get(name(a)) ?? 0) + n);
  expect(new Map([...self].sort())).toEqual(new Map([...byAddress].sort()));

  // The flame graph's root holds the inclusive total.
  expect(flameTreeFromFolded(folded).value).toBe(total);
});
