// The bundled kernel on script fixtures, recorded as `fasmcov run --trace edges,lbr,pt` records it:
// the run directory's edges.json, lbr.json and trace.pt must be the same whether every branch
// reaches the hooks (JIT off) or compiled blocks count, record and log their own (JIT on, blocks
// compiled early) — including runs that end by running out of their instruction budget in the
// middle of a call.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  EDGES_FILE,
  LBR_FILE,
  ScriptRunError,
  TRACE_FILE,
  buildKernel,
  fixtureScript,
  prepareFixture,
  runScript,
} from '@fasmcov/tracer';
import { JIT_TUNING } from '../../src/cpu/jit/engine';

const repoRoot = path.resolve(__dirname, '../../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-inline-kernel-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let kernel: { object: Buffer; file: string };
const threshold = JIT_TUNING.hotThreshold;
beforeAll(() => {
  const k = buildKernel(path.join(repoRoot, 'kernel'), path.join(work, 'kernel'));
  kernel = { object: fs.readFileSync(k.object), file: k.object };
  // Most of a fixture's kernel code runs compiled, not only its hottest loops.
  JIT_TUNING.hotThreshold = 3;
});
afterAll(() => {
  JIT_TUNING.hotThreshold = threshold;
});

let serial = 0;

/** Runs the fixture with the JIT on or off; returns how the run ended, edges.json, lbr.json, trace.pt. */
function record(name: string, jit: boolean, maxInstructions: number): string[] {
  const dir = path.join(work, `${name}-${serial++}`);
  const f = prepareFixture(
    path.join(repoRoot, 'fixtures/fs', name),
    path.join(repoRoot, 'fixtures/images'),
    dir,
  );
  const runDir = path.join(dir, 'run');
  const saved = process.env.FASMCOV_JIT;
  process.env.FASMCOV_JIT = jit ? '1' : '0';
  let end = 'exit';
  try {
    runScript({
      kernel: kernel.object,
      kernelFile: kernel.file,
      ...fixtureScript(f),
      maxInstructions,
      traces: ['edges', 'lbr', 'pt'],
      lbrDepth: 16,
      runDir,
    });
  } catch (e) {
    if (!(e instanceof ScriptRunError)) throw e;
    end = e.message;
  } finally {
    if (saved === undefined) delete process.env.FASMCOV_JIT;
    else process.env.FASMCOV_JIT = saved;
  }
  return [
    end,
    fs.readFileSync(path.join(runDir, EDGES_FILE), 'utf8'),
    fs.readFileSync(path.join(runDir, LBR_FILE), 'utf8'),
    fs.readFileSync(path.join(runDir, TRACE_FILE)).toString('hex'),
  ];
}

describe('kernel fixtures: compiled blocks record the same edges, LBR and PT as the hooks', () => {
  test.each(['fat32-many', 'ext2-symlinks', 'fat16-write', 'gpt-partitions'])('%s', (name) => {
    const want = record(name, false, 2e10);
    expect(want[0]).toBe('exit');
    expect(JSON.parse(want[1]).edges.length).toBeGreaterThan(100);
    expect(want[3].length).toBeGreaterThan(20_000);
    const got = record(name, true, 2e10);
    // (toEqual's diff of megabytes of hex would be unreadable.)
    expect(got[3] === want[3]).toBe(true);
    expect(got.slice(0, 3)).toEqual(want.slice(0, 3));
  });

  test('a run that exhausts its budget in the middle of a kernel call', () => {
    // Odd budgets, so the run stops inside a compiled block's range of instructions.
    for (const budget of [150_001, 400_003]) {
      const want = record('fat32-many', false, budget);
      expect(want[0]).toMatch(/instruction/);
      const got = record('fat32-many', true, budget);
      expect(got[3] === want[3]).toBe(true);
      expect(got.slice(0, 3)).toEqual(want.slice(0, 3));
    }
  });
});
