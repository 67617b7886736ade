import * as path from 'node:path';
import type { Command } from 'commander';
import { FasmError } from '@fasmcov/fas';
import { instrument, InstrumentError, type InstrumentResult, type ProbeMode } from '@fasmcov/instrument';
import { CliError } from '../errors';

interface InstrumentCliOptions {
  output: string;
  includeDir: string[];
  define: string[];
  mode: string;
  include: string[];
  memory?: number;
}

const collect = (v: string, all: string[]) => [...all, v];

function parseDefine(text: string): [string, string] {
  const m = /^([^=\s]+)=(.*)$/.exec(text);
  if (!m) throw new CliError(`-d: '${text}' is not NAME=VALUE`);
  return [m[1], m[2]];
}

function parseMode(text: string): ProbeMode {
  if (text !== 'flag' && text !== 'count') throw new CliError(`--mode: '${text}' is not flag or count`);
  return text;
}

const shown = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
};

/** The lines left without probes, on stderr, then one line of figures and how to assemble. */
function printSummary(r: InstrumentResult): void {
  for (const s of r.skipped)
    process.stderr.write(`warning: ${s.file}${s.line ? `:${s.line}` : ''}: not probed: ${s.reason}\n`);
  if (r.skipped.length)
    process.stderr.write(`warning: ${r.skipped.length} code line(s) left without probes\n`);
  const k = r.stats.probes;
  process.stdout.write(
    `${r.map.count} probes (${k.line} line, ${k['function-entry']} function-entry, ` +
      `${k['branch-taken']} branch pairs) on ${r.stats.rewrittenLines} lines of ${r.stats.rewrittenFiles} ` +
      `files; code ${r.stats.plainCodeBytes} -> ${r.stats.instrumentedCodeBytes} bytes; ` +
      `${shown(path.join(path.dirname(r.main), 'probes.json'))}\n`,
  );
  const include = r.includeDirs.length ? ` (INCLUDE=${r.includeDirs.map(shown).join(';')})` : '';
  process.stdout.write(`assemble ${shown(r.main)} with the same options${include}\n`);
}

export function registerInstrument(program: Command): void {
  program
    .command('instrument')
    .description(
      'write a copy of the sources fasm reads with coverage probes on every instruction line and branch, ' +
        'plus probes.json (line numbers do not move)',
    )
    .argument('<main.asm>', 'the main source file, as given to fasm')
    .requiredOption('-o, --output <dir>', 'folder for the instrumented tree and probes.json')
    .option('-I, --include-dir <dir>', 'fasm INCLUDE directory (repeatable)', collect, [])
    .option('-d, --define <NAME=VALUE>', 'fasm -d definition (repeatable)', collect, [])
    .option('--mode <mode>', 'flag: one byte set per probe; count: a 32-bit count per probe', 'count')
    .option(
      '--include <glob>',
      'only probe files matching, relative to the main file (repeatable)',
      collect,
      [],
    )
    .option('-m, --memory <KiB>', "fasm's memory limit in KiB (fasm -m), for large trees", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new CliError(`--memory: '${v}' is not a number of KiB`);
      return n;
    })
    .action((main: string, opts: InstrumentCliOptions) => {
      try {
        printSummary(
          instrument({
            main,
            outDir: opts.output,
            includeDirs: opts.includeDir,
            defines: opts.define.map(parseDefine),
            mode: parseMode(opts.mode),
            include: opts.include,
            memoryKiB: opts.memory,
          }),
        );
      } catch (e) {
        if (e instanceof InstrumentError || e instanceof FasmError) throw new CliError(e.message);
        throw e;
      }
    });
}
