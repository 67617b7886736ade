#!/usr/bin/env node
// Writes fixtures/fs/<name>/ref.log from a run of the bundled kernel, for the named fixtures (or all).
// A new or changed reference log must then pass the oracle check of
// packages/tracer/test/fs/fixtures.test.ts (mtools, debugfs, fsck, host files) before it is committed.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  buildKernel,
  fixtureScript,
  listFixtures,
  prepareFixture,
  runScript,
} = require('../packages/tracer/dist');

const repo = path.resolve(__dirname, '..');
const fixtures = path.join(repo, 'fixtures/fs');
const names = process.argv.slice(2).length ? process.argv.slice(2) : listFixtures(fixtures);
const k = buildKernel(path.join(repo, 'kernel'), path.join(repo, '.cache/kernel'));
const kernel = fs.readFileSync(k.object);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-ref-'));
try {
  for (const name of names) {
    const f = prepareFixture(
      path.join(fixtures, name),
      path.join(repo, 'fixtures/images'),
      path.join(work, name),
    );
    const r = runScript({
      kernel,
      kernelFile: k.object,
      ...fixtureScript(f),
      maxInstructions: 5e9,
    });
    fs.writeFileSync(f.ref, r.transcript);
    process.stdout.write(
      `${name}: ${r.transcript.split('\n').length - 1} lines, ${r.instructions} instructions\n`,
    );
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
