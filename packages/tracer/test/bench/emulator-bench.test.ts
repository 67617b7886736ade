import { CPU_WORKLOADS, runEmulatorBench } from '@fasmcov/tracer';

describe('emulator bench (small scale)', () => {
  test('every workload gives the same checksum emulated and natively, with figures', () => {
    const lines: string[] = [];
    // runEmulatorBench throws if an emulated checksum differs from the real CPU's.
    const r = runEmulatorBench({ scale: 0.02, log: (l) => lines.push(l) });
    expect(r.workloads.map((w) => w.name)).toEqual(CPU_WORKLOADS.map((w) => w.name));
    for (const w of r.workloads) {
      expect(w.instructions).toBeGreaterThan(10_000);
      expect(w.mips).toBeGreaterThan(0);
      expect(w.nativeRatio).toBeGreaterThan(0);
    }
    expect(lines[0]).toMatch(/native = the same fasm workload body .* use64 .* ELF64/);
    expect(lines).toHaveLength(2 + r.workloads.length);
    expect(JSON.parse(JSON.stringify(r)).workloads[0]).toEqual(
      expect.objectContaining({ name: 'crc32', instructions: expect.any(Number), mips: expect.any(Number) }),
    );
  });

  test('unknown workload names are one clear error', () => {
    expect(() => runEmulatorBench({ only: ['nope'] })).toThrow(/no such workload \(have: crc32, rep-movs/);
  });
});
