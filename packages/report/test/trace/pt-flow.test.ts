// Our PT flow decoder on the checked vector, and on damaged streams: it must report the damage
// (offset and packet), resume at the next PSB, and never throw or hang.
import {
  BRANCH,
  BufferSink,
  PtEncoder,
  SIDEBAND_SCHEMA,
  umkaInstructionCounts,
  umkaTableFromEdges,
} from '@fasmcov/tracer';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeImage, PtFileSource, decodeFlow, dumpPackets, instructionCounts } from '@fasmcov/report';
import { icedClassify } from './helpers/iced-classifier';
import { buildWalkProgram, ORIGIN, rng, walk } from './helpers/walk';
import type { WalkProgram } from './helpers/walk';
import { EdgeRecorder } from '@fasmcov/tracer';

const VECTOR = Buffer.from(
  '02820282028202820282028202820282' + '0223' + '9902' + '5100100000' + '1c' + '4100200000',
  'hex',
);
const VECTOR_CODE = new Uint8Array([0xb9, 0x03, 0x00, 0x00, 0x00, 0x49, 0x75, 0xfd, 0xc3]);

function vectorImage(): CodeImage {
  const img = new CodeImage();
  img.add(0x1000, VECTOR_CODE);
  return img;
}

describe('PT flow decoder', () => {
  test('the checked vector decodes to 8 instructions: mov, 3 x (dec, jnz), ret', () => {
    const r = decodeFlow(new Uint8Array(VECTOR), { classify: icedClassify, read8: vectorImage().read8 });
    expect(r.errors).toEqual([]);
    expect(r.instructions).toBe(8);
    expect(r.edges.edges()).toEqual([
      { from: 0x1006, to: 0x1005, kind: BRANCH.COND_TAKEN, count: 2 },
      { from: 0x1006, to: 0x1008, kind: BRANCH.COND_NOT_TAKEN, count: 1 },
      { from: 0x1008, to: 0x2000, kind: BRANCH.RET, count: 1 },
    ]);
    const counts = instructionCounts(r.edges, {
      classify: icedClassify,
      read8: vectorImage().read8,
      ranges: [{ start: 0x1000, end: 0x1009 }],
    });
    expect(counts.map((c) => [c.mnemonic, c.count, c.taken, c.notTaken])).toEqual([
      ['mov', 1, undefined, undefined],
      ['dec', 3, undefined, undefined],
      ['jne', 3, 2, 1],
      ['ret', 1, 1, undefined],
    ]);
  });

  test('a packet that does not fit the code is reported at its offset, not guessed', () => {
    const bad = Buffer.from(VECTOR);
    bad[25] = 0x2d; // a TIP where the jnz needs TNT bits
    bad[26] = 0x08;
    const r = decodeFlow(new Uint8Array(bad), { classify: icedClassify, read8: vectorImage().read8 });
    expect(r.errors.length).toBe(1);
    expect(r.errors[0]).toMatchObject({ code: 'bad-query', offset: 25, packet: 'tip', ip: 0x1006 });
    expect(r.errors[0].message).toMatch(/TIP where the jne at 0x00001006 needs a TNT bit at trace offset 25/);
  });

  test('code missing from the image is reported as nomap', () => {
    const img = new CodeImage();
    img.add(0x1000, VECTOR_CODE.subarray(0, 6));
    const r = decodeFlow(new Uint8Array(VECTOR), { classify: icedClassify, read8: img.read8 });
    expect(r.errors[0]).toMatchObject({ code: 'nomap', packet: 'tnt' });
  });

  test('no PSB at all: nosync', () => {
    const r = decodeFlow(new Uint8Array([0x00, 0x1c, 0x00]), {
      classify: icedClassify,
      read8: vectorImage().read8,
    });
    expect(r.errors).toMatchObject([{ code: 'nosync', offset: 0 }]);
    expect(r.instructions).toBe(0);
  });
});

describe('damaged traces of simulated runs', () => {
  let prog: WalkProgram;
  let trace: Uint8Array;
  let image: CodeImage;
  let total: number;
  let psbOffsets: number[];
  beforeAll(() => {
    prog = buildWalkProgram();
    image = new CodeImage();
    image.add(ORIGIN, prog.bytes);
    const sink = new BufferSink();
    const pt = new PtEncoder(sink, { ranges: [{ start: ORIGIN, end: prog.tracedEnd }], psbInterval: 256 });
    const res = walk(
      prog,
      { branch: pt.hook, start: (ip) => pt.enable(ip), stop: (ip) => pt.disable(ip) },
      { seed: 11, steps: 20000, faultRate: 0.005 },
    );
    pt.finish(0);
    trace = sink.toBytes();
    total = res.instructions;
    psbOffsets = dumpPackets(trace)
      .packets.filter((p) => p.packet.type === 'psb')
      .map((p) => p.offset);
  });
  const decode = (b: Uint8Array): ReturnType<typeof decodeFlow> =>
    decodeFlow(b, { classify: icedClassify, read8: image.read8 });

  test('the undamaged trace decodes in full', () => {
    const r = decode(trace);
    expect(r.errors).toEqual([]);
    expect(r.instructions).toBe(total);
  });

  test('truncated anywhere: decodes up to the cut, reports at most an eos, never throws', () => {
    for (let cut = 0; cut < trace.length; cut += 191) {
      const r = decode(trace.subarray(0, cut));
      expect(r.instructions).toBeLessThanOrEqual(total);
      for (const e of r.errors) expect(['eos', 'nosync']).toContain(e.code);
    }
  });

  test('flipped bytes: errors name offset and packet, decoding resumes at the next PSB', () => {
    const random = rng(5);
    for (let round = 0; round < 80; round++) {
      const b = trace.slice();
      const at = Math.floor(random() * b.length);
      b[at] ^= 1 + Math.floor(random() * 255);
      const r = decode(b);
      for (const e of r.errors) {
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(b.length);
        expect(e.message).toMatch(/offset/);
      }
      if (r.errors.length > 0) {
        // Everything after the PSB that follows the damage decodes: the decoder resynchronised.
        const nextPsb = psbOffsets.find((o) => o > at + 16);
        if (nextPsb !== undefined) {
          const tail = decode(trace.subarray(nextPsb));
          expect(tail.errors).toEqual([]);
          expect(r.instructions).toBeGreaterThanOrEqual(tail.instructions);
        }
      }
    }
  });

  test('decoding from a file through a small sliding window gives the same results', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-src-'));
    const random = rng(13);
    for (let round = 0; round < 12; round++) {
      const b = trace.slice(0, round % 3 === 2 ? Math.floor(random() * trace.length) : trace.length);
      if (round % 3 === 1) for (let k = 0; k < 3; k++) b[Math.floor(random() * b.length)] ^= 0x5a;
      const file = path.join(dir, `t${round}.pt`);
      fs.writeFileSync(file, b);
      const src = new PtFileSource(file, 17 + round * 13);
      const fromFile = decodeFlow(src, { classify: icedClassify, read8: image.read8 });
      src.close();
      const inMemory = decode(b);
      expect(fromFile.errors).toEqual(inMemory.errors);
      expect(fromFile.instructions).toBe(inMemory.instructions);
      expect(fromFile.edges.toDocument()).toEqual(inMemory.edges.toDocument());
    }
  });

  test('random bytes: terminates with errors, no exception', () => {
    const random = rng(9);
    for (let round = 0; round < 50; round++) {
      const b = new Uint8Array(2000);
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256);
      // Plant PSBs so the decoder gets past synchronisation.
      for (const at of [0, 700, 1400]) b.set(VECTOR.subarray(0, 18), at);
      const r = decode(b);
      expect(r.errors.length).toBeGreaterThan(0);
    }
  });
});

describe("UMKa's running count agrees with the walk", () => {
  test('per-instruction counts and branch arms from the UMKa table equal the executed counts', () => {
    const prog = buildWalkProgram();
    const ranges = [{ start: ORIGIN, end: prog.tracedEnd }];
    const edges = new EdgeRecorder({ ranges });
    let lastStop = -1;
    const res = walk(
      prog,
      {
        branch: edges.hook,
        start: (ip) => edges.start(ip),
        stop: (ip) => {
          edges.stop(ip);
          lastStop = ip;
        },
      },
      { seed: 21, steps: 30000 },
    );
    const t = umkaTableFromEdges(edges, ORIGIN);
    const addrs = [...res.perIp.keys()].sort((a, b) => a - b);
    const insns = addrs.map((a) => {
      const i = icedClassify(prog.read8, a);
      return { offset: a - ORIGIN, length: i.length, conditional: i.conditional };
    });
    const umka = umkaInstructionCounts(t, insns);
    addrs.forEach((a, k) => {
      // UMKa counts the instruction a stop happened at (a host call, the end) as executed.
      const extra = a === lastStop ? 1 : 0;
      expect([a, umka[k].count]).toEqual([a, res.perIp.get(a)! + extra]);
      if (insns[k].conditional) {
        const arms = edges.armCounts(a);
        expect([a, umka[k].taken, umka[k].notTaken]).toEqual([a, arms.taken, arms.notTaken + extra]);
      }
    });
    expect(SIDEBAND_SCHEMA).toBe('fasmcov-sideband@1');
  });
});
