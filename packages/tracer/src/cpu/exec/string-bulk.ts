import type { Cpu } from '../cpu';
import type { Memory } from '../memory';

/** String instruction kinds (shared with exec/string.ts). */
export const STR = { MOVS: 0, CMPS: 1, STOS: 2, LODS: 3, SCAS: 4 } as const;

/** Tunables: tests turn the bulk path off to compare it with one iteration at a time. */
export const STRING_TUNING = { bulk: true };
/** Iterations run by the bulk path (tests check that it was taken). */
export const STRING_STATS = { bulkIterations: 0 };

/**
 * Iterations (at most `max`) whose `size`-byte accesses, starting at `addr` and moving by `step`,
 * all stay on addr's page; 0 when the first access already crosses the page end.
 */
function fit(addr: number, size: number, step: number, max: number): number {
  const off = addr & 4095;
  if (off + size > 4096) return 0;
  const k = step > 0 ? ((4096 - off) / size) | 0 : ((off / size) | 0) + 1;
  return k < max ? k : max;
}

/** Page offset of the lowest byte touched by k iterations starting at `addr`. */
function lowOffset(addr: number, size: number, step: number, k: number): number {
  return step > 0 ? addr & 4095 : (addr & 4095) - (k - 1) * size;
}

/** Little-endian unsigned value of `size` bytes at `off` (which does not cross the page end). */
function readLE(pg: Uint8Array, off: number, size: number): number {
  if (size === 1) return pg[off];
  if (size === 2) return pg[off] | (pg[off + 1] << 8);
  return (pg[off] | (pg[off + 1] << 8) | (pg[off + 2] << 16) | (pg[off + 3] << 24)) >>> 0;
}

/**
 * Runs up to `max` iterations of a rep-prefixed string instruction with 32-bit addresses directly
 * on the page arrays, stopping where an access would leave a page (or find it unmapped or
 * read-only). Updates esi/edi (and eax for lods, the flags for scas/cmps) but not ecx. Returns the
 * iterations done; 0 means the caller must run one iteration the ordinary way (which raises any
 * fault with the registers as after the last completed iteration).
 */
export function repBulk(
  cpu: Cpu,
  kind: number,
  size: number,
  step: number,
  max: number,
  rep: number,
): number {
  switch (kind) {
    case STR.MOVS:
      return movsBulk(cpu, size, step, max);
    case STR.STOS:
      return stosBulk(cpu, size, step, max);
    case STR.LODS:
      return lodsBulk(cpu, size, step, max);
    case STR.SCAS:
      return scasBulk(cpu, size, step, max, rep === 0xf3);
    default:
      return cmpsBulk(cpu, size, step, max, rep === 0xf3);
  }
}

function movsBulk(cpu: Cpu, size: number, step: number, max: number): number {
  const regs = cpu.regs;
  const si = regs[6] >>> 0;
  const di = regs[7] >>> 0;
  const k = fit(di, size, step, fit(si, size, step, max));
  if (k === 0) return 0;
  const mem = cpu.memory;
  const src = mem.pageForRead(si);
  if (src === null) return 0;
  const len = k * size;
  const dLo = lowOffset(di, size, step, k);
  const dst = mem.pageForWrite(((di & ~4095) + dLo) >>> 0, len);
  if (dst === null) return 0;
  const sLo = lowOffset(si, size, step, k);
  if (src !== dst) dst.set(src.subarray(sLo, sLo + len), dLo);
  else if (sLo + len <= dLo || dLo + len <= sLo) dst.copyWithin(dLo, sLo, sLo + len);
  // Overlapping (e.g. a forward movsb one byte up replicating a pattern): in iteration order.
  else copyInOrder(dst, si & 4095, di & 4095, size, step, k);
  regs[6] = si + k * step;
  regs[7] = di + k * step;
  return k;
}

/** Element by element as the one-by-one loop does: each element read whole, then written. */
function copyInOrder(pg: Uint8Array, s: number, d: number, size: number, step: number, k: number): void {
  for (let j = 0; j < k; j++, s += step, d += step) {
    const v = readLE(pg, s, size);
    for (let b = 0; b < size; b++) pg[d + b] = v >>> (8 * b);
  }
}

function stosBulk(cpu: Cpu, size: number, step: number, max: number): number {
  const regs = cpu.regs;
  const di = regs[7] >>> 0;
  const k = fit(di, size, step, max);
  if (k === 0) return 0;
  const len = k * size;
  const lo = lowOffset(di, size, step, k);
  const mem = cpu.memory;
  const dst = mem.pageForWrite(((di & ~4095) + lo) >>> 0, len);
  if (dst === null) return 0;
  fill(mem, dst, di, lo, len, size, cpu.getReg(size, 0));
  regs[7] = di + k * step;
  return k;
}

/** Fills bytes [lo, lo+len) of the page holding `addr` with copies of the `size`-byte value v. */
function fill(
  mem: Memory,
  pg: Uint8Array,
  addr: number,
  lo: number,
  len: number,
  size: number,
  v: number,
): void {
  if (size === 1) pg.fill(v, lo, lo + len);
  else if (size === 2 && (lo & 1) === 0) mem.pageWords(addr).fill(v, lo >> 1, (lo + len) >> 1);
  else if (size === 4 && (lo & 3) === 0) mem.pageDwords(addr).fill(v | 0, lo >> 2, (lo + len) >> 2);
  else for (let x = 0; x < len; x++) pg[lo + x] = v >>> (8 * (x % size));
}

function lodsBulk(cpu: Cpu, size: number, step: number, max: number): number {
  const regs = cpu.regs;
  const si = regs[6] >>> 0;
  const k = fit(si, size, step, max);
  if (k === 0) return 0;
  const src = cpu.memory.pageForRead(si);
  if (src === null) return 0;
  // Only the last load is visible.
  cpu.setReg(size, 0, readLE(src, (si & 4095) + (k - 1) * step, size));
  regs[6] = si + k * step;
  return k;
}

function scasBulk(cpu: Cpu, size: number, step: number, max: number, whileEqual: boolean): number {
  const regs = cpu.regs;
  const di = regs[7] >>> 0;
  const k = fit(di, size, step, max);
  if (k === 0) return 0;
  const pg = cpu.memory.pageForRead(di);
  if (pg === null) return 0;
  const a = cpu.getReg(size, 0);
  let off = di & 4095;
  let b = 0;
  let j = 0;
  while (j < k) {
    b = readLE(pg, off, size);
    off += step;
    j++;
    if ((a === b) !== whileEqual) break;
  }
  cpu.sub(a, b, 0, size);
  regs[7] = di + j * step;
  return j;
}

function cmpsBulk(cpu: Cpu, size: number, step: number, max: number, whileEqual: boolean): number {
  const regs = cpu.regs;
  const si = regs[6] >>> 0;
  const di = regs[7] >>> 0;
  const k = fit(di, size, step, fit(si, size, step, max));
  if (k === 0) return 0;
  const mem = cpu.memory;
  const ps = mem.pageForRead(si);
  const pd = mem.pageForRead(di);
  if (ps === null || pd === null) return 0;
  let s = si & 4095;
  let d = di & 4095;
  let a = 0;
  let b = 0;
  let j = 0;
  while (j < k) {
    a = readLE(ps, s, size);
    b = readLE(pd, d, size);
    s += step;
    d += step;
    j++;
    if ((a === b) !== whileEqual) break;
  }
  cpu.sub(a, b, 0, size);
  regs[6] = si + j * step;
  regs[7] = di + j * step;
  return j;
}
