// UMKa's native coverage file: a table with one entry per byte offset from the start of the
// covered code, each entry two little-endian uint64 counts, `to` (branches arriving at the byte)
// then `from` (taken branches leaving the instruction at the byte). Its reader sums the tables
// of several runs and derives per-instruction counts from a listing with a running count.
import { BRANCH } from '../cpu/constants';
import type { EdgeRecorder } from './edges';
import { TraceFormatError } from './trace-error';

/** Entries in UMKa's table (its tools use a fixed 512 Ki entries: 8 MiB per file). */
export const UMKA_TABLE_ENTRIES = 512 * 1024;
const ENTRY = 16;

export interface UmkaTable {
  to: Float64Array;
  from: Float64Array;
}

/**
 * Builds the table from edge counts, for code starting at guest address `base`. Starts count as
 * arrivals and stops as departures, which keeps the running count right (a host call shows as
 * executed once the run re-enters after it). Addresses outside the table are left out, as UMKa does.
 */
export function umkaTableFromEdges(
  edges: EdgeRecorder,
  base: number,
  entries = UMKA_TABLE_ENTRIES,
): UmkaTable {
  const t: UmkaTable = { to: new Float64Array(entries), from: new Float64Array(entries) };
  const at = (ip: number): number => {
    const off = ip - base;
    return off >= 0 && off < entries ? off : -1;
  };
  for (const e of edges.edges()) {
    if (e.kind === BRANCH.COND_NOT_TAKEN) continue;
    const f = at(e.from);
    const d = at(e.to);
    if (f >= 0) t.from[f] += e.count;
    if (d >= 0) t.to[d] += e.count;
  }
  for (const [ip, n] of edges.startCounts) if (at(ip) >= 0) t.to[at(ip)] += n;
  for (const [ip, n] of edges.stopCounts) if (at(ip) >= 0) t.from[at(ip)] += n;
  return t;
}

export function writeUmkaTable(t: UmkaTable): Uint8Array {
  const buf = new Uint8Array(t.to.length * ENTRY);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < t.to.length; i++) {
    if (t.to[i]) view.setBigUint64(i * ENTRY, BigInt(t.to[i]), true);
    if (t.from[i]) view.setBigUint64(i * ENTRY + 8, BigInt(t.from[i]), true);
  }
  return buf;
}

export function readUmkaTable(bytes: Uint8Array, file?: string): UmkaTable {
  if (bytes.length % ENTRY !== 0)
    throw new TraceFormatError(
      `UMKa coverage size ${bytes.length} is not a multiple of ${ENTRY}`,
      file,
      bytes.length,
    );
  const n = bytes.length / ENTRY;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t: UmkaTable = { to: new Float64Array(n), from: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    for (const [k, arr] of [
      [0, t.to],
      [8, t.from],
    ] as const) {
      const v = view.getBigUint64(i * ENTRY + k, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER))
        throw new TraceFormatError('count too large', file, i * ENTRY + k);
      arr[i] = Number(v);
    }
  }
  return t;
}

export interface UmkaInstruction {
  /** Offset of the instruction from the table's base. */
  offset: number;
  length: number;
  conditional: boolean;
}

export interface UmkaCounts {
  count: number;
  taken?: number;
  notTaken?: number;
}

/**
 * Per-instruction counts from a table, instructions in address order: a running count grows by
 * the arrivals at each instruction's bytes and shrinks by the departures after it.
 */
export function umkaInstructionCounts(t: UmkaTable, insns: UmkaInstruction[]): UmkaCounts[] {
  let running = 0;
  return insns.map((ins) => {
    let to = 0;
    let from = 0;
    for (let i = ins.offset; i < ins.offset + ins.length && i < t.to.length; i++) {
      to += t.to[i];
      from += t.from[i];
    }
    running += to;
    const c: UmkaCounts = { count: running };
    if (ins.conditional) {
      c.taken = from;
      c.notTaken = running - from;
    }
    running -= from;
    return c;
  });
}
