import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FasFile } from '@fasmcov/fas';
import { classifyInstruction, TRACE_FILE, type RunInfo } from '@fasmcov/tracer';
import { readRunInfo, runImage, RunDirError } from '../run/run-coverage';
import { decodeFlow } from '../trace/pt-flow-decoder';
import { CallStackProfiler } from './call-stacks';

/**
 * Frame names for addresses: the nearest global label at or below the address (dotted local
 * labels, `..` names and anonymous labels belong to the function around them).
 */
export function frameNamer(fas: FasFile, info: RunInfo): (ip: number) => string {
  const labels: Array<[number, string]> = [];
  for (const s of fas.symbols) {
    if (!s.defined || s.assemblyVariable || !s.name || /[.@?]/.test(s.name)) continue;
    const base = s.section > 0 ? info.sections.find((x) => x.fasSection === s.section)?.address : 0;
    if (base === undefined || (s.section === 0 && fas.relocatable)) continue;
    labels.push([(base + s.address) >>> 0, s.name]);
  }
  labels.sort((a, b) => a[0] - b[0]);
  return (ip) => {
    let lo = 0;
    let hi = labels.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (labels[mid][0] <= ip) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? `0x${(ip >>> 0).toString(16)}` : labels[best][1];
  };
}

/**
 * Folded call stacks (frames joined by ';' → instructions run under that exact stack) of a run
 * directory with a PT trace, rooted at the run's test name.
 */
export function profileFromRunDir(dir: string, fas: FasFile): Map<string, number> {
  const info = readRunInfo(dir);
  if (!info.traces.includes('pt')) throw new RunDirError(dir, 'a call-stack profile needs a pt trace');
  const image = runImage(dir, info);
  const profiler = new CallStackProfiler({
    ranges: info.ranges,
    classify: classifyInstruction,
    read8: image.read8,
    frameName: frameNamer(fas, info),
    root: info.test,
  });
  const result = decodeFlow(new Uint8Array(fs.readFileSync(path.join(dir, TRACE_FILE))), {
    classify: classifyInstruction,
    read8: image.read8,
    edges: profiler,
  });
  if (result.errors.length)
    throw new RunDirError(
      dir,
      `${TRACE_FILE} at byte 0x${result.errors[0].offset.toString(16)}: ${result.errors[0].message}`,
    );
  return profiler.folded;
}

/** Adds folded stacks into `into`. */
export function mergeFolded(into: Map<string, number>, more: Map<string, number>): Map<string, number> {
  for (const [k, v] of more) into.set(k, (into.get(k) ?? 0) + v);
  return into;
}
