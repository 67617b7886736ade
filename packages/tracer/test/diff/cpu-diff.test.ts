// Differential test of the CPU emulator against THIS machine's CPU (64-bit mode, same instruction
// text assembled with use64) and, for stack instructions 64-bit mode cannot host, against qemu-i386
// (a SECONDARY oracle: an emulator itself).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type BitScanMode, formatMismatch, hostBitScanMode, runBatch } from '../../src/diff';
import { qemuAvailable, runQemuBatch } from '../../src/diff/qemu-oracle';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-cpu-diff-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const nativeOk = process.platform === 'linux' && process.arch === 'x64';
if (!nativeOk)
  console.log(
    `skipping the real-CPU differential test: needs Linux on x86-64 (have ${process.platform}/${process.arch})`,
  );
const qemuOk = qemuAvailable();
if (!qemuOk) console.log('skipping the qemu-i386 stack oracle test: qemu-i386 not installed');

(nativeOk ? describe : describe.skip)('CPU vs the real CPU (64-bit mode)', () => {
  // The flags bsf/bsr leave undefined differ between CPU generations: on one that is not the
  // emulator's reference, each bit scan gets two instructions that define them from ZF.
  let bitScans: BitScanMode = 'as-is';
  beforeAll(() => {
    bitScans = hostBitScanMode(work);
    if (bitScans !== 'as-is')
      console.log(
        "this CPU's bsf/bsr set their undefined flags unlike the emulator's reference: compared defined",
      );
  });

  it('bit scans alone match too, but for the five flags Intel leaves undefined', () => {
    const r = runBatch({ seed: 31415, count: 200, workDir: work, bitScans: 'only' });
    const fields = new Set(r.mismatches.map((m) => m.field.replace('[jit] ', '')));
    for (const f of ['flag ZF', 'eax', 'ecx', 'edx', 'ebx', 'esi', 'edi']) expect(fields.has(f)).toBe(false);
    if (bitScans === 'as-is') expect(r.mismatches).toEqual([]);
    const defined = runBatch({ seed: 31415, count: 200, workDir: work, bitScans: 'defined' });
    expect(defined.mismatches.map(formatMismatch)).toEqual([]);
  });

  it('4,000 random sequences (fixed seeds) match register by register, flag by flag, byte by byte', () => {
    let cases = 0;
    const problems: string[] = [];
    for (const seed of [424242, 424243, 424244, 424245]) {
      const r = runBatch({ seed, count: 1000, workDir: work, bitScans });
      cases += r.cases;
      problems.push(...r.mismatches.slice(0, 5).map(formatMismatch));
    }
    expect(problems).toEqual([]);
    expect(cases).toBe(4000);
  });

  it('detects a corrupted emulator state (the comparison can fail)', () => {
    const flipCf = runBatch({
      seed: 7,
      count: 50,
      workDir: work,
      bitScans,
      afterRun: (cpu) => cpu.setEflags(cpu.getEflags() ^ 1),
    });
    expect(flipCf.mismatches).toHaveLength(50);
    expect(flipCf.mismatches[0].field).toBe('flag CF');
    expect(fs.readFileSync(flipCf.mismatches[0].reproducer as string, 'utf8')).toMatch(/seed 7, case 0/);
    const poke = runBatch({
      seed: 8,
      count: 20,
      workDir: work,
      bitScans,
      afterRun: (cpu) => cpu.memory.write8(0x10000200, cpu.memory.read8(0x10000200) ^ 0x40),
    });
    expect(poke.mismatches.map((m) => m.field)).toEqual(Array(20).fill('data[ebp+0]'));
  });

  it('runs every case compiled as well, and names the engine that differs', () => {
    let compiled = 0;
    const jitOnly = runBatch({
      seed: 9,
      count: 30,
      workDir: work,
      bitScans,
      afterRun: (cpu) => {
        if (!cpu.jit) return;
        compiled = (cpu as unknown as { jitEngine: { compiled: number } }).jitEngine.compiled;
        cpu.regs[0] ^= 1;
      },
    });
    expect(jitOnly.mismatches.map((m) => m.field)).toEqual(Array(30).fill('[jit] eax'));
    // Every case is a block of its own (at least one each), compiled on first arrival.
    expect(compiled).toBeGreaterThanOrEqual(30);
  });
});

(qemuOk ? describe : describe.skip)('CPU vs qemu-i386 (secondary oracle) for stack instructions', () => {
  it('600 push/pop/pushad/popad/pushfd/popfd/call/ret/enter/leave sequences match', () => {
    const r1 = runQemuBatch(99, 300, work);
    const r2 = runQemuBatch(100, 300, work);
    expect([...r1.mismatches, ...r2.mismatches]).toEqual([]);
  });
});
