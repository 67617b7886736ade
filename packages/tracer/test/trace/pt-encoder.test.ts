// The PT encoder's entry points and sinks against each other: `cond` writes what `branch` writes,
// a FileSink with tiny chunks holds what a BufferSink holds, PSB+ comes at the default interval.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BRANCH, BufferSink, FileSink, PtEncoder, findPsb } from '@fasmcov/tracer';
import type { PtEncoderOptions } from '@fasmcov/tracer';

const RANGES = [
  { start: 0x1000, end: 0x3000 },
  { start: 0x8000, end: 0x9000 },
];

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Event {
  from: number;
  to: number;
  kind: number;
}

/** Branch events over both ranges and outside them, with returns to call sites now and then. */
function events(seed: number, n: number): Event[] {
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

const opts = (extra: PtEncoderOptions = {}): PtEncoderOptions => ({
  ranges: RANGES,
  psbInterval: 256,
  retCompression: { insnLength: () => 5 },
  ...extra,
});

/** What compiled code does with a static branch (Gen.pt), through the TntSink members. */
function viaTntSink(pt: PtEncoder, e: Event): void {
  const inside = pt.on && e.to >= pt.lo && e.to < pt.hi;
  if (e.kind === BRANCH.COND_TAKEN || e.kind === BRANCH.COND_NOT_TAKEN) {
    if (!inside) return pt.branch(e.from, e.to, e.kind);
    const tb = (pt.tntBits << 1) | (e.kind === BRANCH.COND_TAKEN ? 1 : 0);
    if (++pt.tntCount < 6) pt.tntBits = tb;
    else if (pt.tntRoom > 0) {
      pt.tntRoom--;
      pt.sink.buf[pt.sink.pos++] = 0x80 | (tb << 1);
      pt.tntBits = pt.tntCount = 0;
    } else pt.tntFull(tb, e.to);
  } else if (e.kind !== BRANCH.JMP || !inside) pt.branch(e.from, e.to, e.kind);
}

/** An encoder over `sink` with tracing on at 0x1000. */
function started(sink: BufferSink | FileSink): PtEncoder {
  const pt = new PtEncoder(sink, opts());
  pt.enable(0x1000);
  return pt;
}

/** `n` random branch targets in the first range. */
const targets = (r: () => number, n: number): number[] =>
  Array.from({ length: n }, () => 0x1000 + Math.floor(r() * 0x1000));

/** The kind of bit j of n that are all not taken but the last, taken when `last` is 1. */
const passKind = (j: number, n: number, last: number): number =>
  j === n - 1 && last ? BRANCH.COND_TAKEN : BRANCH.COND_NOT_TAKEN;

function encodeInto(evs: Event[], o: PtEncoderOptions, tntSink: boolean, sink: BufferSink | FileSink): void {
  const pt = new PtEncoder(sink, o);
  pt.enable(0x1000);
  for (const e of evs) {
    if (tntSink) viaTntSink(pt, e);
    else pt.branch(e.from, e.to, e.kind);
  }
  pt.finish(0x1000);
}

function encode(evs: Event[], o: PtEncoderOptions, tntSink: boolean): BufferSink {
  const sink = new BufferSink();
  encodeInto(evs, o, tntSink, sink);
  return sink;
}

describe('PtEncoder entry points and sinks', () => {
  test.each([1, 2, 3])('the TntSink path writes what branch(from, to, kind) writes (seed %i)', (seed) => {
    const evs = events(seed, 5000);
    const viaBranch = encode(evs, opts(), false).toBytes();
    const viaCond = encode(evs, opts(), true).toBytes();
    expect(viaBranch.length).toBeGreaterThan(1000);
    expect(Buffer.from(viaCond).equals(Buffer.from(viaBranch))).toBe(true);
  });

  test('the TntSink path into a FileSink in 64-byte chunks: the same bytes', () => {
    const evs = events(11, 20000);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-sink-')), 'trace.pt');
    const fileSink = new FileSink(file, 64);
    encodeInto(evs, opts(), true, fileSink);
    fileSink.close();
    const inMemory = encode(evs, opts(), false).toBytes();
    expect(fileSink.length).toBe(inMemory.length);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(inMemory))).toBe(true);
  });

  test.each([false, true])('a FileSink in 64-byte chunks holds the same bytes (long TNT %s)', (longTnt) => {
    const evs = events(7, 20000);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-sink-')), 'trace.pt');
    const fileSink = new FileSink(file, 64);
    const pt = new PtEncoder(fileSink, opts({ longTnt }));
    pt.enable(0x1000);
    for (const e of evs) pt.branch(e.from, e.to, e.kind);
    pt.finish(0x1000);
    fileSink.close();
    const inMemory = encode(evs, opts({ longTnt }), false).toBytes();
    expect(fileSink.length).toBe(inMemory.length);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(inMemory))).toBe(true);
  });

  test.each([false, true])(
    "tntLoop (a compiled loop's counted passes) writes what the passes' branches write (FileSink %s)",
    (toFile) => {
      const r = rng(5);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-loop-'));
      const sinks = (name: string): BufferSink | FileSink =>
        toFile ? new FileSink(path.join(dir, name), 64) : new BufferSink();
      const a = sinks('a.pt');
      const b = sinks('b.pt');
      const byBranch = started(a);
      const byLoop = started(b);
      for (let round = 0; round < 400; round++) {
        // A pass: n - 1 branches not taken, then the back-edge (taken when conditional).
        const n = 1 + Math.floor(r() * 9);
        const last = r() < 0.7 ? 1 : 0;
        const tos = targets(r, n);
        const passes = r() < 0.2 ? Math.floor(r() * 3000) : Math.floor(r() * 20);
        const prefix = Math.floor(r() * (last ? n : n + 1));
        for (let p = 0; p < passes; p++)
          for (let j = 0; j < n; j++) byBranch.branch(0x1800, tos[j], passKind(j, n, last));
        for (let j = 0; j < prefix; j++) byBranch.branch(0x1800, tos[j], BRANCH.COND_NOT_TAKEN);
        byLoop.tntLoop(passes, prefix, n, last, tos);
        // Something between loops: an indirect jump (a TIP), sometimes.
        if (r() < 0.3) {
          const to = 0x1000 + Math.floor(r() * 0x1000);
          byBranch.branch(0x1800, to, BRANCH.JMP_INDIRECT);
          byLoop.branch(0x1800, to, BRANCH.JMP_INDIRECT);
        }
      }
      byBranch.finish(0x1000);
      byLoop.finish(0x1000);
      const bytes = (s: BufferSink | FileSink, name: string): Buffer => {
        if (s instanceof BufferSink) return Buffer.from(s.toBytes());
        s.close();
        return fs.readFileSync(path.join(dir, name));
      };
      const want = bytes(a, 'a.pt');
      expect(want.length).toBeGreaterThan(10000);
      expect(bytes(b, 'b.pt').equals(want)).toBe(true);
    },
  );

  test("tntSpill (a block's static bits appended at once) writes what the branches write", () => {
    const r = rng(9);
    const a = new BufferSink();
    const b = new BufferSink();
    const byBranch = started(a);
    const byBlock = started(b);
    for (let round = 0; round < 20000; round++) {
      // n - 1 branches not taken, then the exit: taken or not.
      const n = 1 + Math.floor(r() * 5);
      const last = r() < 0.5 ? 1 : 0;
      const tos = targets(r, n);
      tos.forEach((to, j) => byBranch.branch(0x1800, to, passKind(j, n, last)));
      // What compiled code does (Gen.ptAppend).
      byBlock.tntBits = (byBlock.tntBits << n) | last;
      byBlock.tntCount += n;
      if (byBlock.tntCount >= 6) byBlock.tntSpill(tos);
      if (r() < 0.05) {
        byBranch.branch(0x1800, 0x1234, BRANCH.JMP_INDIRECT);
        byBlock.branch(0x1800, 0x1234, BRANCH.JMP_INDIRECT);
      }
    }
    byBranch.finish(0x1000);
    byBlock.finish(0x1000);
    expect(a.length).toBeGreaterThan(10000);
    expect(Buffer.from(b.toBytes()).equals(Buffer.from(a.toBytes()))).toBe(true);
  });

  test('the default PSB interval is 16 KiB of trace', () => {
    const sink = new BufferSink();
    const pt = new PtEncoder(sink);
    pt.enable(0x1000);
    // Indirect jumps alternating between two 64 KiB pages: a 5-byte TIP each.
    for (let i = 0; i < 40000; i++) pt.branch(0x1000, i % 2 ? 0x20000 : 0x30000, BRANCH.JMP_INDIRECT);
    pt.finish(0x1000);
    const b = sink.toBytes();
    const psbs: number[] = [];
    for (let at = findPsb(b, 0); at >= 0; at = findPsb(b, at + 1)) psbs.push(at);
    expect(psbs.length).toBeGreaterThanOrEqual(4);
    // The interval is checked after each packet: a PSB comes within one TIP of it.
    for (let k = 1; k < psbs.length; k++) {
      expect(psbs[k] - psbs[k - 1]).toBeGreaterThanOrEqual(16 * 1024);
      expect(psbs[k] - psbs[k - 1]).toBeLessThan(16 * 1024 + 5);
    }
  });
});
