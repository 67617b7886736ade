import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildKernel,
  checkImageAfterWrites,
  checkReferenceLogDetailed,
  fixtureScript,
  formatProblems,
  listFixtures,
  prepareFixture,
  runScript,
  unifiedDiff,
} from '@fasmcov/tracer';

// Every script test of fixtures/fs: the kernel's transcript must equal ref.log, and ref.log itself
// must hold up against the real tools (mtools, debugfs, fsck) and the host files the images were
// built from — so a reference log cannot just freeze what the emulator once printed.

const repo = path.resolve(__dirname, '../../../..');
const fixturesDir = path.join(repo, 'fixtures/fs');
const kernelDir = process.env.FASMCOV_KERNEL_SOURCE ?? path.join(repo, 'kernel');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-fs-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let kernel: { object: Buffer; file: string };
beforeAll(() => {
  const k = buildKernel(kernelDir, path.join(work, 'kernel'));
  kernel = { object: fs.readFileSync(k.object), file: k.object };
});

const names = listFixtures(fixturesDir);

it('has at least 20 script tests', () => {
  expect(names.length).toBeGreaterThanOrEqual(20);
});

describe.each(names)('%s', (name) => {
  it('matches ref.log, which the real tools confirm', () => {
    const dir = path.join(fixturesDir, name);
    const f = prepareFixture(dir, path.join(repo, 'fixtures/images'), path.join(work, name));
    const r = runScript({
      kernel: kernel.object,
      kernelFile: kernel.file,
      ...fixtureScript(f),
      maxInstructions: 5e9,
    });
    const ref = fs.readFileSync(f.ref, 'utf8');
    expect(unifiedDiff(ref, r.transcript, `${name}/ref.log`, 'transcript')).toBe('');
    const checked = checkReferenceLogDetailed(ref, {
      images: Object.fromEntries(f.images),
      scriptDir: f.fileDir,
    });
    expect(formatProblems(checked.problems, `${name}/ref.log`)).toBe('');
    for (const [image, built] of f.images) {
      const writes = checked.writes.filter((w) => w.image === built);
      const problems = checkImageAfterWrites(path.join(f.imageDir, image), built, writes);
      expect(problems.join('\n')).toBe('');
    }
  });
});
