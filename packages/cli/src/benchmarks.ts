/**
 * Registry of benchmarks for `fasmcov bench [name...]` / `npm run bench -- [name...]`.
 * Each package contributes entries; a benchmark prints its own human-readable lines through
 * `log` and returns a JSON-able result for `--json`.
 */
export interface BenchContext {
  log: (line: string) => void;
  /** Extra arguments after the benchmark name (e.g. sizes), as given. */
  args: string[];
}

export interface Benchmark {
  name: string;
  describe: string;
  run: (ctx: BenchContext) => Promise<unknown>;
}

export const benchmarks: Benchmark[] = [
  // one line per benchmark, e.g. { name: 'fas', describe: '...', run: runFasBench },
];
