// One measurement of `fasmcov bench trace`, in a process of its own so that no configuration runs
// on code V8 optimised (or deoptimised) for another: `node trace-bench-child.js <spec.json>
// <traces, comma-separated or -> <runs> <dir>`. The first run warms V8 up; prints the JSON of
// ChildResult on stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { TraceKind } from '@fasmcov/tracer';
import { runWorkload, specFromJson } from './trace-bench-workload';

export interface ChildResult {
  /** ms of each run after the first. */
  ms: number[];
  instructions: number;
  /** sha256 of the guest's output (every run must print the same). */
  output: string;
}

/** Set (to 1): a thread spins while the child runs (the bench's busy-core configuration). */
export const BUSY_CORE_ENV = 'FASMCOV_BENCH_BUSY_CORE';

/** A thread that keeps another core busy with arithmetic (no memory traffic) until the exit. */
function spinOnOtherCore(): void {
  const w = new Worker('let x = 0; for (;;) x = (x * 31 + 7) | 0;', { eval: true });
  w.unref();
}

function main(argv: string[]): void {
  if (process.env[BUSY_CORE_ENV] === '1') spinOnOtherCore();
  const [specFile, tracesArg, runsArg, dir] = argv;
  const spec = specFromJson(fs.readFileSync(specFile, 'utf8'));
  const traces = (tracesArg === '-' ? [] : tracesArg.split(',')) as TraceKind[];
  const runs = Math.max(2, Number(runsArg));
  const result: ChildResult = { ms: [], instructions: 0, output: '' };
  for (let i = 0; i < runs; i++) {
    const r = runWorkload(spec, traces, path.join(dir, `run-${i}`));
    const digest = createHash('sha256').update(r.output).digest('hex');
    if (i > 0 && (r.instructions !== result.instructions || digest !== result.output))
      throw new Error(`${spec.name}: run ${i} differs from run 0`);
    result.instructions = r.instructions;
    result.output = digest;
    if (i > 0) result.ms.push(r.ms);
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  // The spinning thread never yields: end here.
  if (process.env[BUSY_CORE_ENV] === '1') process.exit(0);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench trace child: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
