import { BRANCH, type AddressRange, type EdgeRecorder } from '@fasmcov/tracer';
import { instructionCounts } from '../trace/block-counts';
import type { Classifier } from '../trace/classifier';
import type { AddressCounts } from './address-counts';

/**
 * Address counts from an edges trace (or a decoded PT trace's edges): instruction counts by
 * walking from each edge destination, arms from the conditional branches' edges, entries from
 * calls into the traced code and from where the host started the guest.
 */
export function addressCountsFromEdges(
  edges: EdgeRecorder,
  opts: { classify: Classifier; read8: (addr: number) => number; ranges?: AddressRange[] },
): AddressCounts {
  const out: AddressCounts = { instructions: new Map(), branches: new Map(), entries: new Map() };
  for (const ic of instructionCounts(edges, opts)) {
    out.instructions.set(ic.address, ic.count);
    if (ic.notTaken !== undefined)
      out.branches.set(ic.address, { taken: ic.taken ?? 0, notTaken: ic.notTaken });
  }
  const enter = (a: number, n: number) => out.entries.set(a, (out.entries.get(a) ?? 0) + n);
  const inRange = (ip: number) =>
    opts.ranges === undefined || opts.ranges.some((r) => ip >= r.start && ip < r.end);
  // Where tracing resumes after a call that left the traced code (a host service) is a return
  // point inside the caller, not the entry of a function.
  const resumes = new Set<number>();
  for (const e of edges.edges()) {
    if (e.kind !== BRANCH.CALL && e.kind !== BRANCH.CALL_INDIRECT) continue;
    if (inRange(e.to)) enter(e.to, e.count);
    else resumes.add((e.from + opts.classify(opts.read8, e.from).length) >>> 0);
  }
  for (const [ip, n] of edges.startCounts) if (!resumes.has(ip)) enter(ip, n);
  return out;
}
