// `npm run fuzz -- <target> [options]`: runs the fuzzer packages/*/dist/fuzz/<target>.js
// (each package compiles its fuzzers from src/fuzz/<target>.ts) with the remaining options.
const fs = require('node:fs');
const path = require('node:path');

const [target, ...rest] = process.argv.slice(2);
const root = path.resolve(__dirname, '..');
const found = fs
  .readdirSync(path.join(root, 'packages'))
  .map((p) => path.join(root, 'packages', p, 'dist', 'fuzz', `${target}.js`))
  .find((f) => fs.existsSync(f));
if (!target || !found) {
  console.error(`usage: npm run fuzz -- <target> [options]; no fuzzer named '${target ?? ''}'`);
  process.exit(2);
}
process.argv = [process.argv[0], found, ...rest];
require(found);
