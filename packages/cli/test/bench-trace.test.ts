// `fasmcov bench trace` end to end at a tiny scale: real fasm builds of the workloads and the
// kernel, every configuration in a child process of its own (timings are not judged here).
import * as path from 'node:path';
import { listFixtures } from '@fasmcov/tracer';
import { repoRoot, runCli } from './helpers/cli';

const CONFIGS = ['none', 'no-hook-code', 'busy-core', 'edges', 'lbr', 'pt', 'edges+lbr+pt'];

interface WorkloadResult {
  instructions: number;
  ms: Record<string, number>;
  overhead: Record<string, number>;
  medianOverhead: Record<string, number>;
  overheadRange: Record<string, [number, number]>;
}

describe('fasmcov bench trace', () => {
  test('every workload runs with every recorder configuration; PT size and decode are reported', () => {
    const r = runCli(['bench', 'trace', '0.002', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([
      'crc32',
      'rep-movs',
      'insertion-sort',
      'kernel-fat32-ls',
      'ptFixtures',
      'ptDecode',
    ]);
    for (const name of ['crc32', 'rep-movs', 'insertion-sort', 'kernel-fat32-ls']) {
      const w = out[name] as WorkloadResult;
      expect(w.instructions).toBeGreaterThan(100_000);
      expect(Object.keys(w.ms)).toEqual(CONFIGS);
      for (const c of CONFIGS) {
        expect(w.ms[c]).toBeGreaterThan(0);
        expect(w.overhead[c]).toBeCloseTo(w.ms[c] / w.ms.none - 1, 10);
        expect(Number.isFinite(w.medianOverhead[c])).toBe(true);
        const [lo, hi] = w.overheadRange[c];
        expect(lo).toBeLessThanOrEqual(w.medianOverhead[c]);
        expect(hi).toBeGreaterThanOrEqual(w.medianOverhead[c]);
      }
    }
    // PT size on every fs fixture: the totals are the sums of the fixtures' own runs.
    const fx = out.ptFixtures as {
      fixtures: number;
      bytes: number;
      instructions: number;
      bitsPerInsn: number;
      byFixture: Record<string, number>;
      floorByFixture: Record<string, number>;
    };
    const names = listFixtures(path.join(repoRoot, 'fixtures/fs'));
    expect(Object.keys(fx.byFixture).sort()).toEqual(names);
    expect(fx.fixtures).toBe(names.length);
    expect(fx.instructions).toBeGreaterThan(1_000_000);
    expect(fx.bitsPerInsn).toBeCloseTo((fx.bytes * 8) / fx.instructions, 10);
    for (const b of Object.values(fx.byFixture)) expect(b).toBeGreaterThan(0);
    expect(Math.min(...Object.values(fx.byFixture))).toBeLessThanOrEqual(fx.bitsPerInsn);
    expect(Math.max(...Object.values(fx.byFixture))).toBeGreaterThanOrEqual(fx.bitsPerInsn);
    // Each fixture's size floor is below its trace, and above the trace's TNT bits alone.
    expect(Object.keys(fx.floorByFixture).sort()).toEqual(names);
    for (const n of names) {
      expect(fx.floorByFixture[n]).toBeGreaterThan(0.1);
      expect(fx.floorByFixture[n]).toBeLessThan(fx.byFixture[n]);
    }
    const pt = out.ptDecode as Record<string, number>;
    // Return compression turns the loop's returns into TNT bits.
    expect(pt['pt-retcompBytes']).toBeGreaterThan(0);
    expect(pt.ptBytes).toBeGreaterThan(3 * pt['pt-retcompBytes']);
  });

  test('a bad scale is one clear error', () => {
    const r = runCli(['bench', 'trace', 'nope']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("fasmcov: bench trace: bad scale 'nope'");
  });
});
