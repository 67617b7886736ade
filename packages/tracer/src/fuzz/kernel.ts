// `npm run fuzz -- kernel [--count N] [--seed S] [--image NAME]...`: the bundled kernel on corrupted
// copies of the fixture images (random bytes in their metadata); any guest fault or hang fails.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildImage } from '../images';
import { buildKernel } from '../script/kernel-build';
import { fuzzKernel, type FuzzImage } from '../script/corrupt-fuzz';

const repo = path.resolve(__dirname, '../../../..');

function option(name: string, fallback: number): number {
  const k = process.argv.indexOf(`--${name}`);
  if (k < 0) return fallback;
  const v = Number(process.argv[k + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

/** The fuzzed images and the size of their metadata area. */
export const FUZZ_IMAGES: Array<[string, number]> = [
  ['fat12-floppy', 64 << 10],
  ['fat16', 512 << 10],
  ['fat32-names', 2 << 20],
  ['ext2-1k', 512 << 10],
  ['ext2-4k', 1 << 20],
];

function main(): number {
  const count = option('count', 200);
  const seed = option('seed', Date.now() % 1000000);
  const only = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--image' ? [a] : []));
  const k = buildKernel(path.join(repo, 'kernel'), path.join(repo, '.cache/kernel'));
  const images: FuzzImage[] = FUZZ_IMAGES.filter(([n]) => !only.length || only.includes(n)).map(
    ([n, bytes]) => ({
      built: buildImage(path.join(repo, 'fixtures/images', `${n}.json`)),
      metadataBytes: bytes,
    }),
  );
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-fuzz-kernel-'));
  let done = 0;
  const started = Date.now();
  try {
    const failures = fuzzKernel({
      kernel: fs.readFileSync(k.object),
      kernelFile: k.object,
      images,
      count,
      seed,
      workDir,
      onCase: (c, f) => {
        done++;
        if (f) console.log(`FAIL ${c.image} --seed ${c.seed}: ${f.message}`);
        if (done % 50 === 0) console.log(`${done} cases (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      },
    });
    console.log(
      `${done} corrupted images (seeds ${seed}..${seed + count - 1}), ${failures.length} faults or hangs`,
    );
    return failures.length ? 1 : 0;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = main();
