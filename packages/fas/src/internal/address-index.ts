import type { DumpRows } from './dump';
import { DumpFlag } from './dump';

/**
 * Byte length of every dump row: the distance in the output file to the next row, or (for
 * virtual and not-in-output rows, whose output offsets mean nothing) the distance in `$` to the
 * next row of the same kind. `isHeaderLine(i)` marks rows whose bytes are the file format's
 * header (the `format` directive), which get length 0 so that they never count as code.
 */
export function rowLengths(rows: DumpRows, isHeaderLine: (row: number) => boolean): Uint32Array {
  const n = rows.count;
  const len = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const nextOut = i + 1 < n ? rows.outputOffset[i + 1] : rows.endOffset;
    if (rows.flags[i] === 0) {
      const d = nextOut - rows.outputOffset[i];
      len[i] = d > 0 && !isHeaderLine(i) ? d : 0;
    } else if (
      i + 1 < n &&
      rows.flags[i + 1] === rows.flags[i] &&
      rows.relativeTo[i + 1] === rows.relativeTo[i] &&
      rows.addressHi[i + 1] === rows.addressHi[i]
    ) {
      const d = rows.addressLo[i + 1] - rows.addressLo[i];
      len[i] = d > 0 ? d : 0;
    }
  }
  return len;
}

/** Rows that put bytes in the output, sorted by (section key, address): for address lookups. */
export interface AddressIndex {
  rows: Uint32Array;
  key: Float64Array;
  address: Float64Array;
}

export function rowAddress(rows: DumpRows, i: number): number {
  return rows.addressHi[i] * 0x100000000 + rows.addressLo[i];
}

export function buildAddressIndex(rows: DumpRows, len: Uint32Array): AddressIndex {
  let n = 0;
  const sel = new Uint32Array(rows.count);
  for (let i = 0; i < rows.count; i++) {
    if (len[i] > 0 && (rows.flags[i] & DumpFlag.virtual) === 0) sel[n++] = i;
  }
  const order = sel.slice(0, n);
  // Rows of one section mostly come in ascending address order: sort only when they do not.
  let sorted = true;
  for (let k = 1; k < n && sorted; k++) sorted = cmp(rows, order[k - 1], order[k]) <= 0;
  if (!sorted) order.sort((a, b) => cmp(rows, a, b) || a - b);
  const key = new Float64Array(n);
  const address = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    key[k] = rows.relativeTo[order[k]];
    address[k] = rowAddress(rows, order[k]);
  }
  return { rows: order, key, address };
}

function cmp(rows: DumpRows, a: number, b: number): number {
  return rows.relativeTo[a] - rows.relativeTo[b] || rowAddress(rows, a) - rowAddress(rows, b);
}

/** The row whose bytes cover `address` in the space `key`, or -1. */
export function lookup(ix: AddressIndex, len: Uint32Array, key: number, address: number): number {
  let lo = 0;
  let hi = ix.rows.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ix.key[mid] < key || (ix.key[mid] === key && ix.address[mid] <= address)) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Walk back over rows starting at the same place (e.g. overlapping `org`) to the first cover.
  for (let k = best; k >= 0 && ix.key[k] === key && address - ix.address[k] < 0x100000000; k--) {
    if (address < ix.address[k] + len[ix.rows[k]]) {
      let first = k;
      while (first > 0 && ix.key[first - 1] === key && ix.address[first - 1] === ix.address[k]) first--;
      return ix.rows[first];
    }
    if (k < best - 64) break;
  }
  return -1;
}

/** Rows written to the output file (not virtual, length > 0), sorted by output offset. */
export function buildOutputIndex(rows: DumpRows, len: Uint32Array): Uint32Array {
  const sel = new Uint32Array(rows.count);
  let n = 0;
  for (let i = 0; i < rows.count; i++) if (rows.flags[i] === 0 && len[i] > 0) sel[n++] = i;
  const ix = sel.subarray(0, n);
  let sorted = true;
  for (let k = 1; k < ix.length && sorted; k++)
    sorted = rows.outputOffset[ix[k - 1]] <= rows.outputOffset[ix[k]];
  if (!sorted) ix.sort((a, b) => rows.outputOffset[a] - rows.outputOffset[b] || a - b);
  return ix;
}
