// `npm run fuzz -- cpu [--count N] [--seed S] [--batch B] [--dir D] [--qemu M]`: differential test of
// the CPU emulator against this machine's CPU (64-bit mode), B cases per native program, each case run
// by the interpreter and by the JIT (compiled on first arrival); with --qemu,
// also M stack-instruction cases against qemu-i386 (the secondary oracle).
import * as os from 'node:os';
import * as path from 'node:path';
import { formatMismatch, hostBitScanMode, runBatch } from '../diff';
import { qemuAvailable, runQemuBatch } from '../diff/qemu-oracle';

function option(name: string, fallback: number): number {
  const k = process.argv.indexOf(`--${name}`);
  if (k < 0) return fallback;
  const v = Number(process.argv[k + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

function main(): number {
  const count = option('count', 10000);
  const seed = option('seed', Date.now() % 1000000);
  const batch = option('batch', 1000);
  const k = process.argv.indexOf('--dir');
  const dir = k >= 0 ? process.argv[k + 1] : path.join(os.tmpdir(), 'fasmcov-fuzz-cpu');
  // bsf/bsr's undefined flags as this CPU needs them compared (see hostBitScanMode).
  const bitScans = hostBitScanMode(dir);
  if (bitScans !== 'as-is')
    console.log("this CPU's bsf/bsr undefined flags differ from the emulator's: compared defined");
  let done = 0;
  let bad = 0;
  const start = Date.now();
  for (let b = 0; done < count; b++) {
    const n = Math.min(batch, count - done);
    const r = runBatch({ seed: seed + b, count: n, workDir: dir, bitScans });
    done += n;
    bad += r.mismatches.length;
    for (const m of r.mismatches.slice(0, 5)) console.log(formatMismatch(m));
    if (b % 10 === 0 || done === count)
      console.log(
        `${done} sequences, ${bad} mismatches (seeds ${seed}..${seed + b}, ${((Date.now() - start) / 1000).toFixed(0)} s)`,
      );
  }
  const qemuCount = option('qemu', 0);
  if (qemuCount > 0) {
    if (!qemuAvailable()) throw new Error('--qemu needs qemu-i386');
    let qdone = 0;
    let qbad = 0;
    for (let b = 0; qdone < qemuCount; b++) {
      const n = Math.min(500, qemuCount - qdone);
      const r = runQemuBatch(seed + b, n, dir);
      qdone += n;
      qbad += r.mismatches.length;
      for (const m of r.mismatches.slice(0, 3)) console.log(m);
    }
    console.log(`qemu-i386 (secondary oracle): ${qdone} stack sequences, ${qbad} mismatches`);
    bad += qbad;
  }
  return bad === 0 ? 0 : 1;
}

process.exitCode = main();
