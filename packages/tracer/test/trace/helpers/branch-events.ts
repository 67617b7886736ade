// Random branch streams for the PT encoder's tests, and the bytes the encoder writes for them
// when fed through its own hook (the reference every other path must match).
import { BRANCH, BufferSink, PtEncoder } from '@fasmcov/tracer';
import type { PtEncoderOptions, PtReplayOptions } from '@fasmcov/tracer';

export const RANGES = [
  { start: 0x1000, end: 0x3000 },
  { start: 0x8000, end: 0x9000 },
];

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface Event {
  from: number;
  to: number;
  kind: number;
}

/** Branch events over both ranges and outside them, with returns to call sites now and then. */
export function events(seed: number, n: number): Event[] {
  const r = rng(seed);
  const out: Event[] = [];
  const calls: number[] = [];
  const addr = (): number =>
    r() < 0.9 ? 0x1000 + Math.floor(r() * 0x2000) : r() < 0.5 ? 0x8000 + Math.floor(r() * 0x1000) : 0x5000;
  for (let i = 0; i < n; i++) {
    const from = addr();
    const x = r();
    if (x < 0.6) out.push({ from, to: addr(), kind: r() < 0.5 ? BRANCH.COND_TAKEN : BRANCH.COND_NOT_TAKEN });
    else if (x < 0.7) {
      calls.push(from + 5);
      out.push({ from, to: addr(), kind: BRANCH.CALL });
    } else if (x < 0.8 && calls.length) out.push({ from, to: calls.pop()!, kind: BRANCH.RET });
    else if (x < 0.9) out.push({ from, to: addr(), kind: BRANCH.JMP_INDIRECT });
    else out.push({ from, to: addr(), kind: r() < 0.5 ? BRANCH.JMP : BRANCH.RET });
  }
  return out;
}

/** Options over RANGES with return compression (every call 5 bytes long). */
export const opts = (extra: PtEncoderOptions = {}): PtEncoderOptions => ({
  ranges: RANGES,
  psbInterval: 256,
  retCompression: { insnLength: () => 5 },
  ...extra,
});

/** The encoder's bytes for `evs` through branch(), tracing on from 0x1000 to the end. */
export function encode(evs: Event[], o: PtEncoderOptions): BufferSink {
  const sink = new BufferSink();
  const pt = new PtEncoder(sink, o);
  pt.enable(0x1000);
  for (const e of evs) pt.branch(e.from, e.to, e.kind);
  pt.finish(0x1000);
  return sink;
}

/** The options of a PtReplay encoding as a PtEncoder with `o` does (the log gives call lengths). */
export const replayOptions = (o: PtEncoderOptions): PtReplayOptions => ({
  ...o,
  retCompression: o.retCompression !== undefined,
});
