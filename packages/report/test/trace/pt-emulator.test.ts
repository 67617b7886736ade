// Real emulator runs: the CPU's branch hook feeds the PT encoder, the edge recorder and the LBR.
// libipt must decode the trace without error to exactly the instructions the CPU executed in the
// traced range (counted independently by single-stepping), and our decoder, edge recorder and
// per-instruction counts must agree with it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import {
  BRANCH,
  BufferSink,
  Cpu,
  EdgeRecorder,
  LbrRecorder,
  Memory,
  PtEncoder,
  PtTraceWriter,
  TraceSession,
  classifyInstruction,
  readSideband,
  sidebandPath,
} from '@fasmcov/tracer';
import type { AddressRange, LbrEntry } from '@fasmcov/tracer';
import { CodeImage, decodeFlow, instructionCounts } from '@fasmcov/report';
import { expectFlowsMatch, sorted, total } from './helpers/flat-flow';
import { buildOracle, oracleFlow, oracleMissing } from './helpers/ipt-oracle';

const ORG = 0x1000;
const HOST_CALLS = 20;

interface Built {
  dir: string;
  bin: string;
  bytes: Uint8Array;
}

function build(): Built {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-emu-'));
  const bin = path.join(dir, 'sort.bin');
  assemble(path.join(__dirname, 'fixtures', 'sort.asm'), { output: bin });
  return { dir, bin, bytes: new Uint8Array(fs.readFileSync(bin)) };
}

function machine(b: Built): Cpu {
  const mem = new Memory();
  mem.map(ORG, 0x2000);
  mem.map(0x8000, 0x1000);
  mem.writeBytes(ORG, b.bytes);
  const cpu = new Cpu(mem);
  cpu.eip = ORG;
  cpu.interruptHook = () => undefined;
  return cpu;
}

interface Traced {
  trace: Uint8Array;
  traceFile: string;
  edges: EdgeRecorder;
  lbr: LbrRecorder;
  taken: LbrEntry[];
  retired: number;
  hostCalls: number;
}

function tracedRun(b: Built, ranges: AddressRange[], name: string, compress: boolean): Traced {
  const cpu = machine(b);
  const sink = new BufferSink();
  const insnLength = (a: number): number => classifyInstruction((x) => cpu.memory.read8(x), a).length;
  const pt = new PtEncoder(sink, {
    ranges,
    psbInterval: 512,
    retCompression: compress ? { insnLength } : undefined,
  });
  const edges = new EdgeRecorder({ ranges });
  const lbr = new LbrRecorder();
  const taken: LbrEntry[] = [];
  let hostCalls = 0;
  cpu.branchHook = (from, to, kind) => {
    pt.branch(from, to, kind);
    edges.branch(from, to, kind);
    lbr.branch(from, to, kind);
    if (kind !== BRANCH.COND_NOT_TAKEN) taken.push({ from, to, kind });
  };
  cpu.hostCall = () => {
    // The host call itself is outside the trace: stop before it, resume after it.
    hostCalls++;
    pt.disable(cpu.curEip);
    edges.stop(cpu.curEip);
    pt.enable(cpu.eip);
    edges.start(cpu.eip);
  };
  pt.enable(cpu.eip);
  edges.start(cpu.eip);
  expect(cpu.run(1_000_000)).toBe('halt');
  // hlt executed: tracing stops before the instruction after it.
  pt.finish(cpu.eip);
  edges.stop(cpu.eip);
  const trace = sink.toBytes();
  const traceFile = path.join(b.dir, `${name}.pt`);
  fs.writeFileSync(traceFile, trace);
  return { trace, traceFile, edges, lbr, taken, retired: cpu.instructionsRetired, hostCalls };
}

/** Independent count: single-step the same program and count instruction addresses in range. */
function stepCounts(b: Built, ranges: AddressRange[]): Map<number, number> {
  const cpu = machine(b);
  const counts = new Map<number, number>();
  let inHostCall = false;
  cpu.hostCall = () => {
    inHostCall = true;
  };
  for (let i = 0; i < 1_000_000; i++) {
    const ip = cpu.eip;
    inHostCall = false;
    const r = cpu.run(1);
    if (!inHostCall && ranges.some((x) => ip >= x.start && ip < x.end))
      counts.set(ip, (counts.get(ip) ?? 0) + 1);
    if (r === 'halt') return counts;
  }
  throw new Error('program did not halt');
}

const oracle = buildOracle();
if (!oracle) console.warn(`skipping emulator/libipt tests: ${oracleMissing()}`);
const maybe = oracle ? describe : describe.skip;

maybe('PT traces of emulator runs', () => {
  let b: Built;
  beforeAll(() => {
    b = build();
  });

  test.each([
    ['whole program', [{ start: ORG, end: ORG + 0x1000 }], false],
    ['table routines filtered out', [{ start: ORG, end: ORG + 0x100 }], false],
    ['whole program, compressed returns', [{ start: ORG, end: ORG + 0x1000 }], true],
    ['table routines filtered out, compressed returns', [{ start: ORG, end: ORG + 0x100 }], true],
  ])('%s: libipt, our decoder and the recorders agree with single-stepping', (name, ranges, compress) => {
    const run = tracedRun(b, ranges, name.replace(/[ ,]+/g, '-'), compress);
    const expected = stepCounts(b, ranges);
    expect(run.hostCalls).toBe(HOST_CALLS);
    if (ranges[0].end === ORG + 0x1000) expect(total(expected)).toBe(run.retired - HOST_CALLS);

    const image = expectFlowsMatch(run, b.bin, b.bytes, ORG, expected);

    const counts = instructionCounts(run.edges, {
      classify: classifyInstruction,
      read8: image.read8,
      ranges,
    });
    expect(counts.filter((c) => c.count !== 0).map((c) => [c.address, c.count])).toEqual(sorted(expected));

    // The LBR holds the last 32 taken branches, newest first.
    expect(run.lbr.snapshot()).toEqual(run.taken.slice(-32).reverse());
  });

  test('a run written to disk (trace.pt in small chunks + sideband) decodes from the sideband alone', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-run-'));
    fs.copyFileSync(b.bin, path.join(out, 'sort.bin'));
    const cpu = machine(b);
    const w = new PtTraceWriter(out, {
      sections: [{ name: 'sort', address: ORG, size: b.bytes.length, file: 'sort.bin', offset: 0 }],
      ranges: [{ start: ORG, end: ORG + 0x1000 }],
      psbInterval: 256,
      chunkSize: 100,
    });
    const session = new TraceSession({ pt: w.recorder });
    cpu.hostCall = () => undefined;
    session.attach(cpu);
    expect(cpu.run(1_000_000)).toBe('halt');
    expect(session.hostCalls).toBe(HOST_CALLS);
    w.finish(cpu.eip, cpu.instructionsRetired - session.hostCalls);
    expect(fs.statSync(w.tracePath).size).toBe(w.bytes);

    const sb = readSideband(w.sidebandPath);
    const sections = sb.sections.map(
      (s) => `${sidebandPath(w.sidebandPath, s.file)}:${s.offset}:${s.size}:${s.address}`,
    );
    const lib = oracleFlow(sidebandPath(w.sidebandPath, sb.trace), sections);
    expect(lib.errors).toEqual([]);
    expect(lib.instructions).toBe(sb.instructions);
    const image = CodeImage.fromSideband(w.sidebandPath, sb);
    const ours = decodeFlow(new Uint8Array(fs.readFileSync(w.tracePath)), {
      classify: classifyInstruction,
      read8: image.read8,
    });
    expect(ours.errors).toEqual([]);
    expect(ours.instructions).toBe(sb.instructions);
  });

  test('a run that ends in a guest fault: the trace stops at the faulting instruction', () => {
    // mov ecx, 3 / l: dec ecx / jnz l / mov eax, [0x50000000] (unmapped) / hlt
    const code = new Uint8Array([0xb9, 3, 0, 0, 0, 0x49, 0x75, 0xfd, 0xa1, 0, 0, 0, 0x50, 0xf4]);
    const mem = new Memory();
    mem.map(ORG, 0x1000);
    mem.writeBytes(ORG, code);
    const cpu = new Cpu(mem);
    cpu.eip = ORG;
    const sink = new BufferSink();
    const pt = new PtEncoder(sink);
    const edges = new EdgeRecorder();
    cpu.branchHook = (f, t, k) => {
      pt.branch(f, t, k);
      edges.branch(f, t, k);
    };
    pt.enable(ORG);
    edges.start(ORG);
    expect(() => cpu.run(100)).toThrow(/page fault/);
    pt.finish(cpu.eip);
    edges.stop(cpu.eip);
    expect(cpu.eip).toBe(ORG + 8);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-fault-'));
    fs.writeFileSync(path.join(dir, 'code.bin'), code);
    fs.writeFileSync(path.join(dir, 'trace.pt'), sink.toBytes());
    const lib = oracleFlow(path.join(dir, 'trace.pt'), [
      `${path.join(dir, 'code.bin')}:0:${code.length}:${ORG}`,
    ]);
    expect(lib.errors).toEqual([]);
    expect(lib.instructions).toBe(7);
    const image = new CodeImage();
    image.add(ORG, code);
    const ours = decodeFlow(sink.toBytes(), { classify: classifyInstruction, read8: image.read8 });
    expect(ours.errors).toEqual([]);
    expect(ours.instructions).toBe(7);
    expect(ours.edges.toDocument()).toEqual(edges.toDocument());
  });
});
