import type { FasFile } from '@fasmcov/fas';
import type { AddressCounts } from '../mapping/address-counts';
import type { Classifier } from '../trace/classifier';

/** A small deterministic hash: the same input always gets the same counts. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/**
 * Execution counts for test `test` of an absolute (binary) program, as an edges trace would give
 * them: each procedure (a symbol without a dot) runs n times (n = 0 for about one in six), every
 * instruction of it n times, each conditional jump split between its arms. Not a real execution:
 * the benchmark measures the report, which reads counts, not their consistency.
 */
export function syntheticCounts(
  fas: FasFile,
  read8: (addr: number) => number,
  classify: Classifier,
  test: number,
): AddressCounts {
  const counts: AddressCounts = { instructions: new Map(), branches: new Map(), entries: new Map() };
  const starts = fas.symbols
    .filter((s) => s.defined && s.section === 0 && s.name && !s.name.includes('.') && !s.name.includes('?'))
    .map((s) => s.address)
    .sort((a, b) => a - b);
  let proc = -1;
  let runs = 0;
  for (const row of fas.codeRows()) {
    if (row.virtual || row.notInOutput || row.bits !== 32) continue;
    while (proc + 1 < starts.length && starts[proc + 1] <= row.address) {
      proc++;
      const h = mix(proc, test);
      runs = h % 6 === 0 ? 0 : 1 + (h % 97);
      if (runs) counts.entries.set(starts[proc], runs);
    }
    if (!runs) continue;
    for (let a = row.address, end = row.address + row.length; a < end;) {
      const info = classify(read8, a);
      counts.instructions.set(a, runs);
      if (info.conditional) {
        const taken = mix(a, test) % (runs + 1);
        counts.branches.set(a, { taken, notTaken: runs - taken });
      }
      a += info.length;
    }
  }
  return counts;
}
