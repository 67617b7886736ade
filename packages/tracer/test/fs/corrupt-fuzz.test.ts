import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildImage, buildKernel, fuzzCase, fuzzKernel } from '@fasmcov/tracer';

// The kernel on randomly corrupted images: any status is fine, a guest fault or a hang is not.
// A fixed seed here; `npm run fuzz -- kernel --count N --seed S` runs longer.

const repo = path.resolve(__dirname, '../../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-fuzz-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const images: Array<[string, number]> = [
  ['fat12-floppy', 64 << 10],
  ['fat16', 512 << 10],
  ['ext2-1k', 512 << 10],
];

it('survives corrupted FAT and ext2 metadata without a fault or a hang', () => {
  const kernelDir = process.env.FASMCOV_KERNEL_SOURCE ?? path.join(repo, 'kernel');
  const k = buildKernel(kernelDir, path.join(work, 'kernel'));
  const built = images.map(([name, bytes]) => ({
    built: buildImage(path.join(repo, 'fixtures/images', `${name}.json`)),
    metadataBytes: bytes,
  }));
  // A case is replayable from its seed: same patches every time.
  expect(fuzzCase(built[0], 42)).toEqual(fuzzCase(built[0], 42));
  const failures = fuzzKernel({
    kernel: fs.readFileSync(k.object),
    kernelFile: k.object,
    images: built,
    count: 4,
    seed: 7000,
    workDir: path.join(work, 'cases'),
  });
  expect(failures.map((f) => `${f.image} --seed ${f.seed}: ${f.message}`)).toEqual([]);
});
