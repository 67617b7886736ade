import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InstrumentResult } from '@fasmcov/instrument';
import { readRunInfo, runAddressCounts, runImage } from '@fasmcov/report';
import {
  buildKernel,
  fixtureScript,
  KernelSession,
  readSideband,
  sidebandPath,
  listFixtures,
  prepareFixture,
  runScript,
  ScriptRunner,
} from '@fasmcov/tracer';
import { buildOracle, oracleFlow, oracleMissing } from '../../report/test/trace/helpers/ipt-oracle';
import { instrumentInto, repoRoot, tempDir } from './helpers';

// The three-way cross-check on every script fixture (issues 6 and 7): the instrumented kernel (count
// mode) prints the same transcript as the plain kernel; every probe's count equals the count at its
// guarded address from (b) the plain run's edge trace and (c) its Intel PT trace decoded by our
// decoder — which must agree on every address — and Intel's libipt decodes the PT trace without
// error to the instruction count the run reports and the same per-instruction counts.

const fixtures = path.join(repoRoot, 'fixtures/fs');
const names = listFixtures(fixtures);
let result: InstrumentResult;
let plainObject: Buffer;
let plainFile: string;

beforeAll(() => {
  result = instrumentInto('kernel-fixtures', {
    main: path.join(repoRoot, 'kernel/kernel.asm'),
    mode: 'count',
  });
  const k = buildKernel(path.join(repoRoot, 'kernel'), tempDir('plain-kernel'));
  plainObject = fs.readFileSync(k.object);
  plainFile = k.object;
});

/** The instrumented kernel on the fixture: its transcript and the probe counts. */
function runInstrumented(name: string): { transcript: string; slots: number[] } {
  const f = prepareFixture(
    path.join(fixtures, name),
    path.join(repoRoot, 'fixtures/images'),
    tempDir(`i-${name}`),
  );
  const session = new KernelSession(result.build.output, 'kernel-instrumented.o', {
    maxInstructions: 2e10,
  });
  const area = session.machine.images[0].sections.find((s) => s.name === result.map.section);
  if (!area) throw new Error('no probe area');
  // kernel_init ran in the constructor, before the plain run's trace starts: count from here on.
  session.machine.memory.writeBytes(area.base, new Uint8Array(area.size));
  const lines: string[] = [];
  const runner = new ScriptRunner(
    session,
    { script: f.script, imageDir: f.imageDir, fileDir: f.fileDir },
    (l) => lines.push(l),
  );
  try {
    runner.runAll(f.lines);
    const slots = Array.from(
      { length: result.map.count },
      (_, i) => session.machine.memory.read32(area.base + 4 * i) >>> 0,
    );
    return { transcript: lines.length ? `${lines.join('\n')}\n` : '', slots };
  } finally {
    session.close();
  }
}

describe.each(names)('%s', (name) => {
  it('instrumented: same transcript, probe counts equal the plain run', () => {
    const f = prepareFixture(
      path.join(fixtures, name),
      path.join(repoRoot, 'fixtures/images'),
      tempDir(`p-${name}`),
    );
    const runDir = path.join(tempDir(`p-${name}`), 'run');
    const plain = runScript({
      kernel: plainObject,
      kernelFile: plainFile,
      ...fixtureScript(f),
      maxInstructions: 2e10,
      traces: ['edges', 'pt'],
      runDir,
    });
    const probed = runInstrumented(name);
    expect(probed.transcript).toBe(plain.transcript);
    expect(probed.transcript).toBe(fs.readFileSync(f.ref, 'utf8'));

    const info = readRunInfo(runDir);
    const image = runImage(runDir, info);
    const counts = runAddressCounts(runDir, info, image, 'edges');
    const fromPt = runAddressCounts(runDir, info, image, 'pt');
    expect(new Map([...fromPt.instructions].sort())).toEqual(new Map([...counts.instructions].sort()));
    expect(new Map([...fromPt.branches].sort())).toEqual(new Map([...counts.branches].sort()));
    if (buildOracle()) {
      const sidebandFile = path.join(runDir, 'trace.sideband.json');
      const sb = readSideband(sidebandFile);
      const lib = oracleFlow(
        sidebandPath(sidebandFile, sb.trace),
        sb.sections.map((s) => `${sidebandPath(sidebandFile, s.file)}:${s.offset}:${s.size}:${s.address}`),
      );
      expect(lib.errors).toEqual([]);
      expect(lib.instructions).toBe(info.tracedInstructions);
      expect(new Map([...lib.perIp].sort())).toEqual(new Map([...counts.instructions].sort()));
    } else process.stdout.write(`libipt oracle skipped: ${oracleMissing()}\n`);
    const text = info.sections.find((s) => s.name === '.text');
    if (!text) throw new Error('no .text in the run');
    const mismatches: string[] = [];
    for (const p of result.map.probes) {
      if (!p.address) continue;
      const at = text.address + p.address.offset;
      const b = counts.branches.get(at);
      const want =
        p.kind === 'branch-taken'
          ? (b?.taken ?? 0)
          : p.kind === 'branch-not-taken'
            ? (b?.notTaken ?? 0)
            : (counts.instructions.get(at) ?? 0);
      if (probed.slots[p.id] !== want)
        mismatches.push(
          `${p.kind} ${p.file}:${p.line} (0x${at.toString(16)}): probe ${probed.slots[p.id]}, emulator ${want}`,
        );
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(probed.slots.some((n) => n > 0)).toBe(true);
  });
});
