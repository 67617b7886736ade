import type { Command } from 'commander';
import { benchmarks } from '../benchmarks';
import { CliError } from '../errors';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      `run a benchmark (${benchmarks.map((b) => b.name).join(', ')}, or all); default: cpu, emulated vs native workloads`,
    )
    .argument('[names...]', 'the benchmark, then its arguments')
    .option('--json', 'print results as JSON')
    .action(async (names: string[], opts: { json?: boolean }) => {
      const selected = !names.length
        ? ['cpu']
        : names[0] === 'all'
          ? benchmarks.map((b) => b.name)
          : names.slice(0, 1);
      const args = names.slice(1);
      const results: Record<string, unknown> = {};
      for (const name of selected) {
        const b = benchmarks.find((x) => x.name === name);
        if (!b)
          throw new CliError(
            `unknown benchmark '${name}' (have: ${benchmarks.map((x) => x.name).join(', ')})`,
          );
        const log = opts.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
        results[name] = await b.run({ log, args });
      }
      if (opts.json) {
        const only = selected.length === 1 ? results[selected[0]] : results;
        process.stdout.write(`${JSON.stringify(only, null, 2)}\n`);
      }
    });
}
