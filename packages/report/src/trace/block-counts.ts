// Per-instruction execution counts and branch-arm counts from edge counts: every execution of
// straight-line code starts at a branch destination (or where tracing started) and runs to the
// next branch, so walking from each destination and adding its count gives every instruction's
// count. Stops and faults (control left before an instruction) walk the same way with a
// negative count.
import { BRANCH } from '@fasmcov/tracer';
import type { AddressRange, EdgeRecorder } from '@fasmcov/tracer';
import { cachedClassifier } from './classifier';
import type { Classifier } from './classifier';

export interface InstructionCount {
  address: number;
  length: number;
  mnemonic: string;
  count: number;
  /** For branches: times taken / not taken (not-taken only for conditional ones). */
  taken?: number;
  notTaken?: number;
}

export interface BlockCountOptions {
  classify: Classifier;
  read8: (addr: number) => number;
  /** Traced ranges: destinations outside them (where the trace left) are not walked. */
  ranges?: AddressRange[];
  /** Longest straight-line walk before giving up (default 1,000,000 instructions). */
  maxStraightLine?: number;
}

export class BlockWalkError extends Error {
  constructor(
    message: string,
    readonly address: number,
  ) {
    super(message);
    this.name = 'BlockWalkError';
  }
}

/** Counts for every instruction the edges show executed, sorted by address. */
export function instructionCounts(edges: EdgeRecorder, opts: BlockCountOptions): InstructionCount[] {
  const info = cachedClassifier(opts.classify, opts.read8);
  const limit = opts.maxStraightLine ?? 1_000_000;
  const counts = new Map<number, number>();
  const entries = new Map<number, number>();
  const addEntry = (ip: number, n: number): void => {
    entries.set(ip, (entries.get(ip) ?? 0) + n);
  };
  for (const e of edges.edges()) {
    addEntry(e.to, e.count);
    // A fault leaves before its instruction executes, like a stop.
    if (e.kind === BRANCH.FAULT) addEntry(e.from, -e.count);
  }
  for (const [ip, n] of edges.startCounts) addEntry(ip, n);
  for (const [ip, n] of edges.stopCounts) addEntry(ip, -n);

  const inRange = (ip: number): boolean =>
    opts.ranges === undefined || opts.ranges.some((r) => ip >= r.start && ip < r.end);
  for (const [start, n] of entries) {
    if (n === 0 || !inRange(start)) continue;
    let ip = start;
    for (let steps = 0; ; steps++) {
      if (steps >= limit) throw new BlockWalkError(`no branch within ${limit} instructions`, start);
      let b;
      try {
        b = info(ip);
      } catch (err) {
        throw new BlockWalkError(
          `cannot decode the instruction at 0x${ip.toString(16)}: ${(err as Error).message}`,
          ip,
        );
      }
      counts.set(ip, (counts.get(ip) ?? 0) + n);
      if (b.kind !== 0) break;
      ip = (ip + b.length) >>> 0;
    }
  }

  const out: InstructionCount[] = [];
  for (const [address, count] of [...counts].sort((a, b) => a[0] - b[0])) {
    const b = info(address);
    const row: InstructionCount = { address, length: b.length, mnemonic: b.mnemonic, count };
    if (b.kind !== 0) {
      const arms = edges.armCounts(address);
      row.taken = arms.taken;
      if (b.conditional) row.notTaken = arms.notTaken;
    }
    out.push(row);
  }
  return out;
}
