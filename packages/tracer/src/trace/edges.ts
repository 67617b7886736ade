// Exact branch-edge counts: every (from, to, kind) with its count, plus where tracing started and
// stopped. Keyed by source address in a Map of numbers; edges from one source form a short chain,
// so the hot path does one Map lookup and (almost always) one comparison. Compiled code (the JIT)
// does not call the hook: it counts its edges itself and hands the counts over before they are read.
import { BRANCH } from '../cpu/constants';
import { type EdgeCountSink, type PendingEdgeCounts, registerInlineHook } from '../cpu/jit/engine';
import type { AddressRange } from './pt-encoder';
import { TraceFormatError } from './trace-error';

export const EDGES_SCHEMA = 'fasmcov-edges@1';

interface Slot {
  to: number;
  kind: number;
  count: number;
  next: Slot | undefined;
}

export interface Edge {
  from: number;
  to: number;
  kind: number;
  count: number;
}

/** The JSON form (`fasmcov-edges@1`): tuples keep multi-million-edge files small. */
export interface EdgesDocument {
  schema: typeof EDGES_SCHEMA;
  /** [from, to, kind, count] */
  edges: Array<[number, number, number, number]>;
  /** [ip, count]: tracing started (or re-entered the traced ranges) at ip. */
  starts: Array<[number, number]>;
  /** [ip, count]: tracing stopped before the instruction at ip (host call, end of run). */
  stops: Array<[number, number]>;
}

export interface EdgeRecorderOptions {
  /** Traced ranges, as for the PT encoder: branches into them from outside count as starts. */
  ranges?: AddressRange[];
}

function bump(map: Map<number, number>, ip: number, n: number): void {
  map.set(ip, (map.get(ip) ?? 0) + n);
}

export class EdgeRecorder implements EdgeCountSink {
  private readonly bySource = new Map<number, Slot>();
  private readonly starts = new Map<number, number>();
  readonly stopCounts = new Map<number, number>();
  private readonly ranges: AddressRange[] | undefined;
  /** Counts gathered by compiled code, not yet added. */
  private readonly pending = new Set<PendingEdgeCounts>();
  readonly hook: (from: number, to: number, kind: number) => void;

  constructor(opts: EdgeRecorderOptions = {}) {
    this.ranges = opts.ranges?.map((r) => ({ start: r.start >>> 0, end: r.end >>> 0 }));
    this.hook = (from, to, kind) => this.branch(from, to, kind);
    // A subclass may depend on the order of the calls (CallStackProfiler): only this class lets
    // compiled code batch them.
    if (new.target === EdgeRecorder) registerInlineHook(this.hook, { edges: this });
  }

  /** Tracing started at ip (counts; branches from outside the ranges into them included). */
  get startCounts(): Map<number, number> {
    this.settle();
    return this.starts;
  }

  attachPending(p: PendingEdgeCounts): void {
    this.pending.add(p);
  }

  detachPending(p: PendingEdgeCounts): void {
    this.pending.delete(p);
  }

  /** Adds the counts compiled code gathered (every read of the counts comes here first). */
  private settle(): void {
    for (const p of this.pending) p.drain();
  }

  inRange(ip: number): boolean {
    const rs = this.ranges;
    if (rs === undefined) return true;
    for (let i = 0; i < rs.length; i++) if (ip >= rs[i].start && ip < rs[i].end) return true;
    return false;
  }

  branch(from: number, to: number, kind: number): void {
    this.addBranches(from, to, kind, 1);
  }

  addBranches(from: number, to: number, kind: number, count: number): void {
    if (this.ranges !== undefined && !this.inRange(from)) {
      if (this.inRange(to)) bump(this.starts, to >>> 0, count);
      return;
    }
    this.add(from >>> 0, to >>> 0, kind, count);
  }

  add(from: number, to: number, kind: number, count: number): void {
    const head = this.bySource.get(from);
    for (let s = head; s !== undefined; s = s.next) {
      if (s.to === to && s.kind === kind) {
        s.count += count;
        return;
      }
    }
    this.bySource.set(from, { to, kind, count, next: head });
  }

  start(ip: number, count = 1): void {
    bump(this.starts, ip >>> 0, count);
  }

  stop(ip: number, count = 1): void {
    bump(this.stopCounts, ip >>> 0, count);
  }

  /** All edges, sorted by source, then destination, then kind. */
  edges(): Edge[] {
    this.settle();
    const out: Edge[] = [];
    for (const [from, head] of this.bySource) {
      for (let s: Slot | undefined = head; s; s = s.next)
        out.push({ from, to: s.to, kind: s.kind, count: s.count });
    }
    return out.sort((a, b) => a.from - b.from || a.to - b.to || a.kind - b.kind);
  }

  /** Taken count (all kinds but COND_NOT_TAKEN) and not-taken count of the branch at `from`. */
  armCounts(from: number): { taken: number; notTaken: number } {
    let taken = 0;
    let notTaken = 0;
    this.settle();
    for (let s = this.bySource.get(from); s; s = s.next) {
      if (s.kind === BRANCH.COND_NOT_TAKEN) notTaken += s.count;
      else taken += s.count;
    }
    return { taken, notTaken };
  }

  merge(other: EdgeRecorder): void {
    for (const e of other.edges()) this.add(e.from, e.to, e.kind, e.count);
    for (const [ip, n] of other.startCounts) bump(this.starts, ip, n);
    for (const [ip, n] of other.stopCounts) bump(this.stopCounts, ip, n);
  }

  toDocument(): EdgesDocument {
    const sorted = (m: Map<number, number>): Array<[number, number]> =>
      [...m].sort((a, b) => a[0] - b[0]).map(([ip, n]) => [ip, n]);
    return {
      schema: EDGES_SCHEMA,
      edges: this.edges().map((e) => [e.from, e.to, e.kind, e.count]),
      starts: sorted(this.startCounts),
      stops: sorted(this.stopCounts),
    };
  }

  static fromDocument(doc: unknown, file?: string): EdgeRecorder {
    const d = doc as Partial<EdgesDocument> | null;
    if (!d || typeof d !== 'object' || d.schema !== EDGES_SCHEMA)
      throw new TraceFormatError(`not a ${EDGES_SCHEMA} document`, file, 0);
    const isU32 = (v: unknown): v is number =>
      Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
    const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    const r = new EdgeRecorder();
    (d.edges ?? []).forEach((t, i) => {
      if (!Array.isArray(t) || !isU32(t[0]) || !isU32(t[1]) || !isU32(t[2]) || !isCount(t[3]))
        throw new TraceFormatError(`bad edge #${i}`, file, 0);
      r.add(t[0], t[1], t[2], t[3]);
    });
    for (const key of ['starts', 'stops'] as const) {
      (d[key] ?? []).forEach((t, i) => {
        if (!Array.isArray(t) || !isU32(t[0]) || !isCount(t[1]))
          throw new TraceFormatError(`bad ${key} entry #${i}`, file, 0);
        bump(key === 'starts' ? r.starts : r.stopCounts, t[0], t[1]);
      });
    }
    return r;
  }
}
