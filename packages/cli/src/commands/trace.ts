import * as fs from 'node:fs';
import type { Command } from 'commander';
import { FasFile, writeFileAtomic } from '@fasmcov/fas';
import {
  CodeImage,
  decodeFlow,
  PtFileSource,
  readRunInfo,
  runEdges,
  runImage,
  umkaBase,
  UmkaImportError,
  type TraceSource,
} from '@fasmcov/report';
import {
  branchKindName,
  classifyInstruction,
  readSideband,
  umkaTableFromEdges,
  writeUmkaTable,
} from '@fasmcov/tracer';
import { CliError } from '../errors';

interface DecodeOptions {
  image: string;
  json?: boolean;
}

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

interface UmkaOptions {
  fas: string;
  output: string;
  umkaBase?: string;
  traceSource?: TraceSource;
}

/** `trace umka`: a run's edge counts as UMKa's native coverage table, counted from the base label. */
function writeUmkaCoverage(dir: string, opts: UmkaOptions): void {
  const fas = FasFile.read(opts.fas);
  const info = readRunInfo(dir);
  const source = opts.traceSource ?? (info.traces.includes('edges') ? 'edges' : 'pt');
  const edges = runEdges(dir, info, runImage(dir, info), source);
  let at;
  try {
    at = umkaBase(fas, info.sections, opts.umkaBase, opts.fas);
  } catch (e) {
    if (e instanceof UmkaImportError) throw new CliError(e.message);
    throw e;
  }
  const placed = fas.relocatable ? info.sections.find((s) => s.fasSection === at.section) : { address: 0 };
  if (!placed) throw new CliError(`${dir}: the run did not load section ${at.section} of ${opts.fas}`);
  writeFileAtomic(
    opts.output,
    writeUmkaTable(umkaTableFromEdges(edges, (placed.address + at.address) >>> 0)),
  );
}

export function registerTrace(program: Command): void {
  const trace = program.command('trace').description('work with recorded branch traces');
  trace
    .command('umka')
    .description(
      "write a run's branch counts as a UMKa native coverage file (as UMKa records on bare metal; " +
        "read by UMKa's tools and by fasmcov report --umka)",
    )
    .argument('<run-dir>', 'a run directory recorded with --trace edges or pt')
    .requiredOption('--fas <file.fas>', "the kernel's symbolic file")
    .requiredOption('-o, --output <file>', 'the coverage file to write')
    .option(
      '--umka-base <label>',
      'the label offset 0 stands for (default coverage_begin, else the code start)',
    )
    .option('--trace-source <kind>', 'edges or pt (default: edges if recorded)', (v) => {
      if (v !== 'edges' && v !== 'pt') throw new CliError(`--trace-source: '${v}' is not edges or pt`);
      return v;
    })
    .action(writeUmkaCoverage);
  trace
    .command('decode')
    .description(
      'decode an Intel PT trace over its image: instruction count, edges, errors (as libipt reports them)',
    )
    .argument('<trace.pt>', 'the packet stream')
    .requiredOption('--image <sideband.json>', 'the sideband file describing the traced image')
    .option('--json', 'print {instructions, packets, edges: [[from, to, kind, count]], errors} as JSON')
    .action((file: string, opts: DecodeOptions) => {
      if (!fs.existsSync(file)) throw new CliError(`${file}: no such file`);
      const sideband = readSideband(opts.image);
      const image = CodeImage.fromSideband(opts.image, sideband);
      const source = new PtFileSource(file);
      let result;
      try {
        result = decodeFlow(source, { classify: classifyInstruction, read8: image.read8 });
      } finally {
        source.close();
      }
      const edges = result.edges.edges();
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({
            instructions: result.instructions,
            packets: result.packets,
            edges: edges.map((e) => [e.from, e.to, e.kind, e.count]),
            errors: result.errors,
          })}\n`,
        );
      } else {
        process.stdout.write(
          `${file}: ${result.packets} packets, ${result.instructions} instructions, ${edges.length} edges\n`,
        );
        for (const e of edges) {
          process.stdout.write(`  ${hex(e.from)} -> ${hex(e.to)} ${branchKindName(e.kind)} ×${e.count}\n`);
        }
        for (const err of result.errors) {
          process.stdout.write(
            `  error at byte 0x${err.offset.toString(16)} (${err.code}${err.packet ? `, ${err.packet}` : ''}): ${err.message}\n`,
          );
        }
      }
      if (
        sideband.instructions !== undefined &&
        sideband.instructions !== result.instructions &&
        !result.errors.length
      ) {
        throw new CliError(
          `${file}: decoded ${result.instructions} instructions, the producer counted ${sideband.instructions}`,
        );
      }
      if (result.errors.length) {
        const e = result.errors[0];
        throw new CliError(
          `${file}: decode error at byte 0x${e.offset.toString(16)} (${e.code}): ${e.message}`,
        );
      }
    });
}
