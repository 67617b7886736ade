// `npm run fuzz -- fas [--count N] [--seed S] [--fas file.fas ...]`: mutates real .fas files
// (by default the fixtures, assembled into .cache/fuzz-fas) and checks that each parse either
// succeeds or throws one FasFormatError naming file, offset and field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assemble } from '../fasm-runner';
import { fuzz } from './mutate';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function seedFiles(): string[] {
  const given: string[] = [];
  process.argv.forEach((a, i) => a === '--fas' && process.argv[i + 1] && given.push(process.argv[i + 1]));
  if (given.length) return given;
  const root = path.resolve(__dirname, '../../../..');
  const fixtures = path.join(root, 'fixtures/fas');
  const cache = path.join(root, '.cache/fuzz-fas');
  fs.mkdirSync(cache, { recursive: true });
  return ['flat', 'elf', 'exe'].map((n) => {
    const fas = path.join(cache, `${n}.fas`);
    assemble(`${n}.asm`, {
      output: path.join(cache, `${n}.out`),
      symbols: fas,
      cwd: fixtures,
      includeDirs: [path.join(fixtures, 'envdir')],
    });
    return fas;
  });
}

const count = Number(arg('--count', '2000'));
const seed = Number(arg('--seed', '1'));
const seeds = seedFiles().map((f) => new Uint8Array(fs.readFileSync(f)));
const res = fuzz(seeds, count, seed);
console.log(
  `fas fuzz: ${res.cases} cases (seed ${seed}): ${res.parsed} parsed, ${res.rejected} rejected with FasFormatError, ` +
    `${res.failures.length} failures; slowest case ${res.slowestMs.toFixed(1)} ms`,
);
for (const f of res.failures.slice(0, 20)) console.log(`  case ${f.case} (${f.what}): ${f.problem}`);
process.exitCode = res.failures.length ? 1 : 0;
