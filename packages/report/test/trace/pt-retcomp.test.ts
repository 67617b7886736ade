// Return compression on real emulator runs of fixtures/retaddr.asm: a `ret` to the instruction
// after its call is one TNT bit; a `ret` anywhere else (the guest moved, dropped or replaced its
// return address) is a TIP; `call $+5` does not count as a call; recursion deeper than the
// 64-entry stack falls back to TIPs. libipt and our decoder must follow every case.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble, FasFile } from '@fasmcov/fas';
import {
  BufferSink,
  Cpu,
  EdgeRecorder,
  LastIp,
  Memory,
  PtEncoder,
  classifyInstruction,
} from '@fasmcov/tracer';
import { dumpPackets } from '@fasmcov/report';
import { expectFlowsMatch } from './helpers/flat-flow';
import { buildOracle, oracleMissing } from './helpers/ipt-oracle';

const ORG = 0x1000;
const ROUNDS = 6;
const DEPTH = 70;

interface Built {
  dir: string;
  bin: string;
  bytes: Uint8Array;
  at: (label: string) => number;
}

function build(): Built {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-retcomp-'));
  const bin = path.join(dir, 'retaddr.bin');
  const fasPath = path.join(dir, 'retaddr.fas');
  assemble(path.join(__dirname, 'fixtures', 'retaddr.asm'), { output: bin, symbols: fasPath });
  const fas = FasFile.read(fasPath);
  const at = (label: string): number => {
    const s = fas.symbol(label);
    if (!s) throw new Error(`no label ${label}`);
    return s.address;
  };
  return { dir, bin, bytes: new Uint8Array(fs.readFileSync(bin)), at };
}

function machine(b: Built): Cpu {
  const mem = new Memory();
  mem.map(ORG, 0x1000);
  mem.map(0x8000, 0x1000);
  mem.writeBytes(ORG, b.bytes);
  const cpu = new Cpu(mem);
  cpu.eip = ORG;
  return cpu;
}

interface Traced {
  trace: Uint8Array;
  traceFile: string;
  edges: EdgeRecorder;
}

function tracedRun(b: Built, compress: boolean, psbInterval?: number): Traced {
  const cpu = machine(b);
  const sink = new BufferSink();
  const insnLength = (a: number): number => classifyInstruction((x) => cpu.memory.read8(x), a).length;
  const pt = new PtEncoder(sink, { psbInterval, retCompression: compress ? { insnLength } : undefined });
  const edges = new EdgeRecorder();
  cpu.branchHook = (from, to, kind) => {
    pt.branch(from, to, kind);
    edges.branch(from, to, kind);
  };
  pt.enable(cpu.eip);
  edges.start(cpu.eip);
  expect(cpu.run(1_000_000)).toBe('halt');
  pt.finish(cpu.eip);
  edges.stop(cpu.eip);
  const trace = sink.toBytes();
  const traceFile = path.join(b.dir, `retaddr-${compress}-${psbInterval ?? 'default'}.pt`);
  fs.writeFileSync(traceFile, trace);
  return { trace, traceFile, edges };
}

/** Instructions executed, per address, by single-stepping (independent of any trace). */
function stepCounts(b: Built): Map<number, number> {
  const cpu = machine(b);
  const counts = new Map<number, number>();
  for (let i = 0; i < 1_000_000; i++) {
    const ip = cpu.eip;
    const r = cpu.run(1);
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
    if (r === 'halt') return counts;
  }
  throw new Error('program did not halt');
}

/** How many TIP packets name each target address. */
function tipTargets(trace: Uint8Array): Map<number, number> {
  const last = new LastIp();
  const out = new Map<number, number>();
  for (const { packet: p } of dumpPackets(trace).packets) {
    if (p.type === 'psb') last.reset();
    if (!('ipBytes' in p) || !last.update(p.ipBytes, p.ipLow, p.ipHigh) || p.type !== 'tip') continue;
    out.set(last.low, (out.get(last.low) ?? 0) + 1);
  }
  return out;
}

let b: Built;
beforeAll(() => {
  b = build();
});

describe('return compression in the encoder', () => {
  test('returns to the call site are TNT bits; moved, dropped and replaced returns are TIPs', () => {
    const tips = tipTargets(tracedRun(b, true).trace);
    const n = (label: string): number => tips.get(b.at(label)) ?? 0;
    // Compressed: the plain call, and getip's return (its `call $+5` pushed nothing).
    expect(n('plain_site')).toBe(0);
    expect(n('getip_site')).toBe(0);
    // Not to the call site: `skip` returns 2 bytes further, `elsewhere` to the address it pushed.
    expect(n('skip_target')).toBe(ROUNDS);
    expect(n('elsewhere_target')).toBe(ROUNDS);
    // Indirect jumps back to the call sites (drop, elsewhere) are TIPs anyway.
    expect(n('drop_site')).toBe(ROUNDS);
    expect(n('elsewhere_site')).toBe(ROUNDS);
    // Recursion: the 64 innermost returns are compressed; the outer DEPTH - 64 fell off the stack.
    expect(n('recurse_bottom')).toBe((DEPTH - 64 - 1) * ROUNDS);
    expect(n('recurse_site')).toBe(ROUNDS);
  });

  test('without it every return is a TIP', () => {
    const tips = tipTargets(tracedRun(b, false).trace);
    const n = (label: string): number => tips.get(b.at(label)) ?? 0;
    expect(n('plain_site')).toBe(ROUNDS);
    expect(n('getip_site')).toBe(ROUNDS);
    expect(n('recurse_bottom')).toBe((DEPTH - 1) * ROUNDS);
  });
});

const oracle = buildOracle();
if (!oracle) console.warn(`skipping return-compression oracle tests: ${oracleMissing()}`);
const maybe = oracle ? describe : describe.skip;

maybe('libipt and our decoder follow every return', () => {
  test.each([
    [true, undefined],
    [true, 64],
    [false, undefined],
  ])('compression %s, PSB interval %s', (compress, psbInterval) => {
    const run = tracedRun(b, compress, psbInterval);
    const expected = stepCounts(b);

    expectFlowsMatch(run, b.bin, b.bytes, ORG, expected);
  });
});
