import type { ProbeMap } from '@fasmcov/instrument';
import type { RunInfo } from '@fasmcov/tracer';
import { readRunInfo, runAddressCounts, runImage, type AddressCounts } from '@fasmcov/report';

// The three-way check behind fasmcov's counts: a run directory traced with edges and PT gives
// the same per-instruction and per-arm counts both ways, and an instrumented build's probes
// count exactly what the edges say at the probed instruction. `demo` and `kolibrios` use it.

/** Differences between two count tables, described for the user (at most `limit`). */
export function mapDifferences<V>(what: string, a: Map<number, V>, b: Map<number, V>, limit = 3): string[] {
  const out: string[] = [];
  const show = (v: V | undefined) => JSON.stringify(v ?? 0);
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (JSON.stringify(a.get(k)) === JSON.stringify(b.get(k))) continue;
    out.push(`${what} at 0x${k.toString(16)}: edges ${show(a.get(k))}, PT ${show(b.get(k))}`);
    if (out.length >= limit) break;
  }
  return out;
}

/** Probe counts against the edge counts at the probe's address in the plain build. */
export function probeDifferences(
  map: ProbeMap,
  slots: Uint32Array,
  counts: AddressCounts,
  info: RunInfo,
  limit = 10,
): string[] {
  const out: string[] = [];
  for (const p of map.probes) {
    if (!p.address) continue;
    const section = info.sections.find((s) => s.name === (p.address?.sectionName ?? '.text'));
    if (!section) continue;
    const at = (section.address + p.address.offset) >>> 0;
    const arms = counts.branches.get(at);
    const want =
      p.kind === 'branch-taken'
        ? (arms?.taken ?? 0)
        : p.kind === 'branch-not-taken'
          ? (arms?.notTaken ?? 0)
          : (counts.instructions.get(at) ?? 0);
    if (slots[p.id] !== want) {
      out.push(`${p.kind} probe ${p.file}:${p.line}: probe ${slots[p.id]}, edges ${want}`);
      if (out.length >= limit) break;
    }
  }
  return out;
}

export interface TraceCounts {
  info: RunInfo;
  image: ReturnType<typeof runImage>;
  edges: AddressCounts;
  /** Edges against decoded PT: empty when they agree on every instruction and arm. */
  mismatches: string[];
}

/** Reads a run directory recorded with edges and PT; decodes the PT and compares. */
export function edgesAgainstPt(runDir: string): TraceCounts {
  const info = readRunInfo(runDir);
  const image = runImage(runDir, info);
  const edges = runAddressCounts(runDir, info, image, 'edges');
  const pt = runAddressCounts(runDir, info, image, 'pt');
  return {
    info,
    image,
    edges,
    mismatches: [
      ...mapDifferences('instruction count', edges.instructions, pt.instructions),
      ...mapDifferences('branch arms', edges.branches, pt.branches),
    ],
  };
}
