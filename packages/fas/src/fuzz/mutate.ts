import { FasFile } from '../fas-file';
import { FasFormatError } from '../errors';

/** Small deterministic PRNG (mulberry32), so that a failing case is reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE = [
  0, 1, 2, 3, 4, 16, 28, 32, 64, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

function dword(rnd: () => number, len: number): number {
  const r = rnd();
  if (r < 0.5) return EDGE[Math.floor(rnd() * EDGE.length)];
  if (r < 0.75) return Math.floor(rnd() * (len + 64)) >>> 0;
  return Math.floor(rnd() * 0x100000000) >>> 0;
}

function put32(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 4 > b.length) return;
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** One mutation of a valid `.fas` image: truncation, byte flips, or edge values in fields. */
export function mutate(src: Uint8Array, rnd: () => number): { data: Uint8Array; what: string } {
  const kind = Math.floor(rnd() * 5);
  if (kind === 0) {
    const n = Math.floor(rnd() * src.length);
    return { data: src.slice(0, n), what: `truncate to ${n}` };
  }
  const b = src.slice();
  const view = new DataView(b.buffer);
  const part = (at: number) =>
    at + 8 <= b.length ? [view.getUint32(at, true), view.getUint32(at + 4, true)] : [0, 0];
  if (kind === 1) {
    const flips: number[] = [];
    for (let k = 1 + Math.floor(rnd() * 8); k > 0; k--) {
      const at = Math.floor(rnd() * b.length);
      b[at] ^= 1 << Math.floor(rnd() * 8);
      flips.push(at);
    }
    return { data: b, what: `flip bytes at ${flips.join(',')}` };
  }
  if (kind === 2) {
    // A header field: names, part offsets and lengths (4..60), or the header length word.
    const at = 4 + 4 * Math.floor(rnd() * 15);
    const v = dword(rnd, b.length);
    if (at === 4) b[6 + Math.floor(rnd() * 2)] = v & 0xff;
    else put32(b, at, v);
    return { data: b, what: `header field +${at} = 0x${v.toString(16)}` };
  }
  // A field inside a part: symbol records, preprocessed line headers or dump rows.
  const [off, len] = part(kind === 3 ? 24 : 32 + 8 * Math.floor(rnd() * 2));
  if (len === 0 || off >= b.length) return { data: b, what: 'no-op' };
  const at = off + 4 * Math.floor((rnd() * Math.min(len, b.length - off)) / 4);
  const v = dword(rnd, b.length);
  put32(b, at, v);
  return { data: b, what: `dword at 0x${at.toString(16)} = 0x${v.toString(16)}` };
}

/** Parses and runs every query; returns the error thrown, if any. */
export function exercise(name: string, data: Uint8Array): unknown {
  try {
    const f = FasFile.parse(name, data, { cwd: '/nonexistent' });
    f.summary();
    for (const s of f.symbols) f.locate(s.lineIndex);
    for (let i = 0; i < f.rowCount; i++) {
      const r = f.row(i);
      f.locate(r.lineIndex);
      f.rowAt({ section: r.section, offset: r.address });
      f.rowAtOutputOffset(r.outputOffset);
    }
    for (let i = 0; i < f.lineCount; i++) f.lineText(i);
    return undefined;
  } catch (e) {
    return e;
  }
}

export interface FuzzFailure {
  case: number;
  what: string;
  problem: string;
}

export interface FuzzResult {
  cases: number;
  parsed: number;
  rejected: number;
  failures: FuzzFailure[];
  slowestMs: number;
}

const MESSAGE = /^[^:]+: offset 0x[0-9a-f]+: [^:]+: .+/;

/**
 * Runs `count` mutations of the given images. A case fails when the parse throws anything but a
 * single `FasFormatError` with a file/offset/field message, or takes longer than `boundMs`.
 */
export function fuzz(seeds: Uint8Array[], count: number, seed: number, boundMs = 2000): FuzzResult {
  const rnd = prng(seed);
  const res: FuzzResult = { cases: count, parsed: 0, rejected: 0, failures: [], slowestMs: 0 };
  for (let i = 0; i < count; i++) {
    const src = seeds[i % seeds.length];
    const { data, what } = mutate(src, rnd);
    const t0 = performance.now();
    const err = exercise(`case${i}.fas`, data);
    const ms = performance.now() - t0;
    res.slowestMs = Math.max(res.slowestMs, ms);
    if (ms > boundMs) res.failures.push({ case: i, what, problem: `took ${ms.toFixed(0)} ms` });
    if (err === undefined) res.parsed++;
    else if (
      err instanceof FasFormatError &&
      MESSAGE.test(err.message) &&
      err.message.startsWith(`case${i}.fas: `)
    ) {
      res.rejected++;
    } else {
      const problem = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      res.failures.push({ case: i, what, problem });
    }
  }
  return res;
}
