import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FasFile } from '@fasmcov/fas';
import {
  classifyInstruction,
  EDGES_FILE,
  EdgeRecorder,
  IMAGE_FILE,
  RUN_FILE,
  RUN_SCHEMA,
  TRACE_FILE,
  type RunInfo,
} from '@fasmcov/tracer';
import type { CoverageDocument } from '../model/document';
import type { AddressCounts } from '../mapping/address-counts';
import { addressCountsFromEdges } from '../mapping/from-edges';
import { mapCoverage, type MappingDiagnostic } from '../mapping/map-coverage';
import { CodeImage } from '../trace/code-image';
import { decodeFlow } from '../trace/pt-flow-decoder';

export class RunDirError extends Error {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`${dir}: ${detail}`);
    this.name = 'RunDirError';
  }
}

export function readRunInfo(dir: string): RunInfo {
  const file = path.join(dir, RUN_FILE);
  let info: Partial<RunInfo>;
  try {
    info = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RunInfo>;
  } catch (e) {
    throw new RunDirError(dir, `cannot read ${RUN_FILE} (${(e as Error).message})`);
  }
  if (info.schema !== RUN_SCHEMA) throw new RunDirError(dir, `${RUN_FILE}: schema is not ${RUN_SCHEMA}`);
  if (!Array.isArray(info.sections) || !Array.isArray(info.traces) || typeof info.test !== 'string') {
    throw new RunDirError(dir, `${RUN_FILE}: sections, traces and test are required`);
  }
  return info as RunInfo;
}

/** The run's code as it was loaded (image.bin), readable by guest address. */
export function runImage(dir: string, info: RunInfo): CodeImage {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(dir, IMAGE_FILE));
  } catch (e) {
    throw new RunDirError(dir, `cannot read ${IMAGE_FILE} (${(e as Error).message})`);
  }
  const image = new CodeImage();
  for (const s of info.sections) {
    if (s.offset + s.size > bytes.length)
      throw new RunDirError(dir, `${IMAGE_FILE} is shorter than section ${s.name}`);
    image.add(s.address, new Uint8Array(bytes.subarray(s.offset, s.offset + s.size)));
  }
  return image;
}

export type TraceSource = 'edges' | 'pt';

/** The edges of a run, from its edges file or by decoding its PT trace. */
export function runEdges(dir: string, info: RunInfo, image: CodeImage, source: TraceSource): EdgeRecorder {
  if (!info.traces.includes(source)) {
    throw new RunDirError(
      dir,
      `the run has no ${source} trace (it has: ${info.traces.join(', ') || 'none'})`,
    );
  }
  if (source === 'edges') {
    const file = path.join(dir, EDGES_FILE);
    return EdgeRecorder.fromDocument(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  }
  const edges = new EdgeRecorder({ ranges: info.ranges });
  const result = decodeFlow(new Uint8Array(fs.readFileSync(path.join(dir, TRACE_FILE))), {
    classify: classifyInstruction,
    read8: image.read8,
    edges,
  });
  if (result.errors.length) {
    const e = result.errors[0];
    const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
    throw new RunDirError(dir, `${TRACE_FILE} at byte 0x${e.offset.toString(16)}: ${e.message}${more}`);
  }
  return edges;
}

/** Per-address instruction, branch-arm and entry counts of a run, from its edges or its PT trace. */
export function runAddressCounts(
  dir: string,
  info: RunInfo,
  image: CodeImage,
  source: TraceSource,
): AddressCounts {
  return addressCountsFromEdges(runEdges(dir, info, image, source), {
    classify: classifyInstruction,
    read8: image.read8,
    ranges: info.ranges,
  });
}

/** Line, branch and function coverage of one run directory, mapped through the program's .fas. */
export function coverageFromRunDir(
  dir: string,
  opts: { fas: FasFile; root: string; source?: TraceSource },
): { document: CoverageDocument; diagnostics: MappingDiagnostic[]; info: RunInfo } {
  const info = readRunInfo(dir);
  const image = runImage(dir, info);
  const source = opts.source ?? (info.traces.includes('edges') ? 'edges' : 'pt');
  const counts = runAddressCounts(dir, info, image, source);
  const { document, diagnostics } = mapCoverage(counts, {
    fas: opts.fas,
    sections: opts.fas.relocatable ? info.sections.map((s) => ({ ...s, base: s.address })) : [],
    read8: image.read8,
    classify: classifyInstruction,
    root: opts.root,
    test: info.test,
  });
  return { document, diagnostics, info };
}
