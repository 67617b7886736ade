// Runs jest, then prints the closing line `N passed, N failed` from jest's --json results,
// so a run that executed no test shows as such.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.jest-results.json');
fs.rmSync(out, { force: true });
const jest = require.resolve('jest/bin/jest');
// Tests make temporary files freely; give them one folder of their own and remove it after.
const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'fasmcov-tests-'));
const r = spawnSync(process.execPath, [jest, '--json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: tmp },
});
fs.rmSync(tmp, { recursive: true, force: true });
let passed = 0;
let failed = 0;
if (fs.existsSync(out)) {
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  passed = res.numPassedTests;
  failed = res.numFailedTests + (res.numRuntimeErrorTestSuites || 0);
} else {
  failed = 1;
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(r.status === 0 && passed > 0 ? 0 : 1);
