// Intel's libipt as the oracle: our packets must decode identically with its packet decoder, and
// traces of simulated runs must decode with its instruction-flow decoder without error, to the
// instruction counts and edges the run produced, and to the same result as our own flow decoder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BufferSink,
  EdgeRecorder,
  PtEncoder,
  writePacket,
  SIDEBAND_SCHEMA,
  writeSideband,
} from '@fasmcov/tracer';
import type { PtPacket } from '@fasmcov/tracer';
import { CodeImage, decodeFlow, dumpPackets, instructionCounts } from '@fasmcov/report';
import { buildOracle, oracleFlow, oracleMissing, runOracle } from './helpers/ipt-oracle';
import { icedClassify } from './helpers/iced-classifier';
import { buildWalkProgram, ORIGIN, rng, walk } from './helpers/walk';
import type { WalkProgram } from './helpers/walk';

const oracle = buildOracle();
if (!oracle) console.warn(`skipping libipt oracle tests: ${oracleMissing()}`);
const maybe = oracle ? describe : describe.skip;

function randomPacket(r: () => number): PtPacket {
  const int = (n: number): number => Math.floor(r() * n);
  const u32 = (): number => int(2 ** 32);
  switch (int(12)) {
    case 0:
      return { type: 'pad' };
    case 1:
      return { type: 'psbend' };
    case 2: {
      const count = 1 + int(6);
      return { type: 'tnt', long: false, count, bits: int(2 ** count) };
    }
    case 3: {
      const count = 1 + int(47);
      return { type: 'tnt', long: true, count, bits: int(2 ** count) };
    }
    case 4:
    case 5: {
      const types = ['tip', 'tip-pge', 'tip-pgd', 'fup'] as const;
      const ipBytes = [0, 1, 2, 3, 4, 6][int(6)];
      const size = [0, 2, 4, 6, 6, 0, 8][ipBytes];
      const low = size >= 4 ? u32() : size === 2 ? int(65536) : 0;
      const high = size === 8 ? u32() : size === 6 ? int(65536) : 0;
      return { type: types[int(4)], ipBytes, ipLow: low, ipHigh: high };
    }
    case 6:
      return { type: 'mode-exec', csl: r() < 0.5, csd: r() < 0.5 };
    case 7:
      return { type: 'mode-tsx', intx: r() < 0.5, abrt: r() < 0.5 };
    case 8:
      return { type: 'cbr', ratio: int(256) };
    case 9:
      return { type: 'tsc', low: u32(), high: int(2 ** 24) };
    case 10:
      return { type: 'mtc', ctc: int(256) };
    default:
      return { type: 'cyc', value: int(2 ** 40) };
  }
}

/** Our packet in the oracle's notation. */
function oracleLine(p: PtPacket): string {
  const h = (n: number): string => n.toString(16);
  const h64 = (low: number, high: number): string =>
    (BigInt(high) * 2n ** 32n + BigInt(low >>> 0)).toString(16);
  switch (p.type) {
    case 'tnt':
      return `tnt ${p.count} ${h(p.bits)}`;
    case 'tip':
    case 'tip-pge':
    case 'tip-pgd':
    case 'fup':
      return `${p.type} ${p.ipBytes} ${h64(p.ipLow, p.ipHigh)}`;
    case 'mode-exec':
      return `mode-exec ${+p.csl} ${+p.csd}`;
    case 'mode-tsx':
      return `mode-tsx ${+p.intx} ${+p.abrt}`;
    case 'cbr':
      return `cbr ${p.ratio}`;
    case 'tsc':
      return `tsc ${h64(p.low, p.high)}`;
    case 'mtc':
      return `mtc ${p.ctc}`;
    case 'cyc':
      return `cyc ${p.value}`;
    default:
      return p.type;
  }
}

function tmpFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-pt-'));
  return path.join(dir, name);
}

maybe('libipt packet decoder agrees with our packets', () => {
  test.each([1, 2, 3, 4, 5])('random packet sequence, seed %i', (seed) => {
    const r = rng(seed);
    const packets: PtPacket[] = [{ type: 'psb' }];
    for (let i = 0; i < 400; i++) packets.push(r() < 0.03 ? { type: 'psb' } : randomPacket(r));
    const sink = new BufferSink();
    const offsets: number[] = [];
    for (const p of packets) {
      offsets.push(sink.length);
      writePacket(sink, p);
    }
    const file = tmpFile('random.pt');
    fs.writeFileSync(file, sink.toBytes());
    const expected = packets.map((p, i) => `${offsets[i]} ${oracleLine(p)}`);
    expect(runOracle(['pkt', file]).trim().split('\n')).toEqual(expected);
    // And our decoder reads back what was written, at the same offsets.
    const ours = dumpPackets(sink.toBytes());
    expect(ours.errors).toEqual([]);
    expect(ours.packets.map((p) => `${p.offset} ${oracleLine(p.packet)}`)).toEqual(expected);
  });
});

interface Run {
  prog: WalkProgram;
  trace: Uint8Array;
  traceFile: string;
  edges: EdgeRecorder;
  instructions: number;
  perIp: Map<number, number>;
}

function run(
  prog: WalkProgram,
  seed: number,
  steps: number,
  psbInterval: number,
  faultRate: number,
  compress = false,
  longTnt = false,
): Run {
  const ranges = [{ start: ORIGIN, end: prog.tracedEnd }];
  const sink = new BufferSink();
  const insnLength = (a: number): number => icedClassify(prog.read8, a).length;
  const pt = new PtEncoder(sink, {
    ranges,
    psbInterval,
    retCompression: compress ? { insnLength } : undefined,
    longTnt,
  });
  const edges = new EdgeRecorder({ ranges });
  const res = walk(
    prog,
    {
      branch: (f, t, k) => {
        pt.branch(f, t, k);
        edges.branch(f, t, k);
      },
      start: (ip) => {
        pt.enable(ip);
        edges.start(ip);
      },
      stop: (ip) => {
        pt.disable(ip);
        edges.stop(ip);
      },
    },
    { seed, steps, faultRate },
  );
  pt.finish(0);
  const trace = sink.toBytes();
  const traceFile = path.join(prog.dir, `walk-${seed}.pt`);
  fs.writeFileSync(traceFile, trace);
  return { prog, trace, traceFile, edges, instructions: res.instructions, perIp: res.perIp };
}

const sorted = (m: Map<number, number>): Array<[number, number]> => [...m].sort((a, b) => a[0] - b[0]);

maybe('the checked vector', () => {
  test('libipt decodes it to 8 instructions, the jnz taken twice and not taken once', () => {
    const dir = path.dirname(tmpFile('x'));
    const trace = path.join(dir, 'vector.pt');
    const code = path.join(dir, 'vector.bin');
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { ranges: [{ start: 0x1000, end: 0x1009 }] });
    pt.enable(0x1000);
    pt.branch(0x1006, 0x1005, 1);
    pt.branch(0x1006, 0x1005, 1);
    pt.branch(0x1006, 0x1008, 2);
    pt.branch(0x1008, 0x2000, 7);
    fs.writeFileSync(trace, sink.toBytes());
    fs.writeFileSync(code, new Uint8Array([0xb9, 0x03, 0x00, 0x00, 0x00, 0x49, 0x75, 0xfd, 0xc3]));
    const lib = oracleFlow(trace, [`${code}:0:9:0x1000`]);
    expect(lib.errors).toEqual([]);
    expect(lib.instructions).toBe(8);
    expect([...lib.edges].sort()).toEqual([
      [`${0x1006}>${0x1005}`, 2],
      [`${0x1006}>${0x1008}`, 1],
      [`${0x1008}>${0x2000}`, 1],
    ]);
  });
});

maybe('simulated runs decode with libipt and with ours to the same flow', () => {
  let prog: WalkProgram;
  beforeAll(() => {
    prog = buildWalkProgram();
  });

  test.each([
    [1, 3000, 4096, 0, false, false],
    [2, 20000, 256, 0.01, false, false],
    [3, 50000, 64, 0.002, false, false],
    [4, 5000, 100000, 0.05, false, false],
    [5, 20000, 4096, 0, true, false],
    [6, 30000, 128, 0.01, true, false],
    [8, 30000, 512, 0.005, true, true],
  ])(
    'seed %i, %i steps, PSB every %i bytes, fault rate %f, ret compression %s, long TNT %s',
    (seed, steps, psbInterval, faultRate, compress, longTnt) => {
      const r = run(prog, seed, steps, psbInterval, faultRate, compress, longTnt);
      expect(r.instructions).toBeGreaterThan(steps / 4);
      // Compressed returns make the same run's trace smaller.
      if (compress)
        expect(r.trace.length).toBeLessThan(run(prog, seed, steps, psbInterval, faultRate).trace.length);

      const lib = oracleFlow(r.traceFile, [`${prog.binFile}:0:${prog.bytes.length}:${ORIGIN}`]);
      expect(lib.errors).toEqual([]);
      expect(lib.instructions).toBe(r.instructions);
      expect(sorted(lib.perIp)).toEqual(sorted(r.perIp));

      const image = new CodeImage();
      image.add(ORIGIN, prog.bytes);
      const ours = decodeFlow(r.trace, { classify: icedClassify, read8: image.read8 });
      expect(ours.errors).toEqual([]);
      expect(ours.instructions).toBe(r.instructions);
      expect(ours.edges.toDocument()).toEqual(r.edges.toDocument());

      // Edges as libipt saw them (its transfers) match the recorder's edges (kinds aside).
      const recorded = new Map<string, number>();
      for (const e of r.edges.edges())
        recorded.set(`${e.from}>${e.to}`, (recorded.get(`${e.from}>${e.to}`) ?? 0) + e.count);
      expect([...lib.edges].sort()).toEqual([...recorded].sort());

      // Per-instruction counts rebuilt from edges alone equal libipt's.
      const ranges = [{ start: ORIGIN, end: prog.tracedEnd }];
      const counts = instructionCounts(r.edges, { classify: icedClassify, read8: image.read8, ranges });
      expect(counts.filter((c) => c.count !== 0).map((c) => [c.address, c.count])).toEqual(sorted(lib.perIp));
    },
  );

  test('a trace cut at a PSB decodes from there with both decoders, to the same counts', () => {
    const r = run(prog, 7, 20000, 512, 0);
    const psbs = dumpPackets(r.trace).packets.filter((p) => p.packet.type === 'psb');
    expect(psbs.length).toBeGreaterThan(4);
    const cut = r.trace.subarray(psbs[3].offset);
    const file = tmpFile('cut.pt');
    fs.writeFileSync(file, cut);
    const lib = oracleFlow(file, [`${prog.binFile}:0:${prog.bytes.length}:${ORIGIN}`]);
    expect(lib.errors).toEqual([]);
    const image = new CodeImage();
    image.add(ORIGIN, prog.bytes);
    const ours = decodeFlow(cut, { classify: icedClassify, read8: image.read8 });
    expect(ours.errors).toEqual([]);
    expect(ours.instructions).toBe(lib.instructions);
    expect(ours.instructions).toBeLessThan(r.instructions);
  });

  test('the sideband file describes the image libipt needs', () => {
    const r = run(prog, 9, 2000, 4096, 0);
    const sbFile = path.join(prog.dir, 'walk.sideband.json');
    writeSideband(sbFile, {
      schema: SIDEBAND_SCHEMA,
      trace: path.basename(r.traceFile),
      mode: 32,
      ranges: [{ start: ORIGIN, end: prog.tracedEnd }],
      sections: [{ name: 'walk', address: ORIGIN, size: prog.bytes.length, file: 'walk.bin', offset: 0 }],
      instructions: r.instructions,
    });
    const image = CodeImage.fromSideband(sbFile);
    const ours = decodeFlow(r.trace, { classify: icedClassify, read8: image.read8 });
    expect(ours.instructions).toBe(r.instructions);
  });
});
